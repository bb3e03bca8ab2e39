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


def _docstrings():
    """Every docstring of the package's modules, classes and functions, as Python reads it."""
    import importlib
    import inspect
    import pkgutil

    import efftheory

    for info in pkgutil.walk_packages(efftheory.__path__, "efftheory."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        yield info.name, module.__doc__
        for name, member in vars(module).items():
            if getattr(member, "__module__", None) != info.name:
                continue
            yield f"{info.name}.{name}", getattr(member, "__doc__", None)
            if inspect.isclass(member):
                for attribute, value in vars(member).items():
                    function = getattr(value, "fget", None) or getattr(value, "__func__", value)
                    yield f"{info.name}.{name}.{attribute}", getattr(function, "__doc__", None)


def test_no_control_characters_in_docstrings():
    """The escape that the file test cannot see: ``\\top`` in a non-raw docstring is a TAB
    only once Python has read it."""
    found = sorted({name for name, doc in _docstrings()
                    if isinstance(doc, str) and CONTROL.search(doc)})
    assert not found, f"control characters in the docstrings of {found}: use r\"\"\"...\"\"\""
