"""Source files hold no control characters: a ``\\t``, ``\\a`` or ``\\b`` written inside a
non-raw string (``"\\top"``, ``"\\alpha"``, ``"\\beta"`` in a LaTeX docstring) becomes one
silently, and the rendered docs show a broken formula."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(path for folder in ("efftheory", "experiments", "tests", "docs")
                 for path in (ROOT / folder).rglob("*") if path.suffix in {".py", ".md"})
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_control_characters(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [f"line {number}: {line.strip()[:80]!r}" for number, line in
             enumerate(lines, 1) if CONTROL.search(line)]
    assert not found, f"{path.relative_to(ROOT)}: control characters in {found}"
