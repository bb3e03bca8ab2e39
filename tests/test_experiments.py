"""Experiment scripts as subprocess smoke runs at tiny sizes (the NumPyro pattern)."""

import csv
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VALIDATION = ROOT / "experiments" / "validation" / "run_validation.py"
BENCHMARK = ROOT / "experiments" / "benchmark" / "run_benchmark.py"
TINY_BENCHMARK = ["--width", "1", "--n-max", "100", "--targets", "10", "100", "--draws", "10",
                  "--warmup", "10", "--chains", "2", "--seed", "0"]


def run_script(script: Path, *arguments: str) -> subprocess.CompletedProcess:
    completed = subprocess.run([sys.executable, str(script), *arguments], cwd=ROOT,
                               capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_validation_writes_table_with_relative_errors(tmp_path):
    settings = ["--draws", "10", "--warmup", "10", "--chains", "2", "--rungs", "4",
                "--n-max", "100"]
    run_script(VALIDATION, str(tmp_path), "--cards", "regular-10", *settings)
    first = read_csv(tmp_path / "validation.csv")
    # An interrupted run resumes: the finished card is kept, only the new one is sampled.
    resumed = run_script(VALIDATION, str(tmp_path), "--cards", "regular-10", "rrr-wide-input",
                         *settings, "--resume")
    assert "regular-10: finished earlier, kept" in resumed.stdout
    rows = read_csv(tmp_path / "validation.csv")
    assert rows[:len(first)] == first
    assert {"card", "n", "reference", "reference_kind", "learning_coefficient",
            "learning_coefficient_mcse", "relative_error", "rhat", "ess_bulk",
            "wall_seconds", "passes", "reason"} <= set(rows[0])
    exact = [r for r in rows if r["card"] == "regular-10"]
    assert [r["reference_kind"] for r in exact] == ["exact"] * 3  # every rung with n > 0
    for r in exact:  # regular model: lambda(n) = (d/2) n/(1 + n), d = 10
        n = float(r["n"])
        assert math.isclose(float(r["reference"]), 5 * n / (1 + n), rel_tol=1e-9)
        relative = (float(r["learning_coefficient"]) - float(r["reference"])) / float(
            r["reference"])
        assert math.isclose(float(r["relative_error"]), relative, rel_tol=1e-9)
        assert (r["passes"] == "True") or r["reason"]  # a miss must say why
    geometric = [r for r in rows if r["card"] == "rrr-wide-input"]
    assert geometric and all(r["reference_kind"].startswith("geometric") for r in geometric)
    text = (tmp_path / "validation.md").read_text()
    assert "relative error" in text.lower() and "rrr-wide-input" in text
    assert "--resume" not in text  # the recorded command is the one that reproduces the table


def test_validation_resume_refuses_other_settings(tmp_path):
    spec = importlib.util.spec_from_file_location("run_validation", VALIDATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    settings = {"draws": 10, "warmup": 10, "chains": 2, "rungs": 4, "n_max": 100.0,
                "wide_fraction": 0.2, "seed": 0}
    (tmp_path / "validation.json").write_text(json.dumps(
        {"settings": settings, "cards": {"regular-10": []}}))
    assert module.load_finished(tmp_path, settings) == {"regular-10": []}
    with pytest.raises(ValueError, match="draws"):
        module.load_finished(tmp_path, {**settings, "draws": 20})
    assert module.load_finished(tmp_path / "empty", settings) == {}


@pytest.mark.slow  # a smoke run; kept out of the default suite for CI's time budget
def test_benchmark_efftheory_methods(tmp_path):
    run_script(BENCHMARK, str(tmp_path), *TINY_BENCHMARK, "--methods", "replica_exchange",
               "independent", "single_rung", "reference")
    payload = json.loads((tmp_path / "benchmark.json").read_text())
    rows = payload["summary"]["rows"]
    assert {r["method"] for r in rows} == {"replica_exchange", "independent", "single_rung"}
    assert {r["n"] for r in rows} == {10.0, 100.0}
    assert payload["results"]["reference"]["kind"] == "exact"  # width 1: exact lambda(n)
    for r in rows:
        assert r["peak_memory_mib"] > 0 and r["seconds"] > 0
        assert math.isfinite(r["error"])
    assert "top_rung_ess_per_second_ratio_re_over_independent" in payload["summary"]["headline"]
    assert (tmp_path / "benchmark.md").exists()
    # The report rebuilds from the saved method results without sampling again.
    (tmp_path / "benchmark.md").unlink()
    run_script(BENCHMARK, str(tmp_path), *TINY_BENCHMARK, "--methods", "replica_exchange",
               "independent", "single_rung", "reference", "--report-only")
    rebuilt = json.loads((tmp_path / "benchmark.json").read_text())
    assert json.dumps(rebuilt["summary"]) == json.dumps(payload["summary"])  # NaN-safe
    assert rebuilt["command"] == payload["command"]
    assert "replica_exchange" in (tmp_path / "benchmark.md").read_text()


@pytest.mark.external
def test_benchmark_external_samplers(tmp_path):
    """BlackJAX SMC and devinterp SGLD at width 1 against the exact lambda(n)."""
    run_script(BENCHMARK, str(tmp_path), *TINY_BENCHMARK, "--methods", "reference", "smc",
               "sgld", "--smc-particles", "128", "--smc-mcmc-steps", "2", "--sgld-draws",
               "500", "--sgld-chains", "2")
    payload = json.loads((tmp_path / "benchmark.json").read_text())
    methods = {r["method"] for r in payload["summary"]["rows"]}
    assert "blackjax_smc" in methods
    assert any(m.startswith("devinterp_sgld") for m in methods)
    smc = payload["results"]["smc"]
    assert smc["n"] == [10.0, 100.0] and all(s >= 1 for s in smc["tempering_steps"])
    # SMC's lambda-hat at width 1 is within a loose band of the exact value (prior-scale
    # particles, 128 of them): a sign that the tempering reached the right n.
    for row in payload["summary"]["rows"]:
        if row["method"] == "blackjax_smc":
            assert abs(row["error"]) < 0.5 * row["reference"] + 5 * row["se"]


FLAGSHIP_GEOMETRY = ROOT / "experiments" / "flagship_geometry.py"
RAW_VS_COLLAPSED = ROOT / "experiments" / "raw_vs_collapsed.py"
LADDER_COMPARISON = ROOT / "experiments" / "ladder_comparison.py"


@pytest.mark.slow  # a smoke run; kept out of the default suite for CI's time budget
def test_flagship_geometry_smoke(tmp_path):
    run_script(FLAGSHIP_GEOMETRY, str(tmp_path), "--width", "4", "--n", "100", "--chains", "2",
               "--warmup", "10", "--draws", "10", "--settings", "3:0.8", "--lanes", "3")
    record = json.loads((tmp_path / "flagship_geometry.json").read_text())
    gradient = record["per_gradient"]
    # the shipped potential (folded nodes, custom Gram derivative) is the plain one
    assert gradient["max_value_difference"] < 1e-9
    assert gradient["max_relative_gradient_difference"] < 1e-9
    (row,) = record["per_effective_sample"]
    assert row["max_tree_depth"] == 3 and row["mean_leapfrog_steps"] <= 7
    assert "gradients / ESS" in (tmp_path / "flagship_geometry.md").read_text()


@pytest.mark.slow  # CI's time budget; the script's results are committed in docs/results
def test_raw_vs_collapsed_smoke(tmp_path):
    run_script(RAW_VS_COLLAPSED, str(tmp_path), "--width", "2", "--n", "10", "100",
               "--chains", "2", "--warmup", "20", "--draws", "20", "--max-tree-depth", "4")
    record = json.loads((tmp_path / "raw_vs_collapsed.json").read_text())
    assert [row["n"] for row in record["rows"]] == [10.0, 100.0]
    assert record["forms"]["raw"]["num_params"] == 4
    assert record["forms"]["collapsed"]["num_params"] == 2
    assert (tmp_path / "raw_vs_collapsed.png").is_file()


@pytest.mark.slow  # a smoke run; kept out of the default suite for CI's time budget
def test_ladder_comparison_smoke(tmp_path):
    run_script(LADDER_COMPARISON, str(tmp_path), "--override", "width=2", "--n-max", "100",
               "--num-rungs", "4", "--chains", "2", "--warmup", "20", "--draws", "10",
               "--max-tree-depth", "4")
    record = json.loads((tmp_path / "ladder_comparison.json").read_text())
    geometric, equalized = record["runs"]
    assert not geometric["adapt_ladder"] and equalized["adapt_ladder"]
    assert geometric["n_ladder"][0] == equalized["n_ladder"][0] == 0.0
    assert geometric["n_ladder"][-1] == equalized["n_ladder"][-1] == 100.0
    assert geometric["vmapped_gradients"] > 0


COLLAPSED_FACTORIZATION = ROOT / "experiments" / "collapsed_factorization.py"


def test_collapsed_factorization_smoke(tmp_path):
    run_script(COLLAPSED_FACTORIZATION, str(tmp_path), "--card", "learning-zero-small",
               "--width", "4", "--nodes", "128", "--lanes", "3", "--n-max", "1e6")
    record = json.loads((tmp_path / "collapsed_factorization.json").read_text())
    (row,) = record["trustworthy_n"]
    # QR of the factor is trusted at least as far as Cholesky of the formed kernel
    assert row["qr"] >= row["cholesky"] > 0
    assert record["max_integrand_difference"] < 1e-8
    assert set(record["ms_per_gradient"]) == {"cholesky", "qr"}


MODE_CUTOFF = ROOT / "experiments" / "mode_cutoff.py"


@pytest.mark.slow  # a smoke run; kept out of the default suite for CI's time budget
def test_mode_cutoff_smoke(tmp_path):
    run_script(MODE_CUTOFF, str(tmp_path), "--width", "2", "--n-max", "100", "--num-rungs",
               "3", "--k-max", "2", "--raw-check", "1", "--chains", "2", "--warmup", "30",
               "--draws", "30", "--max-tree-depth", "4")
    record = json.loads((tmp_path / "mode_cutoff.json").read_text())
    assert [row["n"] for row in record["rows"]] == [1.0, 10.0, 100.0]
    assert record["cutoffs"]["1"]["kept_modes"] == [1]
    # width 2 carries exact references for the full model and every cutoff
    assert len(record["full"]["exact"]) == len(record["cutoffs"]["1"]["exact"]) == 3
    assert len(record["raw_checks"]["1"]["z"]) == 3
    for row in record["rows"]:
        assert row["kernel_count"] >= 0 and row["post_count"] >= 0
        assert row["k_star"] is None or row["k_star"] in (1, 2)
    assert (tmp_path / "mode_cutoff.md").read_text().count("K*(n)") >= 1
    assert (tmp_path / "mode_cutoff.png").is_file()
