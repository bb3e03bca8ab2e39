import json
import subprocess
import sys

import numpy as np


def run_cli(*arguments, cwd):
    return subprocess.run([sys.executable, "-m", "efftheory._cli", *arguments], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_spectrum_command_writes_csv_json_png(tmp_path):
    out = tmp_path / "spectrum"
    completed = run_cli("spectrum", "--samples", "3", "--kmax", "61", "--out", str(out),
                        cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    summary = json.loads((out / "spectrum.json").read_text())
    assert summary["activation"] == "tanh" and len(summary["samples"]) == 3
    for entry in summary["samples"]:
        # Fitted C within 10% of pi/|w| already at kmax = 61 for prior draws.
        assert abs(entry["relative_difference"]) < 0.1
    lines = (out / "coefficients.csv").read_text().splitlines()
    assert lines[0] == "sample,w,b,k,log10_c2,resolved"
    assert len(lines) == 1 + 4 * 62
    assert (out / "spectrum.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_spectrum_command_with_explicit_weights_and_circle(tmp_path):
    completed = run_cli("spectrum", "--measure", "circle", "--w", "1.0", "2.0", "--kmax", "31",
                        "--out", str(tmp_path), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    summary = json.loads((tmp_path / "spectrum.json").read_text())
    expected = [np.arcsinh(np.pi / 2), np.arcsinh(np.pi / 4)]
    for entry, constant in zip(summary["samples"], expected, strict=True):
        assert abs(entry["fit"]["rate"] / constant - 1) < 0.02


def test_spectrum_command_reports_bad_input(tmp_path):
    completed = run_cli("spectrum", "--activation", "swish", "--out", str(tmp_path),
                        cwd=tmp_path)
    assert completed.returncode == 2
    assert "unknown activation 'swish'" in completed.stderr


def test_version_prints_the_package_version(tmp_path):
    import efftheory

    completed = run_cli("--version", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"efftheory {efftheory.__version__}"
