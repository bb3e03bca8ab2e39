"""Bad input to the `efftheory` command: a message naming the parameter or file, never a
traceback (issue 16, item 6)."""

import pytest

from efftheory._cli import main

TINY = ["--n-max", "10", "--num-rungs", "3", "--chains", "1", "--warmup", "2", "--draws", "2"]


def _binary_card(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\x00\xff\xfe\x89PNG garbage")
    return str(path)


def _corrupt_checkpoint(tmp_path):
    checkpoint = tmp_path / "run" / "checkpoint"
    checkpoint.mkdir(parents=True)
    (checkpoint / "state.npz").write_bytes(b"PK\x03\x04 truncated")
    (checkpoint / "config.json").write_text('{"chains": 1,')
    return str(tmp_path / "run")


def _missing_grid(tmp_path):
    return str(tmp_path / "no-such-grid.toml")


def _string_grid(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text('[grid]\ncard = "x"\n')
    return str(path)


def _a_file(tmp_path):
    path = tmp_path / "not-a-folder"
    path.write_text("user data")
    return str(path)


# (arguments with {tmp} placeholders filled by the named helper, words the message must hold)
CASES = {
    "set-not-a-number": (["run", "min-abs", "--set", "chunk_size=abc"], ["chunk_size"]),
    # --n-max given: the tiny settings (whose --chains would win) are not appended.
    "set-fractional-chains": (["run", "min-abs", "--set", "chains=2.5", "--n-max", "10"],
                              ["chains"]),
    "override-n-max": (["run", "learning-zero-small", "--override", "n_max=5"],
                       ["n_max", "--n-max"]),
    "width-too-large": (["run", "learning-zero-small", "--override", "width=1000000000"],
                        ["memory", "width", "EFFTHEORY_MAX_MEMORY"]),
    "quadrature-cannot-reach": (["run", "learning-zero-small", "--override", "width=4",
                                 "--override", "max_nodes=16", "--n-max", "1e12"],
                                ["max_nodes", "--override max_nodes"]),
    "binary-card": ([_binary_card], ["binary.toml"]),
    "corrupt-checkpoint": (["run", "min-abs", "--out", _corrupt_checkpoint],
                           ["state.npz", "--restart"]),
    "out-is-a-file": (["run", "min-abs", "--out", _a_file], ["not-a-folder"]),
    "spectrum-negative-kmax": (["spectrum", "--kmax", "-1"], ["kmax"]),
    "spectrum-nan-weight": (["spectrum", "--w", "nan"], ["w contains non-finite"]),
    "sweep-missing-grid": (["sweep", _missing_grid], ["no-such-grid.toml"]),
    "sweep-grid-not-a-list": (["sweep", _string_grid], ["grid.toml", "card", "list"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gets_a_message(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    arguments, words = CASES[case]
    if callable(arguments[0]):
        arguments = ["run", arguments[0](tmp_path), *TINY]
    arguments = [a(tmp_path) if callable(a) else a for a in arguments]
    if arguments[0] == "run" and "--n-max" not in arguments:
        arguments += TINY
    if arguments[0] == "spectrum":
        arguments += ["--out", str(tmp_path / "spectrum")]
    if arguments[0] == "sweep":
        arguments += ["--out", str(tmp_path / "sweep")]
    status = main(arguments)
    captured = capsys.readouterr()
    assert status != 0
    assert "Traceback" not in captured.err + captured.out
    for word in words:
        assert word in captured.err, (word, captured.err)
