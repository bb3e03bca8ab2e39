"""A study's configuration: every setting it depends on, and the named presets."""

import dataclasses

import numpy as np

from ._guards import validate_study_settings


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Everything a study depends on. JSON-serializable; the seed makes it reproducible.

    Attributes:
        card: model card name or path.
        overrides: card parameter overrides (e.g. ``{"width": 8}``).
        n_min, n_max, num_rungs: the ladder is ``[0]`` plus `num_rungs` geometric rungs
            from `n_min` to `n_max` (the prior rung makes $F$ absolute).
        chains, warmup, draws, seed, chunk_size, target_accept_prob, max_tree_depth:
            sampler settings (`efftheory.sample`).
        kmax: highest mode in the spectrum and kernel (default: from the width).
        fit_n_min: smallest $n$ entering the $(\\log n)^p$ fit.
        store_positions: keep every position in the InferenceData (memory: rungs x
            chains x draws x params x 8 bytes).
        cutoff_modes: numbers of kept modes $K$ whose truncated models are sampled over
            the same ladder (two-layer cards in form raw or collapsed): each rung gains
            $\\hat\\lambda_K(n)$ and $K^*(n)$ (`efftheory.study._cutoff`).
    """

    card: str
    overrides: dict = dataclasses.field(default_factory=dict)
    n_min: float = 1.0
    n_max: float = 1e5
    num_rungs: int = 16
    chains: int = 4
    warmup: int = 500
    draws: int = 1000
    seed: int = 0
    chunk_size: int = 100
    target_accept_prob: float = 0.9
    max_tree_depth: int = 10
    kmax: int | None = None
    fit_n_min: float = 10.0
    store_positions: bool = True
    cutoff_modes: list[int] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        if not (isinstance(self.n_min, int | float) and self.n_min > 0):
            raise ValueError(f"n_min must be positive (the prior rung n = 0 is added for you), "
                             f"got {self.n_min!r}.")
        if not (isinstance(self.n_max, int | float) and self.n_max > self.n_min):
            raise ValueError(f"n_max must exceed n_min={self.n_min}, got {self.n_max!r}.")
        if not (isinstance(self.num_rungs, int) and self.num_rungs >= 2):
            raise ValueError(f"num_rungs must be an integer >= 2, got {self.num_rungs!r}.")
        validate_study_settings(self)

    @property
    def n_ladder(self) -> np.ndarray:
        ladder = np.geomspace(self.n_min, self.n_max, self.num_rungs)
        return np.concatenate([[0.0], ladder])

    def replace(self, **changes) -> "StudyConfig":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown study settings {sorted(unknown)}; known: "
                             f"{sorted(f.name for f in dataclasses.fields(self))}.")
        return dataclasses.replace(self, **changes)


#: Named configurations. ``learning-zero-small`` is the CPU main job (about ten minutes on
#: two cores). ``learning-zero-256`` is the source post's 256-parameter model (width 128)
#: from n = 1 to 1e8 on a CPU: the readout integrated out (``form="collapsed"``, NUTS over
#: the 128 inner weights, lambda-hat Rao-Blackwellized), 24 rungs plus n = 0, 4 chains, and
#: trajectories capped at 15 leapfrog steps (tree depth 4): at n = 1e8 that costs about 30
#: gradients per effective sample against 106 with depth 10 and acceptance 0.9
#: (docs/benchmarks.md, `experiments/flagship_geometry.py`), and under vmap every lane pays
#: the longest trajectory. ``learning-zero-256-gpu`` is the same model with larger budgets;
#: ``learning-zero-circle`` the circle variant.
PRESETS: dict[str, StudyConfig] = {
    "learning-zero-small": StudyConfig(card="learning-zero-small", n_min=1.0, n_max=1e6,
                                       num_rungs=15, chains=4, warmup=400, draws=600,
                                       max_tree_depth=8, target_accept_prob=0.9),
    "learning-zero-256": StudyConfig(card="learning-zero-256", overrides={"form": "collapsed"},
                                     n_min=1.0, n_max=1e8, num_rungs=24, chains=4,
                                     warmup=300, draws=400, max_tree_depth=4,
                                     target_accept_prob=0.8),
    "learning-zero-256-gpu": StudyConfig(card="learning-zero-256",
                                         overrides={"form": "collapsed"}, n_min=1.0,
                                         n_max=1e8, num_rungs=33, chains=8, warmup=1000,
                                         draws=2000, max_tree_depth=6,
                                         target_accept_prob=0.8, store_positions=False),
    "learning-zero-circle": StudyConfig(card="learning-zero-circle", n_min=1.0, n_max=1e6,
                                        num_rungs=19, chains=4, warmup=500, draws=1000),
}


def study_config(card_or_preset: str, **settings) -> StudyConfig:
    """The preset of that name (or a default config for a card), with `settings` applied."""
    base = PRESETS.get(card_or_preset, StudyConfig(card=card_or_preset))
    return base.replace(**settings) if settings else base
