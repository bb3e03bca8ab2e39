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


def _run_parser():
    import argparse

    from efftheory._cli import build_parser

    commands = next(action for action in build_parser()._actions
                    if isinstance(action, argparse._SubParsersAction))
    return commands.choices["run"]


def test_every_study_setting_has_a_flag_with_help_and_default():
    """`efftheory run`'s flags are made from the fields of Ladder, SamplerSettings and
    StudyConfig: none is missing, and each says what it does and its default."""
    import dataclasses

    from efftheory._cli import NO_FLAG
    from efftheory.sampling import Ladder, SamplerSettings
    from efftheory.study import StudyConfig

    flags = {action.dest: action for action in _run_parser()._actions}
    own = {"kmax", "fit_n_min", "cutoff_modes"}
    settings = [*dataclasses.fields(Ladder), *dataclasses.fields(SamplerSettings),
                *(field for field in dataclasses.fields(StudyConfig) if field.name in own)]
    assert {field.name for field in dataclasses.fields(StudyConfig)} - own == {
        "card", "overrides", "ladder", "sampler"}
    for field in settings:
        if field.name in NO_FLAG:
            continue
        action = flags[field.name]
        assert f"--{field.name.replace('_', '-')}" in action.option_strings
        assert action.help.startswith(field.metadata["help"]), field.name
        assert "(default: the preset's, else " in action.help, field.name
        if field.type is bool:
            assert f"--no-{field.name.replace('_', '-')}" in action.option_strings
    assert set(NO_FLAG) == {"include_prior"}
    # The flags of earlier versions keep their names.
    for flag in ("--n-min", "--n-max", "--num-rungs", "--chains", "--warmup", "--draws",
                 "--seed", "--cutoff-modes", "--set", "--override", "--restart", "--preset",
                 "--out"):
        assert any(flag in action.option_strings for action in flags.values()), flag
    assert all(action.help for action in flags.values())


def test_run_flags_reach_the_study_config(monkeypatch):
    """Each flag sets its setting (a bool flag both ways); --set still takes any by name."""
    import efftheory.study
    from efftheory._cli import main

    seen = {}

    def run_study(config, out, **kwargs):
        seen["config"] = config
        raise ValueError("stop here")

    monkeypatch.setattr(efftheory.study, "run_study", run_study)
    assert main(["run", "learning-zero-small", "--num-rungs", "5", "--swap-every", "3",
                 "--adapt-ladder", "--no-store-positions", "--dense-mass",
                 "--target-accept-prob", "0.85", "--set", "chunk_size=40",
                 "--out", "unused"]) == 2
    config = seen["config"]
    assert config.ladder.num_rungs == 5 and len(config.n_ladder) == 5
    assert (config.sampler.swap_every, config.sampler.adapt_ladder,
            config.sampler.store_positions, config.sampler.dense_mass,
            config.sampler.target_accept_prob, config.sampler.chunk_size) == (
        3, True, False, True, 0.85, 40)
    assert config.sampler.warmup == 400  # the preset's, untouched
    assert main(["run", "learning-zero-small", "--no-swap", "--cutoff-modes", "1", "2",
                 "--kmax", "21", "--out", "unused"]) == 2
    config = seen["config"]
    assert (config.sampler.swap, config.cutoff_modes, config.kmax) == (False, [1, 2], 21)
