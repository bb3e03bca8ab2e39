"""A study with mode cutoffs: lambda-hat_K(n) beside lambda-hat(n), K*(n), and bad input."""

import json
import warnings

import numpy as np
import pytest

import efftheory as et
from efftheory._cli import main

TINY = dict(overrides={"width": 2, "form": "collapsed"}, n_min=1.0, n_max=1e3, num_rungs=4,
            chains=2, warmup=50, draws=50, chunk_size=50, max_tree_depth=4, progress=False,
            cutoff_modes=[1, 2])


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("cutoff-study")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", et.SamplingWarning)
        summary = et.run_study("learning-zero-small", out, **TINY)
    return out, summary


def test_each_rung_carries_the_truncations_and_k_star(study):
    out, summary = study
    assert set(summary["cutoffs"]) == {"1", "2"}
    assert summary["cutoffs"]["2"]["kept_modes"] == [1, 3]
    for row in summary["rungs"]:
        for k in ("1", "2"):
            assert f"cutoff_{k}_learning_coefficient" in row and f"cutoff_{k}_mcse" in row
        if row["n"] > 0:
            assert row["k_star"] in (1, 2, None)
            assert row["kernel_mode_count"] >= 0
    header = (out / "summary.csv").read_text().splitlines()[0].split(",")
    assert {"cutoff_1_learning_coefficient", "cutoff_2_mcse", "k_star"} <= set(header)
    report = (out / "report.md").read_text()
    assert "## What a mode cutoff predicts, measured" in report
    assert json.loads((out / "summary.json").read_text())["config"]["cutoff_modes"] == [1, 2]


def test_k_star_is_the_smallest_k_within_three_combined_mcse(study):
    _, summary = study
    for row in summary["rungs"][1:]:
        agreeing = [k for k in (1, 2)
                    if abs(row[f"cutoff_{k}_learning_coefficient"] - row["learning_coefficient"])
                    <= 3 * np.hypot(row[f"cutoff_{k}_mcse"], row["learning_coefficient_mcse"])]
        assert row["k_star"] == (min(agreeing) if agreeing else None)


def test_the_study_samples_the_same_truncation_as_sample(study):
    """The study's lambda-hat_1 is efftheory.sample on the collapsed cutoff model, same seed."""
    _, summary = study
    model = et.load_model("learning-zero-small", width=2, form="collapsed_cutoff",
                          num_modes=1, n_max=1e3)
    config = et.study_config("learning-zero-small", **{
        key: value for key, value in TINY.items() if key != "progress"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", et.SamplingWarning)
        direct = et.sample(model, config.n_ladder, chains=2, warmup=50, draws=50, seed=0,
                           chunk_size=50, max_tree_depth=4, target_accept_prob=0.9,
                           store_positions=False, progress=False)
    stored = [row["cutoff_1_learning_coefficient"] for row in summary["rungs"]]
    np.testing.assert_allclose(stored, np.asarray(direct.learning_coefficient), rtol=1e-12)


def test_bad_cutoff_modes_say_what_to_change(tmp_path):
    with pytest.raises(ValueError, match="cutoff_modes must be a list of integers K >= 1"):
        et.study_config("learning-zero-small", cutoff_modes=[0])
    with pytest.raises(ValueError, match="lists a K twice"):
        et.study_config("learning-zero-small", cutoff_modes=[2, 2])
    with pytest.raises(ValueError, match="needs a two-layer card in form 'raw' or 'collapsed'"):
        et.run_study("dln-three-layer", tmp_path / "dln", cutoff_modes=[1], progress=False)
    assert not (tmp_path / "dln" / "checkpoint").exists()


def test_cli_takes_cutoff_modes(tmp_path, capsys):
    code = main(["run", "learning-zero-small", "--cutoff-modes", "0", "--out",
                 str(tmp_path / "bad")])
    assert code == 2
    assert "cutoff_modes" in capsys.readouterr().err
