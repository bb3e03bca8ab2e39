"""The package's shape (issue 14): small modules, a theory that stands on its own, and
floors that follow the data flow, each importing only from the floors below it."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "efftheory"
MODULES = sorted(PACKAGE.rglob("*.py"))

#: A module past this size holds more than one concept: split it (docs: STYLE.md).
MAX_MODULE_BYTES = 20_000

#: Modules still over the limit, each to be split (issue 14): shrink, never grow.
KNOWN_OVERSIZE: set[str] = set()

#: Underscore names that modules still import from one another, scheduled to go (issue 14,
#: item 5: one set of positive-int validators). Shrink, never grow.
KNOWN_PRIVATE_IMPORTS: set[str] = set()

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


def _package(module: Path) -> str:
    return ".".join(module.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])


def _source_module(node: ast.ImportFrom, package: str) -> str:
    """The absolute name of the module a ``from ... import`` reads from."""
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module or ""


def _in_package(name: str) -> bool:
    return name == "efftheory" or name.startswith("efftheory.")


def _package_imports(module: Path) -> set[str]:
    """The efftheory modules `module` imports (absolute names), at any depth of the file."""
    package = _package(module)
    imported = set()
    for node in ast.walk(ast.parse(module.read_text(), filename=str(module))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            stem = _source_module(node, package)
            imported |= ({stem} if node.module else {f"{stem}.{a.name}" for a in node.names})
    return {name for name in imported if _in_package(name)}


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
    assert {"efftheory.models._partition", "efftheory.sampling._tempering",
            "efftheory.sampling._persistence"} <= imported


#: The floors of the package, lowest first, in the order the data flows: the base modules,
#: the theory (read by everything, reading only type aliases), the inputs (measures,
#: activations, quadrature, mode coefficients), the models, the samplers and the estimators
#: built on samples, the study, sweeps of studies, and the entry points.
FLOORS = ("base", "theory", "modes", "models", "sampling", "study", "sweeps", "entry")
#: The top level holds only these: the base (no floor below it) and the entry points.
BASE_MODULES = {"_types", "_validation", "_io", "_linalg"}
ENTRY_MODULES = {"__init__", "_cli"}

#: Imports of a floor above the importing module's that exist today, (module, imported
#: name) -> why. Shrink, never grow.
KNOWN_UPWARD_IMPORTS: dict[tuple[str, str], str] = {
    ("efftheory/sampling/_provenance.py", "efftheory.__version__"):
        "the version of an efftheory without installed metadata is defined once, in "
        "efftheory/__init__.py; read at call time, once the package is imported",
}


def _floor(name: str) -> str:
    """The floor of an efftheory module or of a name one imports (absolute, dotted)."""
    first = name.split(".")[1] if "." in name else "__init__"
    if first in BASE_MODULES:
        return "base"
    if first in FLOORS:
        return first
    return "entry"  # efftheory._cli, and efftheory itself or a name its __init__ defines


def _module_floor(module: Path) -> str:
    parts = module.relative_to(PACKAGE).with_suffix("").parts
    return _floor(".".join(("efftheory",) + parts))


def test_the_top_level_holds_only_the_base_and_the_entry_points():
    top_level = {module.stem for module in PACKAGE.glob("*.py")}
    assert top_level == BASE_MODULES | ENTRY_MODULES, (
        f"efftheory/ holds {sorted(top_level - BASE_MODULES - ENTRY_MODULES)}: put each "
        "module in the subpackage of its floor (FLOORS).")
    subpackages = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    assert subpackages == set(FLOORS) - {"base", "entry"}, (
        "every subpackage is a floor: add a new one to FLOORS, in its place in the data flow.")


def test_the_floor_of_a_name():
    assert [_floor(name) for name in (
        "efftheory._io", "efftheory.theory", "efftheory.modes._measures",
        "efftheory.models._cards", "efftheory.sampling", "efftheory.study._run",
        "efftheory.sweeps._worker", "efftheory._cli", "efftheory", "efftheory.__version__")] \
        == ["base", "theory", "modes", "models", "sampling", "study", "sweeps", "entry",
            "entry", "entry"]


@pytest.mark.parametrize("module", MODULES, ids=_name)
def test_each_floor_imports_only_from_the_floors_below_it(module):
    floor = FLOORS.index(_module_floor(module))
    upward = {name for name in _package_imports(module) if FLOORS.index(_floor(name)) > floor}
    known = {name for path, name in KNOWN_UPWARD_IMPORTS if path == _name(module)}
    assert upward <= known, (
        f"{_name(module)} (floor {FLOORS[floor]!r}) imports {sorted(upward - known)} from a "
        f"floor above it (floors, lowest first: {FLOORS}): move what it needs down, or the "
        "module up.")
    assert known <= upward, (
        f"{_name(module)} no longer imports {sorted(known - upward)}: drop it from "
        "KNOWN_UPWARD_IMPORTS.")


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _private_imports(source: str, package: str) -> set[str]:
    """Underscore names (``efftheory.x._y``) that `source`, a module of `package`, imports
    from an efftheory module: ``from ._x import _y``, relative or absolute. A private module
    (``from . import _api``) is not one: modules are private by their name."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and _in_package(_source_module(node, package)):
            stem = _source_module(node, package)
            names |= {f"{stem}.{alias.name}" for alias in node.names
                      if alias.name.startswith("_") and not alias.name.startswith("__")
                      and not _is_module(f"{stem}.{alias.name}")}
    return names


@pytest.mark.parametrize("module", MODULES, ids=_name)
def test_no_module_imports_another_modules_private_names(module):
    private = {name for name in _private_imports(module.read_text(), _package(module))
               if name.rsplit(".", 1)[1] not in KNOWN_PRIVATE_IMPORTS}
    assert not private, (
        f"{_name(module)} imports {sorted(private)}: a name another module needs is not "
        "private to its module; give it a public name there (the module stays private), or "
        "move it to where it belongs.")


def test_the_private_import_check_sees_names_not_modules():
    source = ("from .._networks import _positive_int, TwoLayerNetwork\n"
              "from . import _api\nfrom ..theory import _rlct\n"
              "def f():\n    from efftheory._models import _hidden\n")
    assert _private_imports(source, "efftheory.sampling") == {
        "efftheory._networks._positive_int", "efftheory._models._hidden"}
