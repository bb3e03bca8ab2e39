r"""How much memory a study needs, checked before anything is built.

A two-layer network's population loss evaluates every hidden unit at every quadrature node,
and its Gram matrix is width × width; a study does that for every chain on every rung at
once, and the quenched prior average does it for `QUENCHED_DRAWS` prior draws. So a card
override such as ``width=1000000000`` would grow until the machine runs out of memory.
`check_study_memory` estimates the largest of these working sets (and the stored positions,
rungs × chains × draws × parameters) from the card's parameters alone and refuses with the
estimate and the setting to change when it exceeds the cap:

- the cap defaults to half the machine's physical memory;
- ``EFFTHEORY_MAX_MEMORY`` raises or lowers it (bytes, or a number with a unit:
  ``64GB``, ``512MiB``, ``2T``).
"""

import math
import os
import re

from ._inner_weights import QUENCHED_DRAWS

MEMORY_LIMIT_VARIABLE = "EFFTHEORY_MAX_MEMORY"
#: Fraction of physical memory a study may plan to use when no limit is set.
DEFAULT_MEMORY_FRACTION = 0.5
#: Autodiff keeps the forward intermediates for the backward pass (and NUTS a few copies of
#: each state): a working set is counted this many times.
AUTODIFF_FACTOR = 4
#: Fewest quadrature nodes the automatic choice ever settles on (`choose_num_nodes` starts
#: at 16 and compares with 32), so the estimate before building is a lower bound.
MIN_NODES = 32
_FLOAT = 8

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6,
          "mib": 2**20, "g": 10**9, "gb": 10**9, "gib": 2**30, "t": 10**12, "tb": 10**12,
          "tib": 2**40}


class ResourceError(ValueError):
    """A study would need more memory than allowed; the message says what to change."""


def physical_memory() -> int | None:
    """Bytes of physical memory, or None where the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def parse_bytes(text: str) -> int:
    """``"64GB"`` -> 64e9, ``"512MiB"`` -> 512 * 2**20, ``"1000"`` -> 1000."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    if match is None or match.group(2).lower() not in _UNITS:
        raise ResourceError(f"{MEMORY_LIMIT_VARIABLE}={text!r} is not a size: give bytes or a "
                            f"number with a unit (e.g. 64GB, 512MiB).")
    size = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not (math.isfinite(size) and size > 0):
        raise ResourceError(f"{MEMORY_LIMIT_VARIABLE}={text!r} must be a positive size.")
    return int(size)


def memory_limit() -> int:
    """The cap: ``EFFTHEORY_MAX_MEMORY`` if set, else half of physical memory (16 GB if
    unknown)."""
    text = os.environ.get(MEMORY_LIMIT_VARIABLE)
    if text:
        return parse_bytes(text)
    physical = physical_memory()
    return int(DEFAULT_MEMORY_FRACTION * (physical if physical else 32 * 10**9))


def format_bytes(size: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size:.0f} B"


def parameter_count(builder: str, parameters: dict) -> int:
    """The number of parameters a builder's model will have, from its parameters alone."""
    if builder == "two_layer":
        width = parameters["width"]
        dim = parameters["input_dim"] if parameters["measure"] == "gaussian" else 1
        full = width * (1 + dim + int(parameters["bias"]))
        return {"raw": full, "collapsed": full - width, "free_field": parameters["num_modes"],
                "scale_mixture": 2 * parameters["num_modes"]}[parameters["form"]]
    if builder == "deep_linear":
        widths = parameters["widths"]
        return sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    if builder == "normal_crossing":
        return len(parameters["exponents"])
    if builder == "regular":
        return parameters["dim"]
    if builder == "polynomial_machine":
        return sum(parameters["group_sizes"])
    return 2


def study_memory_terms(config, builder: str, parameters: dict, *,
                       num_nodes: int | None = None,
                       num_params: int | None = None) -> dict[str, float]:
    """Bytes of the largest working sets of a study, by what they are for.

    `num_nodes` is the loss quadrature's $Q$ once known; before the model is built the
    fewest nodes ever chosen stand in (a lower bound). `num_params` is the built model's
    size (a user model's, which its parameters do not tell).
    """
    rungs = config.ladder.num_rungs
    if num_params is None:
        num_params = parameter_count(builder, parameters)
    terms = {}
    sampler = config.sampler
    if sampler.store_positions:
        terms["stored positions (rungs x chains x draws x parameters)"] = (
            rungs * sampler.chains * sampler.draws * num_params * _FLOAT)
    if builder == "two_layer":
        width = parameters["width"]
        nodes = MIN_NODES if num_nodes is None else num_nodes
        per_network = (width * nodes + width * width) * _FLOAT * AUTODIFF_FACTOR
        if parameters["form"] in ("raw", "collapsed"):
            terms["loss on every chain and rung (width x nodes and width x width)"] = (
                rungs * sampler.chains * per_network)
        terms[f"quenched prior average ({QUENCHED_DRAWS} prior draws of the width x width "
              f"Gram matrix)"] = QUENCHED_DRAWS * (width * nodes + width * width) * _FLOAT
        kmax = config.kmax if config.kmax is not None else max(4 * width + 1, 41)
        terms["prior mode kernel (kmax x kmax)"] = 4 * kmax * kmax * _FLOAT
    return terms


def check_study_memory(config, builder: str, parameters: dict, *,
                       num_nodes: int | None = None, num_params: int | None = None) -> None:
    """Refuse a study whose estimated memory exceeds `memory_limit` (raises `ResourceError`
    naming the estimate, the largest term and the settings that shrink it)."""
    terms = study_memory_terms(config, builder, parameters, num_nodes=num_nodes,
                               num_params=num_params)
    if not terms:
        return
    limit = memory_limit()
    name, largest = max(terms.items(), key=lambda item: item[1])
    if largest <= limit:
        return
    knobs = {"stored": "fewer --draws, --chains or --num-rungs, or --set store_positions=false",
             "loss": "a smaller --override width, fewer --chains or --num-rungs, or a smaller "
                     "--n-max (fewer quadrature nodes)",
             "quenched": "a smaller --override width",
             "prior": "a smaller --override width or --set kmax"}
    knob = next(text for key, text in knobs.items() if name.startswith(key))
    bound = "at least " if num_nodes is None and builder == "two_layer" else ""
    raise ResourceError(
        f"this study would need {bound}{format_bytes(largest)} of memory for the {name}, "
        f"more than the limit of {format_bytes(limit)}. Use {knob}; or, if the machine "
        f"really has the memory, raise the limit with the environment variable "
        f"{MEMORY_LIMIT_VARIABLE} (e.g. {MEMORY_LIMIT_VARIABLE}=64GB).")
