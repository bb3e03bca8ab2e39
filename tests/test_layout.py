"""The package's shape (issue 14): small modules, and a theory that stands on its own."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "efftheory"
MODULES = sorted(PACKAGE.rglob("*.py"))

#: A module past this size holds more than one concept: split it (docs: STYLE.md).
MAX_MODULE_BYTES = 20_000

#: Modules still over the limit, each to be split (issue 14): shrink, never grow.
KNOWN_OVERSIZE = {"efftheory/_cutoff_models.py", "efftheory/_modes.py"}

#: Modules of efftheory.theory may import, from the rest of the package, only these.
THEORY_MAY_IMPORT = {"efftheory._types"}

#: Imports of efftheory.theory from the rest of the package that are known and scheduled to
#: go. Shrink, never grow.
THEORY_KNOWN_IMPORTS: dict[str, set[str]] = {}


def _name(module: Path) -> str:
    return module.relative_to(PACKAGE.parent).as_posix()


@pytest.mark.parametrize("module", MODULES, ids=_name)
def test_no_module_is_over_the_size_limit(module):
    size = module.stat().st_size
    if _name(module) in KNOWN_OVERSIZE:
        assert size > MAX_MODULE_BYTES, f"{_name(module)} is split: drop it from KNOWN_OVERSIZE."
        return
    assert size <= MAX_MODULE_BYTES, (
        f"{_name(module)} is {size} bytes (limit {MAX_MODULE_BYTES}): split it by concept.")


def _package_imports(module: Path) -> set[str]:
    """The efftheory modules `module` imports (absolute names), at any depth of the file."""
    package = ".".join(module.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    imported = set()
    for node in ast.walk(ast.parse(module.read_text(), filename=str(module))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            imported |= ({stem} if node.module else {f"{stem}.{a.name}" for a in node.names})
    return {name for name in imported if name == "efftheory" or name.startswith("efftheory.")}


@pytest.mark.parametrize("module", sorted((PACKAGE / "theory").glob("*.py")), ids=_name)
def test_theory_imports_nothing_from_the_rest_of_the_package(module):
    outside = {name for name in _package_imports(module)
               if not name.startswith("efftheory.theory")} - THEORY_MAY_IMPORT
    known = THEORY_KNOWN_IMPORTS.get(_name(module), set())
    assert outside <= known, (
        f"{_name(module)} imports {sorted(outside - known)} from outside efftheory.theory: "
        f"the theory is pure mathematics; pass it numbers, not models.")


def test_the_import_check_sees_relative_imports():
    imported = _package_imports(PACKAGE / "sampling" / "_api.py")
    assert {"efftheory._partition", "efftheory.sampling._tempering",
            "efftheory.sampling._persistence"} <= imported
