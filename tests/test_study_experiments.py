"""The study experiments (width scan, activation comparison) smoke-run at tiny sizes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
TINY = ["--n-max", "100", "--num-rungs", "4", "--chains", "2", "--warmup", "30", "--draws",
        "30", "--in-process"]


@pytest.mark.parametrize("script, grid, label, expected", [
    # slow, for CI's time budget (the width scan's results are committed in docs/results)
    pytest.param("width_scan.py", ["--widths", "1", "2"], "width", [1, 2],
                 marks=pytest.mark.slow),
    pytest.param("activation_comparison.py", ["--activations", "tanh", "relu", "--width", "2"],
                 "activation", ["tanh", "relu"], marks=pytest.mark.slow),
])
def test_scan_script_smoke(tmp_path, script, grid, label, expected):
    completed = subprocess.run([sys.executable, str(EXPERIMENTS / script), str(tmp_path),
                                *grid, *TINY], capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    table = json.loads((tmp_path / "scan.json").read_text())
    assert [entry[label] for entry in table] == expected
    for entry in table:
        assert entry["lambda_hat_top"] > 0 and entry["lambda_hat_top_mcse"] > 0
    assert (tmp_path / "scan.png").is_file() and (tmp_path / "scan.md").is_file()
    if label == "activation":
        # The Aoyagi-Watanabe value is a tanh formula: relu gets no geometric claim.
        assert table[1]["geometric"] == {}
