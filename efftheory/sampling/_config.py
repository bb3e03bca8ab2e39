r"""Sampler configuration and inverse-temperature ladders, validated eagerly.

A ladder $n_1 < \dots < n_R$ of inverse temperatures is sampled jointly by replica
exchange; `geometric_ladder` spaces the positive rungs evenly in $\log n$, the spacing that
keeps neighbour swap acceptance roughly constant when $\lambda(n)$ varies slowly in
$\log n$ (Earl and Deem 2005, *Parallel tempering: theory, applications, and new
perspectives*, Phys. Chem. Chem. Phys. 7, §3.1).
"""

import dataclasses
import json
from collections.abc import Sequence

import numpy as np

from .._validation import check_bool, check_int, check_number


def _setting(text: str, **field):
    """A settings field with its help `text` (shown by `efftheory run --help`)."""
    return dataclasses.field(metadata={"help": text}, **field)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Ladder:
    r"""A geometric ladder of inverse temperatures: `num_rungs` rungs in all, the positive
    ones evenly spaced in $\log n$ from `n_min` to `n_max` (exactly), after the prior rung
    $n = 0$ when `include_prior` (free energies are then absolute, $F(0) = 0$).

    `n_ladder` builds the rungs; `geometric_ladder` is the same as a function.
    """

    n_min: float = _setting("smallest positive rung n")
    n_max: float = _setting("top rung n")
    num_rungs: int = _setting("number of rungs in all, the prior rung n = 0 included")
    include_prior: bool = _setting("start with the prior rung n = 0 (F(n) is then absolute)",
                                   default=False)

    def __post_init__(self) -> None:
        check_number("n_min", self.n_min, "the smallest positive rung, e.g. 1.0")
        if not self.n_min > 0:
            raise ValueError(f"n_min must be positive and finite, got {self.n_min}; the prior "
                             "rung n=0 is added with include_prior=True.")
        check_number("n_max", self.n_max, "the top rung, e.g. 1e6")
        check_int("num_rungs", self.num_rungs, 1,
                  "count every rung, the prior rung n = 0 included")
        check_bool("include_prior", self.include_prior)
        num_geometric = self.num_rungs - int(self.include_prior)
        if self.n_max < self.n_min or (self.n_max == self.n_min and num_geometric > 1):
            raise ValueError(f"n_max must exceed n_min={self.n_min}, got {self.n_max}.")
        if num_geometric < 1 or (num_geometric == 1 and self.n_max != self.n_min):
            raise ValueError(f"num_rungs={self.num_rungs} is too few for a ladder from "
                             f"{self.n_min} to {self.n_max}; use at least "
                             f"{2 + int(self.include_prior)}.")

    @property
    def n_ladder(self) -> np.ndarray:
        """The rungs, increasing, float64."""
        num_geometric = self.num_rungs - int(self.include_prior)
        if num_geometric == 1:
            rungs = np.array([float(self.n_min)])
        else:
            rungs = np.geomspace(self.n_min, self.n_max, num_geometric)
            # exact endpoints, not exp(log(.)) round-off
            rungs[0], rungs[-1] = self.n_min, self.n_max
        if self.include_prior:
            rungs = np.concatenate([[0.0], rungs])
        return rungs.astype(np.float64)


def geometric_ladder(
    n_min: float, n_max: float, num_rungs: int, include_prior: bool = False
) -> np.ndarray:
    r"""Inverse temperatures evenly spaced in $\log n$ from `n_min` to `n_max`.

    With `include_prior=True` the first rung is $n = 0$ (the prior) and the remaining
    `num_rungs - 1` rungs are geometric from `n_min` to `n_max`; free energies are then
    absolute ($F(0) = 0$). The rungs of `Ladder(n_min=..., n_max=..., num_rungs=...,
    include_prior=...)`.
    """
    return Ladder(n_min=n_min, n_max=n_max, num_rungs=num_rungs,
                  include_prior=include_prior).n_ladder


def validate_ladder(n_ladder: Sequence[float] | np.ndarray | float) -> np.ndarray:
    """Return `n_ladder` as a float64 vector, or raise naming what to change."""
    ladder = np.atleast_1d(np.asarray(n_ladder, dtype=np.float64))
    if ladder.ndim != 1 or ladder.size == 0:
        raise ValueError(f"n_ladder must be a non-empty 1-D sequence of inverse temperatures, "
                         f"got shape {np.shape(n_ladder)}.")
    if not np.all(np.isfinite(ladder)):
        raise ValueError(f"n_ladder must be finite, got {ladder.tolist()}.")
    if np.any(ladder < 0):
        raise ValueError(f"n_ladder must have every n >= 0 (n is a sample size), got "
                         f"{ladder.tolist()}; drop the negative rungs.")
    if np.any(np.diff(ladder) == 0):
        raise ValueError(f"n_ladder has duplicate rungs {ladder.tolist()}; each n must appear "
                         "once (use chains=... for more replicas of one rung).")
    if np.any(np.diff(ladder) < 0):
        raise ValueError(f"n_ladder must be sorted increasingly, got {ladder.tolist()}; pass "
                         "sorted(n_ladder).")
    return ladder


@dataclasses.dataclass(frozen=True, kw_only=True)
class SamplerSettings:
    """How a ladder is sampled: every setting of `efftheory.sample` but the ladder itself,
    with its defaults. `efftheory.sample` takes them as keywords; a study holds them as its
    `sampler`."""

    chains: int = _setting("independent copies of the whole ladder, run side by side",
                           default=4)
    draws: int = _setting("steps kept per chain and rung after warmup", default=1000)
    warmup: int = _setting("steps adapting each rung's step size and mass matrix, without "
                           "swaps (0 disables adaptation)", default=1000)
    seed: int = _setting("the PRNG seed: the same seed gives the same draws, bit for bit, on "
                         "the same platform", default=0)
    swap_every: int = _setting("steps between neighbour swap attempts after warmup",
                               default=1)
    chunk_size: int = _setting("steps per compiled chunk, and per checkpoint", default=100)
    store_positions: bool = _setting("keep every position in the InferenceData (memory: "
                                     "rungs x chains x draws x parameters x 8 bytes)",
                                     default=True)
    adapt_ladder: bool = _setting("move the interior rungs during the first half of warmup "
                                  "to equalize swap rejection (Syed et al. 2022)",
                                  default=False)
    max_tree_depth: int = _setting("NUTS tree depth: at most 2^depth - 1 leapfrog steps per "
                                   "draw", default=10)
    target_accept_prob: float = _setting("the acceptance probability NUTS adapts its step "
                                         "size to, in (0, 1)", default=0.8)
    dense_mass: bool = _setting("adapt a dense mass matrix instead of a diagonal one",
                                default=False)
    swap: bool = _setting("exchange replicas between neighbouring rungs (without: "
                          "independent NUTS per rung)", default=True)

    def __post_init__(self) -> None:
        check_int("chains", self.chains, 1, "use chains >= 1 (4 is a good default)")
        check_int("draws", self.draws, 1, "use draws >= 1")
        check_int("warmup", self.warmup, 0, "use warmup >= 0 (0 disables adaptation)")
        check_int("swap_every", self.swap_every, 1, "use swap_every >= 1")
        check_int("chunk_size", self.chunk_size, 1, "use chunk_size >= 1")
        check_int("max_tree_depth", self.max_tree_depth, 1, "use max_tree_depth in 1..15")
        check_int("seed", self.seed, 0, "use a non-negative integer seed")
        check_number("target_accept_prob", self.target_accept_prob,
                     "0.8 is NumPyro's default")
        if not 0.0 < self.target_accept_prob < 1.0:
            raise ValueError(f"target_accept_prob must lie in (0, 1), got "
                             f"{self.target_accept_prob}; 0.8 is NumPyro's default.")
        for name in ("store_positions", "adapt_ladder", "dense_mass", "swap"):
            check_bool(name, getattr(self, name))
        if self.adapt_ladder and self.warmup < 2 * self.chunk_size:
            raise ValueError(f"adapt_ladder=True adjusts rungs between warmup chunks; use "
                             f"warmup >= 2*chunk_size (got warmup={self.warmup}, "
                             f"chunk_size={self.chunk_size}).")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SamplerConfig(SamplerSettings):
    """Everything that determines a run's draws, bit for bit (with the platform): the
    ladder `n_ladder` (a tuple of floats, see `validate_ladder`) and the sampler settings.

    `chunk_size` steps run in one compiled `lax.scan`; chunks never straddle the end of
    warmup, and every chunk's key is `fold_in(key(seed), chunk_index)`, so a run resumed
    from its last checkpoint reproduces the uninterrupted run exactly.
    """

    n_ladder: tuple[float, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.n_ladder, tuple):
            raise TypeError(f"n_ladder must be a tuple of floats, got "
                            f"{type(self.n_ladder).__name__}; pass "
                            "tuple(validate_ladder(n_ladder).tolist()).")
        ladder = validate_ladder(self.n_ladder)
        if self.adapt_ladder and len(ladder) < 3:
            raise ValueError("adapt_ladder=True moves interior rungs, so it needs a ladder of "
                             f"at least 3 rungs; got {len(ladder)}.")

    @property
    def num_rungs(self) -> int:
        return len(self.n_ladder)

    @property
    def swaps_enabled(self) -> bool:
        return self.swap and self.num_rungs > 1

    def chunk_lengths(self) -> list[int]:
        """Steps per chunk: warmup cut at `chunk_size`, then draws cut at `chunk_size`."""
        lengths = []
        for total in (self.warmup, self.draws):
            full, rest = divmod(total, self.chunk_size)
            lengths += [self.chunk_size] * full + ([rest] if rest else [])
        return lengths

    def num_warmup_chunks(self) -> int:
        return -(-self.warmup // self.chunk_size)

    def to_json(self) -> str:
        fields = dataclasses.asdict(self)
        # The ladder first, as in the config.json of every earlier run folder.
        return json.dumps({"n_ladder": fields.pop("n_ladder"), **fields}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "SamplerConfig":
        fields = json.loads(text)
        fields["n_ladder"] = tuple(fields["n_ladder"])
        return cls(**fields)
