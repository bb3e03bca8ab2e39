"""The study pipeline (`efftheory run`) at tiny sizes: every artifact, honest numbers."""

import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import efftheory as et
from efftheory._cli import main
from efftheory.sampling import _api
from efftheory.study._results_folder import default_results_folder

TINY = dict(overrides={"width": 2}, n_min=1.0, n_max=1e3, num_rungs=6, chains=2, warmup=100,
            draws=100, chunk_size=50, progress=False)
ARTIFACTS = ["summary.json", "summary.csv", "report.md", "spectrum.png",
             "learning_coefficient.png", "free_energy.png", "sampling/inference_data.nc"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    previous = os.umask(0o022)  # test_files_honour_the_umask reads the modes
    try:
        with pytest.warns(et.SamplingWarning):
            summary = et.run_study("learning-zero-small", out, **TINY)
    finally:
        os.umask(previous)
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


def test_study_results_describe_themselves(study):
    """summary.json and the netCDF carry the same provenance; sample_stats has ArviZ's names."""
    out, summary = study
    saved = et.sampling.load(out / "sampling")
    provenance = json.loads((out / "summary.json").read_text())["provenance"]
    assert provenance == saved.provenance == summary["provenance"]
    for key in ("efftheory_version", "jax_version", "numpyro_version", "platform", "machine",
                "created_at"):
        assert provenance[key], key
    stats = saved.inference_data.sample_stats
    for name in ("lp", "energy", "acceptance_rate", "n_steps", "tree_depth", "diverging"):
        assert stats[name].dims == ("chain", "draw", "rung"), name
    np.testing.assert_array_equal(stats["rung"], [row["n"] for row in summary["rungs"]])


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
    assert f"p = {power['exponent']:.3f} ± {power['exponent_standard_error']:.2g}" in report
    # Width 2: global RLCT (H + i^2 + i)/(4i + 2) = 4/6 and generic stratum H/2 = 1.
    values = sorted(value["learning_coefficient"] for value in summary["geometric"])
    assert values == pytest.approx([2 / 3, 1.0])
    assert summary["crossovers"]


def test_rerun_resumes_instead_of_resampling(study, monkeypatch):
    out, summary = study
    monkeypatch.setattr(_api, "run_chunk", lambda *a, **k: pytest.fail("resampled"))
    with pytest.warns(et.SamplingWarning):
        again = et.run_study("learning-zero-small", out, **TINY)
    assert again["rungs"] == summary["rungs"]
    assert json.loads((out / "status.json").read_text())["status"] == "complete"


def test_a_folder_with_the_flat_config_of_earlier_versions_resumes(study, tmp_path,
                                                                    monkeypatch):
    """Before the ladder and sampler settings had their own types, status.json held the
    config flat (num_rungs counting the positive rungs only). Such a folder is still a
    results folder, and the same study resumes it: its checkpoint is unchanged."""
    out, summary = study
    old = tmp_path / "old"
    shutil.copytree(out, old)
    config = json.loads((old / "status.json").read_text())["config"]
    ladder, sampler = config.pop("ladder"), config.pop("sampler")
    flat = {**config, "n_min": ladder["n_min"], "n_max": ladder["n_max"],
            "num_rungs": ladder["num_rungs"] - 1,
            **{name: sampler[name] for name in ("chains", "warmup", "draws", "seed",
                                                "chunk_size", "target_accept_prob",
                                                "max_tree_depth", "store_positions")}}
    (old / "status.json").write_text(json.dumps(
        {"efftheory": "study", "status": "complete", "config": flat}))
    monkeypatch.setattr(_api, "run_chunk", lambda *a, **k: pytest.fail("resampled"))
    with pytest.warns(et.SamplingWarning):
        again = et.run_study("learning-zero-small", old, **TINY)
    assert again["rungs"] == summary["rungs"]
    status = json.loads((old / "status.json").read_text())
    assert status["status"] == "complete" and status["config"]["ladder"] == ladder


@pytest.mark.parametrize("change, named", [
    (dict(draws=60), "draws: 100 -> 60"),
    (dict(seed=1), "seed: 0 -> 1"),
    (dict(n_max=1e2), "model parameter n_max: 1000.0 -> 100.0"),
    (dict(overrides={"width": 2, "activation": "erf"}),
     "model parameter activation: 'tanh' -> 'erf'"),
    (dict(overrides={"width": 3}), "model parameter width: 2 -> 3"),
])
def test_rerun_with_other_settings_refuses(study, monkeypatch, change, named):
    """Issue 16.1: a changed setting is named; nothing is sampled or rewritten."""
    out, _ = study
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    monkeypatch.setattr(_api, "run_chunk", lambda *a, **k: pytest.fail("sampled"))
    with pytest.raises(ValueError, match="other settings") as refusal:
        et.run_study("learning-zero-small", out, **{**TINY, **change})
    message = str(refusal.value)
    assert named in message and "--restart" in message and "--out" in message
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before


def test_cli_rerun_refusal_then_restart(study, tmp_path, capsys):
    """`efftheory run` names the difference and exits 2; `--restart` starts over."""
    out, summary = study
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    tiny = ["--override", "width=2", "--n-max", "1000", "--num-rungs", "6", "--chains", "2",
            "--warmup", "100", "--draws", "100", "--set", "chunk_size=50", "--out", str(copy)]
    assert main(["run", "learning-zero-small", *tiny, "--seed", "1"]) == 2
    assert "seed: 0 -> 1" in capsys.readouterr().err
    # The CLI prints failed diagnostics once as lines, not as SamplingWarnings.
    assert main(["run", "learning-zero-small", *tiny, "--seed", "1", "--restart"]) == 0
    restarted = json.loads((copy / "summary.json").read_text())
    printed = capsys.readouterr().out
    assert restarted["diagnostics"]
    assert all(printed.count(f"diagnostic: {m}") == 1 for m in restarted["diagnostics"])
    assert restarted["config"]["sampler"]["seed"] == 1
    assert restarted["rungs"][1]["learning_coefficient"] != \
        summary["rungs"][1]["learning_coefficient"]
    assert json.loads((copy / "status.json").read_text())["status"] == "complete"


def test_default_folder_differs_with_overrides_and_presets():
    plain = et.study_config("learning-zero-small")
    assert default_results_folder(plain) == Path("results/learning-zero-small")
    folders = {default_results_folder(config) for config in (
        plain, plain.replace(overrides={"width": 8}), plain.replace(draws=20),
        plain.replace(overrides={"activation": "erf"}),
        et.study_config("learning-zero-circle", card="learning-zero-small"))}
    assert len(folders) == 5
    assert default_results_folder(plain.replace(overrides={"width": 8})) == Path(
        "results/learning-zero-small-width=8")
    # The same settings always map to the same folder, so an identical rerun resumes.
    assert default_results_folder(plain.replace(draws=20)) == default_results_folder(
        et.study_config("learning-zero-small", draws=20))


def test_resume_never_unpickles(study, tmp_path):
    """Issue 16.2: a planted model.pkl is never loaded; the model comes from model.json."""
    out, summary = study
    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    folder = tmp_path / "checkpoint"
    shutil.copytree(out / "checkpoint", folder)
    (folder / "model.pkl").write_bytes(pickle.dumps(Payload()))
    with pytest.warns(et.SamplingWarning):
        resumed = et.resume(folder, progress=False)
    assert not marker.exists()
    np.testing.assert_array_equal(resumed.learning_coefficient,
                                  [row["learning_coefficient"] for row in summary["rungs"]])
    (folder / "model.json").unlink()  # a run folder from an older efftheory
    with pytest.raises(FileNotFoundError, match="never loads"):
        et.resume(folder)
    assert not marker.exists()


def test_files_honour_the_umask(study):
    """Issue 16.3: under umask 022 a run writes 0644 files (mkstemp made them 0600)."""
    out, _ = study
    files = [path for path in out.rglob("*") if path.is_file()]
    assert {path.relative_to(out).as_posix() for path in files} >= set(ARTIFACTS)
    assert {stat.S_IMODE(path.stat().st_mode) for path in files} == {0o644}


def test_output_folder_is_never_someone_elses(tmp_path, monkeypatch):
    """Issue 16.3: a file, a path under a file, or a foreign folder fails before sampling."""
    monkeypatch.setattr(et.sampling, "sample", lambda *a, **k: pytest.fail("sampled"))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.md").write_text("my notes")
    with pytest.raises(ValueError, match="not an efftheory results folder"):
        et.run_study("learning-zero-small", mine, **TINY)
    assert (mine / "report.md").read_text() == "my notes"
    assert sorted(path.name for path in mine.iterdir()) == ["report.md"]
    a_file = tmp_path / "a_file"
    a_file.write_text("data")
    with pytest.raises(ValueError, match="is a file"):
        et.run_study("learning-zero-small", a_file, **TINY)
    with pytest.raises(ValueError, match="cannot create"):
        et.run_study("learning-zero-small", a_file / "out", **TINY)
    assert a_file.read_text() == "data"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_read_only_output_folder_fails_before_sampling(tmp_path, monkeypatch):
    monkeypatch.setattr(et.sampling, "sample", lambda *a, **k: pytest.fail("sampled"))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(ValueError, match="cannot write into"):
            et.run_study("learning-zero-small", locked, **TINY)
    finally:
        locked.chmod(0o755)


def test_partial_study_is_marked_running(tmp_path, monkeypatch):
    """Issue 16.3: status.json tells a partial study from a finished one."""
    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(et.sampling, "sample", killed)
    with pytest.raises(KeyboardInterrupt):
        et.run_study("learning-zero-small", tmp_path / "partial", **TINY)
    status = json.loads((tmp_path / "partial" / "status.json").read_text())
    assert status["status"] == "running" and status["config"]["sampler"]["draws"] == 100


def test_run_command_and_bad_settings(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "efftheory._cli", "run", "learning-zero-small", "--out",
         str(tmp_path), "--override", "width=1", "--n-max", "100", "--num-rungs", "4",
         "--chains", "2", "--warmup", "50", "--draws", "50", "--set", "chunk_size=50"],
        capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    assert "wrote" in completed.stdout and (tmp_path / "report.md").is_file()
    # Piped output: one progress line per chunk (one warmup, one sampling chunk here) ...
    progress = [line for line in completed.stderr.splitlines()
                if line.startswith("efftheory: chunk ")]
    assert len(progress) == 2, completed.stderr
    assert progress[0].startswith("efftheory: chunk 1/2 warmup")
    assert progress[1].startswith("efftheory: chunk 2/2 sampling")
    for name in ("n_top", "lambda_top", "min_swap_accept", "elapsed"):
        assert name in progress[1]
    # ... and each failed diagnostic printed once, not again as a warning.
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["diagnostics"] and "SamplingWarning" not in completed.stderr
    for message in summary["diagnostics"]:
        assert (completed.stdout + completed.stderr).count(message) == 1
    report = (tmp_path / "report.md").read_text()
    assert report.index("Warning:") < report.index("## Diagnostics") < report.index(
        "## Fitted laws")
    with pytest.raises(ValueError, match="n_max must exceed"):
        et.study_config("learning-zero-small", n_max=0.5)
    with pytest.raises(ValueError, match="unknown study settings"):
        et.study_config("learning-zero-small", draw=10)


def test_flagship_preset_is_the_issue_s_cpu_study():
    config = et.study_config("learning-zero-256")
    ladder = config.n_ladder
    assert ladder[0] == 0 and ladder[1] == 1.0 and ladder[-1] == 1e8 and len(ladder) >= 25
    assert config.sampler.chains == 4 and config.overrides == {"form": "collapsed"}
    model = et.study._guards.load_study_model(config).model
    assert isinstance(model, et.CollapsedNetworkModel) and model.network.width == 128
    assert model.trustworthy_n >= config.ladder.n_max


def test_crossovers_use_arbitrary_precision_where_float64_only_bounds_them():
    from efftheory.study._analysis import GeometricValue
    from efftheory.study._kernel import effective_crossovers

    eigenvalues = np.array([1.0, 1e-4, 1e-8])  # float64 stops here (floor 1e-13)
    precise = [1.0, 1e-4, 1e-8, 1e-16, 1e-30, 1e-60]
    value = GeometricValue("deep", 2.5, 1, "test")
    bound = effective_crossovers(eigenvalues, 6, [value], eigenvalue_floor=1e-13)
    assert "n_star_lower_bound" in bound[0]
    asked = []
    exact = effective_crossovers(eigenvalues, 6, [value], eigenvalue_floor=1e-13,
                                 precise=lambda count: asked.append(count) or precise)
    assert asked == [5] and "n_star_lower_bound" not in exact[0]
    # the staircase crossing is 1/mu_(5) = 1e30, known only from the precise list
    assert exact[0]["log10_n_star_staircase"] == pytest.approx(30.0)
    assert "arbitrary precision" in exact[0]["eigenvalues"]


def test_effective_columns_use_arbitrary_precision_where_the_top_rung_needs_it():
    # Below n_max * floor = 1e-3 the float64 spectrum stands; above it the precise one
    # replaces it, else lambda_eff would stop growing at the float64 floor.
    from efftheory.study._kernel import prior_kernel_eigenvalues, spectrum_for_ladder

    model = et.load_model("learning-zero-small", form="collapsed", width=16, n_max=1e4)
    eigenvalues, cap, floor = prior_kernel_eigenvalues(model, None)
    assert floor is not None and len(eigenvalues) < cap
    kept, kept_floor, source = spectrum_for_ladder(model, eigenvalues, floor, cap,
                                                   1e-4 / floor)
    assert kept is eigenvalues and kept_floor == floor and source == "float64"
    precise, precise_floor, source = spectrum_for_ladder(model, eigenvalues, floor, cap,
                                                         1e3 / floor)
    assert len(precise) >= cap and precise_floor is None and source == "arbitrary precision"
    assert np.all(np.diff(precise) <= 0)
    # the same spectrum: the top eigenvalue agrees, the next ones within the float64 mode
    # basis's truncation error (0.3 % at mu_3 here, growing towards its floor; docs/study.md)
    assert precise[0] == pytest.approx(eigenvalues[0], rel=1e-6)
    np.testing.assert_allclose(precise[1:3], eigenvalues[1:3], rtol=1e-2)


def test_posterior_weight_size_reads_collapsed_positions():
    from types import SimpleNamespace

    import xarray as xr

    from efftheory.study._inner_weights import posterior_inner_weight_size

    model = et.load_model("learning-zero-small", form="collapsed", width=3, n_max=10.0)
    positions = np.array([[[[1.0, -2.0, 3.0]], [[-1.0, 2.0, -3.0]]]])  # chain, draw, rung
    posterior = xr.Dataset({"position": (("chain", "draw", "rung", "param"), positions)})
    result = SimpleNamespace(inference_data=SimpleNamespace(posterior=posterior))
    np.testing.assert_allclose(posterior_inner_weight_size(model, result), [2.0])


def test_local_exponent_of_a_pure_power_law_is_its_power():
    from efftheory.study._analysis import _local_exponents

    n = np.geomspace(10.0, 1e8, 8)
    lam = 0.5 * np.log(n) ** 1.7
    local = _local_exponents(n, lam, 0.01 * lam)
    np.testing.assert_allclose([row["exponent"] for row in local], 1.7, rtol=1e-12)
    assert all(row["standard_error"] > 0 for row in local)
