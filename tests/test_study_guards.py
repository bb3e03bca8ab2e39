"""`efftheory run` on every shipped card (issue 16, item 4) and the study's input checks."""

import pytest

import efftheory as et
from efftheory._cli import main
from efftheory.models._cards import ModelCardError, card_paths, load_card
from efftheory.study._guards import load_study_model

CARDS = sorted(card_paths())
# Three builders run in every CI run (about 12 s each, compilation); every card, the
# two-layer ones included, runs with -m slow. Every card's model is built above regardless.
EVERY_RUN = {"dln-three-layer", "normal-crossing-w1w2", "polynomial-machine-15"}
TINY = ["--n-min", "1", "--n-max", "10", "--num-rungs", "3", "--chains", "1", "--warmup",
        "4", "--draws", "4", "--set", "chunk_size=4", "--set", "max_tree_depth=2",
        "--set", "kmax=9"]
TWO_LAYER_TINY = ["--override", "width=1"]


@pytest.mark.parametrize("card", CARDS)
def test_every_card_builds_for_a_study(card):
    """The study passes n_max only to builders that take it, and the card's declared
    parameter count is checked on that path."""
    config = et.study_config(card, n_max=100.0)
    model = load_study_model(config).model
    if config.overrides.get("form") == "collapsed":  # the preset integrates the readout out
        assert model.num_params == model.network.num_params - model.network.width
        assert model.network.num_params == load_card(card).num_params
    else:
        assert model.num_params == load_card(card).num_params


def test_declared_parameter_count_is_checked_with_n_max(tmp_path):
    source = card_paths()["learning-zero-small"].read_text()
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(source.replace("num_params = 32", "num_params = 31"))
    with pytest.raises(ModelCardError, match="num_params"):
        load_study_model(et.study_config(str(wrong), n_max=100.0))


def test_n_max_override_is_refused():
    """n_max is set once, by the ladder: an override that disagrees is refused naming both
    values; one that agrees changes nothing."""
    with pytest.raises(ModelCardError, match=r"n_max=5 disagrees with the ladder's "
                                             r"n_max=1000000\.0.*--n-max"):
        load_study_model(et.study_config("learning-zero-small", overrides={"n_max": 5}))
    agreeing = load_study_model(et.study_config("learning-zero-small", n_max=100.0,
                                                overrides={"n_max": 100.0})).model
    plain = load_study_model(et.study_config("learning-zero-small", n_max=100.0)).model
    assert agreeing.quadrature.num_nodes == plain.quadrature.num_nodes
    assert agreeing.trustworthy_n == plain.trustworthy_n


@pytest.mark.parametrize("card", [pytest.param(card, marks=() if card in EVERY_RUN
                                               else pytest.mark.slow) for card in CARDS])
def test_run_command_on_every_card(card, tmp_path, capsys):
    extra = TWO_LAYER_TINY if load_card(card).builder == "two_layer" else []
    status = main(["run", card, "--out", str(tmp_path), *TINY, *extra])
    printed = capsys.readouterr()
    assert status == 0, printed.err
    assert "diagnostic: " in printed.out  # four draws: every diagnostic fails, printed once
    assert (tmp_path / "report.md").is_file()


@pytest.mark.parametrize("setting, value", [("chunk_size", "abc"), ("chains", 2.5),
                                            ("draws", True), ("target_accept_prob", 1.5),
                                            ("n_max", float("inf")), ("kmax", 0)])
def test_bad_study_settings_are_named(setting, value):
    with pytest.raises(ValueError, match=setting):
        et.study_config("min-abs", **{setting: value})
