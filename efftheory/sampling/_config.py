r"""Sampler configuration and inverse-temperature ladders, validated eagerly.

A ladder $n_1 < \dots < n_R$ of inverse temperatures is sampled jointly by replica
exchange; `geometric_ladder` spaces the positive rungs evenly in $\log n$, the spacing that
keeps neighbour swap acceptance roughly constant when $\lambda(n)$ varies slowly in
$\log n$ (Earl and Deem 2005, *Parallel tempering: theory, applications, and new
perspectives*, Phys. Chem. Chem. Phys. 7, §3.1).
"""

import dataclasses
import json
import math
from collections.abc import Sequence

import numpy as np


def geometric_ladder(
    n_min: float, n_max: float, num_rungs: int, include_prior: bool = False
) -> np.ndarray:
    r"""Inverse temperatures evenly spaced in $\log n$ from `n_min` to `n_max`.

    With `include_prior=True` the first rung is $n = 0$ (the prior) and the remaining
    `num_rungs - 1` rungs are geometric from `n_min` to `n_max`; free energies are then
    absolute ($F(0) = 0$).
    """
    num_geometric = num_rungs - 1 if include_prior else num_rungs
    if not (n_min > 0 and math.isfinite(n_min)):
        raise ValueError(f"n_min must be positive and finite, got {n_min}; the prior rung n=0 "
                         "is added with include_prior=True.")
    if not (n_max >= n_min and math.isfinite(n_max)):
        raise ValueError(f"n_max must be finite and >= n_min={n_min}, got {n_max}.")
    if num_geometric < 1 or (num_geometric == 1 and n_max != n_min):
        raise ValueError(f"num_rungs={num_rungs} is too few for a ladder from {n_min} to "
                         f"{n_max}; use at least {2 + int(include_prior)}.")
    if num_geometric == 1:
        rungs = np.array([float(n_min)])
    else:
        rungs = np.geomspace(n_min, n_max, num_geometric)
        rungs[0], rungs[-1] = n_min, n_max  # exact endpoints, not exp(log(.)) round-off
    if include_prior:
        rungs = np.concatenate([[0.0], rungs])
    return rungs.astype(np.float64)


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


@dataclasses.dataclass(frozen=True)
class SamplerConfig:
    """Everything that determines a run's draws, bit for bit (with the platform).

    `chunk_size` steps run in one compiled `lax.scan`; chunks never straddle the end of
    warmup, and every chunk's key is `fold_in(key(seed), chunk_index)`, so a run resumed
    from its last checkpoint reproduces the uninterrupted run exactly.
    """

    n_ladder: tuple[float, ...]
    chains: int = 4
    draws: int = 1000
    warmup: int = 1000
    seed: int = 0
    swap_every: int = 1
    chunk_size: int = 100
    store_positions: bool = True
    adapt_ladder: bool = False
    max_tree_depth: int = 10
    target_accept_prob: float = 0.8
    dense_mass: bool = False
    swap: bool = True

    def __post_init__(self) -> None:
        ladder = validate_ladder(self.n_ladder)
        object.__setattr__(self, "n_ladder", tuple(float(n) for n in ladder))
        _check_int("chains", self.chains, 1, "use chains >= 1 (4 is a good default)")
        _check_int("draws", self.draws, 1, "use draws >= 1")
        _check_int("warmup", self.warmup, 0, "use warmup >= 0 (0 disables adaptation)")
        _check_int("swap_every", self.swap_every, 1, "use swap_every >= 1")
        _check_int("chunk_size", self.chunk_size, 1, "use chunk_size >= 1")
        _check_int("max_tree_depth", self.max_tree_depth, 1, "use max_tree_depth in 1..15")
        _check_int("seed", self.seed, 0, "use a non-negative integer seed")
        if not 0.0 < self.target_accept_prob < 1.0:
            raise ValueError(f"target_accept_prob must lie in (0, 1), got "
                             f"{self.target_accept_prob}; 0.8 is NumPyro's default.")
        if self.adapt_ladder and len(ladder) < 3:
            raise ValueError("adapt_ladder=True moves interior rungs, so it needs a ladder of "
                             f"at least 3 rungs; got {len(ladder)}.")
        if self.adapt_ladder and self.warmup < 2 * self.chunk_size:
            raise ValueError(f"adapt_ladder=True adjusts rungs between warmup chunks; use "
                             f"warmup >= 2*chunk_size (got warmup={self.warmup}, "
                             f"chunk_size={self.chunk_size}).")

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
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "SamplerConfig":
        fields = json.loads(text)
        fields["n_ladder"] = tuple(fields["n_ladder"])
        return cls(**fields)


def _check_int(name: str, value: object, minimum: int, fix: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}; {fix}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}; {fix}.")
