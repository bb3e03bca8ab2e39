"""Progress reporting: lines on the `efftheory` logger off a terminal, a bar in Jupyter."""

import importlib.util
import logging

import tqdm

from efftheory.sampling import _progress


def test_lines_off_a_terminal_one_per_chunk(caplog, monkeypatch):
    monkeypatch.setattr(_progress, "_in_notebook", lambda: False)
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    assert _progress.progress_mode(None) == "lines"
    assert _progress.progress_mode(False) == "off"
    with caplog.at_level(logging.INFO, logger="efftheory"):
        with _progress.ChunkProgress(3, 1, "lines") as report:
            report.update(1, "warmup", {"lambda_top": "0.5", "min_swap_accept": "-"})
            report.update(2, "sampling", {"lambda_top": "0.6", "min_swap_accept": "0.40"})
    lines = [record.getMessage() for record in caplog.records if record.name == "efftheory"]
    assert len(lines) == 2
    assert lines[0].startswith("chunk 2/3 warmup  lambda_top 0.5  min_swap_accept -")
    assert lines[1].startswith("chunk 3/3 sampling") and "elapsed" in lines[1]


def test_notebook_bar_without_ipywidgets_is_the_text_bar(monkeypatch):
    """tqdm.auto without ipywidgets warns "IProgress not found"; the text bar does not."""
    monkeypatch.setattr(_progress, "_in_notebook", lambda: True)
    assert _progress.progress_mode(None) == "bar"
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ipywidgets" else real_find_spec(name, *a))
    bar = _progress.progress_bar(2, 0)
    try:
        assert type(bar) is tqdm.std.tqdm
    finally:
        bar.close()


def test_diagnostic_warnings_name_the_users_line():
    """A failed diagnostic is reported once, at the user's line that started the run, not at
    a line inside efftheory (however deep the run's frames go)."""
    import os

    import pytest

    from efftheory.sampling import SamplingWarning, _diagnostics

    inside = os.path.join(_diagnostics._PACKAGE, "study", "_deep.py")  # a frame of ours
    code = compile("warn(['R-hat of the energy > 1.01'])", inside, "exec")
    with pytest.warns(SamplingWarning) as caught:
        exec(code, {"warn": _diagnostics.warn_diagnostics})
    assert [os.path.abspath(record.filename) for record in caught] == [os.path.abspath(__file__)]
