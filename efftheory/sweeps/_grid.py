"""A sweep's grid: the configs it expands to, their hashes and their readable run ids."""

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def expand_grid(grid: Mapping[str, Sequence] | Sequence[Mapping],
                fixed: Mapping[str, Any] | None = None) -> list[dict]:
    """Configs of a sweep: the Cartesian product of `grid`'s lists, each with `fixed` added.

    `grid` maps setting names to lists of values (`{"card": [...], "seed": [0, 1]}`; the
    last key varies fastest), or is already a list of config dicts.
    """
    fixed = dict(fixed or {})
    if isinstance(grid, Mapping):
        for name, values in grid.items():
            if isinstance(values, str | bytes) or not isinstance(values, Sequence):
                raise TypeError(f"grid[{name!r}] must be a list of values, got {values!r}; "
                                f"write [{values!r}] or move it to the fixed settings.")
            if len(values) == 0:
                raise ValueError(f"grid[{name!r}] is empty; give at least one value.")
        clash = set(grid) & set(fixed)
        if clash:
            raise ValueError(f"{sorted(clash)} appear both in the grid and in the fixed "
                             "settings; keep each setting in one of them.")
        names = list(grid)
        configs = [{**dict(zip(names, values, strict=True)), **fixed}
                   for values in itertools.product(*(grid[name] for name in names))]
    else:
        configs = [{**dict(config), **fixed} for config in grid]
    for config in configs:
        _canonical_json(config)
    return configs


def config_hash(config: Mapping) -> str:
    """First 10 hex digits of the SHA-256 of the config's canonical JSON."""
    return hashlib.sha256(_canonical_json(config).encode()).hexdigest()[:10]


def run_id(config: Mapping, name_keys: Iterable[str] | None = None) -> str:
    """`key-value_key-value-<hash>`: a slug of `name_keys` (default: all scalar settings)
    for people, and the hash of the whole config that makes it unique and stable. Scalars
    inside a dict value appear as `key.inner-value` (`overrides.width-8`)."""
    keys = sorted(config) if name_keys is None else list(name_keys)
    scalar = str | int | float | bool
    parts = []
    for key in keys:
        value = config.get(key)
        if isinstance(value, scalar):
            parts.append(f"{key}-{value}")
        elif isinstance(value, Mapping):
            parts += [f"{key}.{inner}-{item}" for inner, item in value.items()
                      if isinstance(item, scalar)]
    slug = re.sub(r"[^A-Za-z0-9.=+-]+", "_", "_".join(parts)).strip("_.")[:80]
    return f"{slug}-{config_hash(config)}" if slug else config_hash(config)


def _canonical_json(config: Mapping) -> str:
    try:
        return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"a sweep config must be JSON-able (str, int, float, bool, None, "
                        f"lists and dicts of them), got {config!r}: {error}") from None
