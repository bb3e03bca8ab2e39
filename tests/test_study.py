"""The study pipeline (`efftheory run`) at tiny sizes: every artifact, honest numbers."""

import json
import subprocess
import sys

import numpy as np
import pytest

import efftheory as et

TINY = dict(overrides={"width": 2}, n_min=1.0, n_max=1e3, num_rungs=5, chains=2, warmup=100,
            draws=100, chunk_size=50, progress=False)
ARTIFACTS = ["summary.json", "summary.csv", "report.md", "spectrum.png",
             "learning_coefficient.png", "free_energy.png", "sampling/inference_data.nc"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    with pytest.warns(et.SamplingWarning):
        summary = et.run_study("learning-zero-small", out, **TINY)
    return out, summary


def test_study_writes_every_artifact(study):
    out, summary = study
    for name in ARTIFACTS:
        assert (out / name).is_file(), name
    assert json.loads((out / "summary.json").read_text()) == json.loads(
        json.dumps(summary, default=str))
    header = (out / "summary.csv").read_text().splitlines()[0].split(",")
    for column in ("n", "learning_coefficient", "learning_coefficient_mcse", "free_energy",
                   "free_energy_err", "effective_learning_coefficient", "rhat", "ess_bulk"):
        assert column in header


def test_study_numbers_come_from_the_run(study):
    out, summary = study
    saved = et.sampling.load(out / "sampling")
    rungs = summary["rungs"]
    np.testing.assert_allclose([row["learning_coefficient"] for row in rungs],
                               saved.learning_coefficient)
    # The effective prediction is the free theory of the model's own kernel eigenvalues.
    n = np.array([row["n"] for row in rungs])
    expected = et.theory.free_learning_coefficient(n, summary["kernel_eigenvalues"],
                                                   rank_cap=summary["rank_cap"])
    np.testing.assert_allclose([row["effective_learning_coefficient"] for row in rungs],
                               expected)
    # Jensen: the free theory bounds the quenched prior average from above.
    for row in rungs[1:]:
        assert row["quenched_prior_average"] <= row["effective_learning_coefficient"] + 1e-12
    report = (out / "report.md").read_text()
    power = summary["fits"]["log_power"]
    assert f"p = {power['exponent']:.3f} ± {power['exponent_standard_error']:.3f}" in report
    # Width 2: global RLCT (H + i^2 + i)/(4i + 2) = 4/6 and generic stratum H/2 = 1.
    values = sorted(value["learning_coefficient"] for value in summary["geometric"])
    assert values == pytest.approx([2 / 3, 1.0])
    assert summary["crossovers"]


def test_rerun_resumes_instead_of_resampling(study, monkeypatch):
    out, summary = study
    monkeypatch.setattr(et.sampling, "sample", lambda *a, **k: pytest.fail("resampled"))
    with pytest.warns(et.SamplingWarning):
        again = et.run_study("learning-zero-small", out, **TINY)
    assert again["rungs"] == summary["rungs"]


def test_run_command_and_bad_settings(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "efftheory._cli", "run", "learning-zero-small", "--out",
         str(tmp_path), "--override", "width=1", "--n-max", "100", "--num-rungs", "3",
         "--chains", "2", "--warmup", "50", "--draws", "50", "--set", "chunk_size=50"],
        capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    assert "wrote" in completed.stdout and (tmp_path / "report.md").is_file()
    with pytest.raises(ValueError, match="n_max must exceed"):
        et.study_config("learning-zero-small", n_max=0.5)
    with pytest.raises(ValueError, match="unknown study settings"):
        et.study_config("learning-zero-small", draw=10)
