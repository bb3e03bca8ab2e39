"""A user's model everywhere a built-in one goes: a card naming its builder, a registered
name, `efftheory run` and `efftheory sweep`; bad input answered with what to change."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import pytest
import user_models

import efftheory as et
from efftheory._cli import main
from efftheory.models._cards import (
    ModelCardError,
    builder_parameters,
    load_card,
    load_card_model,
    load_model,
)
from efftheory.sampling import _api

TESTS = Path(__file__).resolve().parent
TINY_CLI = ["--n-max", "100", "--num-rungs", "3", "--chains", "2", "--warmup", "30",
            "--draws", "30", "--set", "chunk_size=30"]
TINY = dict(n_max=100.0, num_rungs=3, chains=2, warmup=30, draws=30, chunk_size=30)


def _card(folder: Path, builder: str = "user_models:crossing", body: str = "",
          name: str = "user-crossing", file: str = "card.toml") -> Path:
    path = folder / file
    path.write_text(f'name = "{name}"\nbuilder = "{builder}"\n{body}')
    return path


CROSSING = """[parameters]
exponent = 2
[[known_values]]
label = "normal crossing w1^2 w2^4"
learning_coefficient = "1/4"
multiplicity = 1
reference = "Watanabe (2009), Sec. 2.4"
"""


@pytest.fixture(autouse=True)
def _clean_registry():
    yield
    for name in et.registered_models():
        et.unregister_model(name)


# ------------------------------------------------------------------------- cards


def test_card_naming_a_builder_builds_the_users_model(tmp_path):
    path = _card(tmp_path, body=CROSSING)
    loaded = load_card_model(path)
    model, card = loaded.model, loaded.card
    assert isinstance(model, et.FunctionModel) and model.num_params == 2
    assert card.builder == "user_models:crossing"
    assert card.parameters == {"exponent": 2} and card.num_params == 2
    assert not card.exact_available
    assert float(model.population_loss(jnp.array([3.0, 2.0]))) == 9.0 * 16.0  # w1^2 w2^4
    assert builder_parameters(path) == {"exponent", "prior_scale"}
    # Overrides go to the builder as keywords; a changed parameter drops the known value.
    changed = load_card_model(path, exponent=1).card
    assert changed.parameters == {"exponent": 1} and changed.known_values == ()
    assert card.known_values[0].learning_coefficient == 0.25


@pytest.mark.parametrize("builder, body, named", [
    ("models.py:crossing", "", ["not a builder path", "package.module:function"]),
    ("no_such_module_efftheory:build", "", ["cannot be imported", "PYTHONPATH"]),
    ("user_models:crosing", "", ["has no attribute 'crosing'", "spelling"]),
    ("user_models:NOT_A_FUNCTION", "", ["not a function (it is of type int)"]),
    ("crossing", "", ["unknown builder 'crossing'", "'package.module:function'"]),
    ("user_models:crossing", "[parameters]\nexponnent = 2\n",
     ["'parameters.exponnent' is not a parameter", "exponent", "prior_scale"]),
    ("user_models:needs_width", "", ["'parameters.width' is missing", "user_models:needs_width"]),
    ("user_models:crossing", "[exact]\navailable = true\nreason = 'x'\n",
     ["'exact.available'", "available = false"]),
])
def test_bad_card_names_the_field_and_the_fix(tmp_path, builder, body, named):
    path = _card(tmp_path, builder, body)
    with pytest.raises(ModelCardError) as error:
        load_card(path)
    message = str(error.value)
    assert str(path) in message and all(part in message for part in named), message


def test_bad_builder_results_name_the_fix(tmp_path):
    with pytest.raises(ModelCardError, match=r"returned a dict, not an efftheory\."
                                             r"PartitionFunction.*FunctionModel"):
        load_model(_card(tmp_path, "user_models:not_a_model"))
    path = _card(tmp_path, body="[parameters]\nexponent = 0\n")
    with pytest.raises(ModelCardError, match="rejected the parameters.*exponent must be"):
        load_model(path)
    with pytest.raises(ModelCardError, match="'override exponnent' is not a parameter"):
        load_model(_card(tmp_path), exponnent=3)
    declared = _card(tmp_path, body="num_params = 3\n")
    with pytest.raises(ModelCardError, match="declares 3 but the built model has 2"):
        load_model(declared)


# ------------------------------------------------------------------------- registry


def test_registered_name_works_like_a_card():
    et.register_model("my-crossing", user_models.crossing, parameters={"exponent": 3},
                      summary="w1^2 w2^6")
    card = et.load_card_model("my-crossing", prior_scale=2.0).card
    assert card.builder == "user_models:crossing"
    assert card.parameters == {"exponent": 3, "prior_scale": 2.0}
    assert et.registered_models() == ["my-crossing"]
    # The same builder again (a notebook cell run twice) replaces; another is refused.
    et.register_model("my-crossing", user_models.crossing)
    with pytest.raises(ValueError, match="already registered for user_models:crossing"):
        et.register_model("my-crossing", user_models.needs_width)
    with pytest.raises(ValueError, match="built-in model card"):
        et.register_model("regular-10", user_models.crossing)
    with pytest.raises(ModelCardError, match="'parameters width' is missing"):
        et.register_model("wide", user_models.needs_width)
    with pytest.raises(ModelCardError, match="must be numbers, strings"):
        et.register_model("odd", user_models.crossing, parameters={"exponent": object()})
    et.unregister_model("my-crossing")
    with pytest.raises(ModelCardError, match="register_model"):
        et.load_model("my-crossing")


# ------------------------------------------------------------------ run and sweep


def _environment() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(TESTS.parent), str(TESTS), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture(scope="module")
def user_study(tmp_path_factory):
    """`efftheory run CARD` in a fresh process, on a card naming `user_models:crossing`."""
    folder = tmp_path_factory.mktemp("user-study")
    card = _card(folder, body=CROSSING)
    out = folder / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "efftheory._cli", "run", str(card), "--out", str(out),
         *TINY_CLI], capture_output=True, text=True, timeout=600, env=_environment())
    assert completed.returncode == 0, completed.stderr
    return card, out


def test_run_command_studies_a_user_card(user_study):
    card, out = user_study
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"]["card_metadata"]["builder"] == "user_models:crossing"
    assert summary["kernel_eigenvalues"] is None and summary["crossovers"] == []
    row = summary["rungs"][-1]
    assert row["learning_coefficient"] is not None and row["free_energy"] is not None
    assert row["geometric: normal crossing w1^2 w2^4"] == 0.25
    # No column of blanks: the predictions this model cannot support are named instead.
    assert not any(key.startswith(("effective_", "quenched_")) for key in row)
    absent = {entry["name"]: entry["why"] for entry in summary["theory_absent"]}
    assert set(absent) == {"effective prediction and kernel spectrum",
                           "quenched prior average", "crossovers"}
    assert "FunctionModel" in absent["quenched prior average"]
    assert summary["effective_comparison"]["all_within"] is None
    report = (out / "report.md").read_text()
    assert "built by `user_models:crossing`" in report
    assert "## Measurement" in report and "## Not computed for this model" in report
    assert "## Effective prediction" not in report
    for name in ("spectrum.png", "learning_coefficient.png", "free_energy.png"):
        assert (out / name).is_file()


def test_rerun_with_another_builder_or_parameter_refuses(user_study, tmp_path, monkeypatch):
    """The builder's path and parameters identify the run: neither may change silently."""
    card, out = user_study
    monkeypatch.setattr(_api, "run_chunk", lambda *a, **k: pytest.fail("sampled"))
    with pytest.raises(ValueError, match="model parameter exponent: 2 -> 1"):
        et.run_study(str(card), out, overrides={"exponent": 1}, **TINY)
    user_models.crossing_alias = user_models.crossing  # the same function, another path
    twin = _card(tmp_path, "user_models:crossing_alias", CROSSING)
    with pytest.raises(ValueError, match="model builder: 'user_models:crossing' -> "
                                         "'user_models:crossing_alias'"):
        et.run_study(str(twin), out, **TINY)


@pytest.mark.slow  # a spawned worker importing JAX and compiling two models: about a minute
def test_sweep_command_runs_a_user_card_and_a_registered_name(tmp_path, capsys):
    """One spawned worker runs both: the card's builder by import, the registered name
    registered again there from its builder's module."""
    card = _card(tmp_path, body=CROSSING)
    et.register_model("registered-crossing", user_models.crossing,
                      parameters={"exponent": 1})
    grid = tmp_path / "grid.toml"
    grid.write_text(f'[grid]\ncard = ["{card}", "registered-crossing"]\n[fixed]\n'
                    + "".join(f"{key} = {value!r}\n" for key, value in TINY.items()))
    assert main(["sweep", str(grid), "--out", str(tmp_path / "sweep"), "--workers", "1"]) == 0
    assert "2 ran, 0 already done, 0 failed" in capsys.readouterr().out
    rows = et.read_sweep(tmp_path / "sweep")
    assert sorted(row["model"]["card"] for row in rows) == sorted(
        [str(card), "registered-crossing"])
    assert all(row["model"]["card_metadata"]["builder"] == "user_models:crossing"
               for row in rows)


def test_registrations_reach_a_worker_by_their_builders_path():
    """What `sweep` hands each worker (`execute_run`) re-registers the name there by import;
    the slow test above runs it in a spawned process."""
    from efftheory.models._registry import portable_registrations, restore_registrations

    et.register_model("carried", user_models.crossing, parameters={"exponent": 2})
    carried = portable_registrations(["carried", "regular-10", "card.toml"])
    assert carried == {"carried": {"builder": "user_models:crossing",
                                   "parameters": {"exponent": 2}, "summary": ""}}
    et.unregister_model("carried")  # as in a fresh worker process
    restore_registrations(carried)
    assert et.load_card_model("carried").card.parameters == {"exponent": 2}


def test_sweep_refuses_a_registration_workers_cannot_import(tmp_path):
    def local_builder(exponent: int = 1):
        return user_models.crossing(exponent)

    et.register_model("local", local_builder)
    with pytest.raises(ValueError, match="inside a function.*cannot import"):
        et.sweep({"card": ["local"]}, out=tmp_path, fixed=TINY)
    assert not any(tmp_path.iterdir())
