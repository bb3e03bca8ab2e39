import dataclasses
from pathlib import Path

import jax
import numpy as np
import pytest

from efftheory import exact
from efftheory.models._card_parsing import catalogue_value
from efftheory.models._cards import (
    ModelCardError,
    card_paths,
    format_model_table,
    list_models,
    load_card,
    load_card_model,
    load_model,
)
from efftheory.models._models import ModeAmplitudesUnavailable

REQUIRED = {"learning-zero-256", "learning-zero-small", "learning-zero-circle", "regular-10",
            "normal-crossing-w1w2", "rrr-main-even", "rrr-main-odd", "rrr-wide-output",
            "rrr-wide-input", "rrr-wide-hidden", "dln-three-layer", "polynomial-machine-15",
            "min-abs"}


def test_required_cards_exist():
    assert REQUIRED <= set(card_paths())


@pytest.mark.parametrize("name", sorted(REQUIRED | {"normal-crossing-w1-w2sq"}))
def test_every_card_loads_and_matches_its_declarations(name):
    loaded = load_card_model(name, **({"n_max": 1e4} if load_card(name).builder == "two_layer"
                                      else {}))
    model, card = loaded.model, loaded.card
    assert model.num_params == card.num_params == load_card(name).num_params
    position = model.sample_prior(jax.random.PRNGKey(0))
    assert np.isfinite(float(model.population_loss(position)))
    assert np.isfinite(float(model.potential_energy(position, 100.0)))
    for known in card.known_values:
        assert known.reference and known.label
        if known.catalogue:
            rlct = catalogue_value(known, card.parameters)
            assert (rlct.learning_coefficient, rlct.multiplicity) == (
                known.learning_coefficient, known.multiplicity)
    assert exact.has_exact_reference(model) == card.exact_available
    try:
        model.mode_amplitudes(position, 3)
    except ModeAmplitudesUnavailable as error:
        assert str(error)


def test_learning_zero_256_records_both_values():
    card = load_card("learning-zero-256")
    assert card.num_params == 256 and card.parameters["width"] == 128
    values = {str(v.learning_coefficient): v for v in card.known_values}
    assert "generic" in values["64"].label and "global" in values["130/23"].label
    assert "Gaussian" in values["130/23"].note


def test_polynomial_machine_rlct_derivation():
    known = load_card("polynomial-machine-15").known_values[0]
    assert (str(known.learning_coefficient), known.multiplicity) == ("5/2", 11)


def test_overrides_are_validated_and_recompute_known_values():
    small = load_card_model("learning-zero-small", width=4)
    assert small.model.num_params == 8 == small.card.num_params
    values = {v.label: v for v in small.card.known_values}
    assert values["global RLCT (origin), Aoyagi-Watanabe"].learning_coefficient == 1
    assert values["global RLCT (origin), Aoyagi-Watanabe"].multiplicity == 2
    with pytest.raises(ModelCardError, match=r"learning-zero-small\.toml.*width"):
        load_model("learning-zero-small", width=0)
    with pytest.raises(ModelCardError, match="depth"):
        load_model("learning-zero-small", depth=3)
    collapsed = load_model("learning-zero-small", width=2, form="collapsed", n_max=1e4)
    assert collapsed.num_params == 2 and exact.has_exact_reference(collapsed)


def _write(tmp_path, name, text):
    path = Path(tmp_path) / name
    path.write_text(text)
    return path


GOOD = """
name = "tiny"
builder = "two_layer"
num_params = 8
source = "test"
[parameters]
width = 4
[exact]
available = false
reason = "test"
"""


@pytest.mark.parametrize(("edit", "field"), [
    (lambda s: s.replace('source = "test"\n', ""), "source"),
    (lambda s: s.replace("num_params = 8", 'num_params = "8"'), "num_params"),
    (lambda s: s.replace('"two_layer"', '"three_layer"'), "builder"),
    (lambda s: s.replace("width = 4", "width = 0"), "parameters.width"),
    (lambda s: s.replace("width = 4", "width = 4\nheight = 2"), "parameters.height"),
    (lambda s: s.replace("available = false", "available = 1"), "exact.available"),
    (lambda s: s + '[[known_values]]\nlabel = "x"\nlearning_coefficient = "a/b"\n'
               'multiplicity = 1\nreference = "r"\n', "known_values"),
])
def test_malformed_cards_name_file_and_field(tmp_path, edit, field):
    path = _write(tmp_path, "tiny.toml", edit(GOOD))
    with pytest.raises(ModelCardError) as error:
        load_model(path)
    assert "tiny.toml" in str(error.value) and field in str(error.value)


def test_declared_parameter_count_is_checked(tmp_path):
    path = _write(tmp_path, "tiny.toml", GOOD.replace("num_params = 8", "num_params = 9"))
    with pytest.raises(ModelCardError, match="num_params.*9.*8"):
        load_model(path)


def test_listing():
    rows = {row["name"]: row for row in list_models()}
    assert rows["learning-zero-256"]["num_params"] == 256
    assert any(v["learning_coefficient"] == 64 for v in rows["learning-zero-256"]["known_values"])
    table = format_model_table()
    assert "polynomial-machine-15" in table and "130/23" in table
    assert dataclasses.is_dataclass(load_card("min-abs"))


def test_overrides_outside_a_formula_drop_its_known_values():
    # tanh_zero_rlct depends on the width only: a width override recomputes it...
    values = {v.label: v
              for v in load_card_model("learning-zero-small", width=4).card.known_values}
    assert any(v.learning_coefficient == 1 and v.multiplicity == 2 for v in values.values())
    # ...but another activation leaves the formula's hypotheses (relu units without bias
    # are rank 2, so not even H/2 holds): nothing is claimed.
    assert load_card_model("learning-zero-small", activation="relu").card.known_values == ()
    # A different parameterization of the same model keeps them.
    assert len(load_card_model("learning-zero-small", form="collapsed").card.known_values) == 2
