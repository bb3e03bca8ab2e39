"""experiments/local_learning_coefficient.py, smoke-run in a subprocess at tiny sizes."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "experiments" / "local_learning_coefficient.py"
HAS_DEVINTERP = all(importlib.util.find_spec(name) is not None
                    for name in ("torch", "devinterp"))


@pytest.mark.slow  # a smoke run (two compiles); kept out of the default suite for CI's time
def test_llc_experiment_writes_the_table(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), "--card", "rrr-wide-hidden",
         "--n", "100", "--chains", "2", "--warmup", "10", "--draws", "10",
         "--sgld-chains", "2", "--sgld-draws", "20", "--sgld-step-factors", "0.1"],
        env={**os.environ, "CI": "1"}, timeout=300, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-2000:]
    payload = json.loads((tmp_path / "llc.json").read_text())
    assert payload["card"] == "rrr-wide-hidden" and payload["n"] == 100
    assert payload["reference"]["rlct"] == 2.0 and payload["loss_at_w_star"] == 0.0
    assert any(payload["w_star"])  # true rank 1: the point is not the origin
    nuts, sgld = payload["rows"]
    assert nuts["method"] == "efftheory_nuts" and nuts["learning_coefficient"] > 0
    assert sgld["available"] is HAS_DEVINTERP
    if HAS_DEVINTERP:
        assert sgld["method"] == "devinterp_sgld (step factor 0.1)"
        assert len(sgld["chain_values"]) == 2
    else:
        assert "not importable" in sgld["settings"]
    table = (tmp_path / "llc.md").read_text()
    assert "| efftheory_nuts |" in table and "| devinterp_sgld" in table
