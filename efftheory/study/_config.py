"""A study's configuration: a card, its ladder and sampler settings, and the named presets."""

import dataclasses
from collections.abc import Mapping

import numpy as np

from ..sampling._config import Ladder, SamplerSettings
from ._guards import validate_study_settings

#: The ladder of a study that names none: n = 0 and 16 geometric rungs from 1 to 1e5.
DEFAULT_LADDER = Ladder(n_min=1.0, n_max=1e5, num_rungs=17, include_prior=True)

#: Settings that `StudyConfig.replace` and `study_config` take by their own names, routed
#: to the study's ladder or sampler settings.
LADDER_SETTINGS = tuple(field.name for field in dataclasses.fields(Ladder))
SAMPLER_SETTINGS = tuple(field.name for field in dataclasses.fields(SamplerSettings))


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    r"""Everything a study depends on. JSON-serializable; the seed makes it reproducible.

    Attributes:
        card: model card name or path.
        overrides: card parameter overrides (e.g. ``{"width": 8}``).
        ladder: the inverse temperatures, `efftheory.Ladder`: ``num_rungs`` rungs in all,
            the prior rung $n = 0$ (which makes $F$ absolute) and geometric rungs from
            ``n_min`` to ``n_max``. ``n_max`` is set once, here: a card whose builder takes
            an ``n_max`` (the two-layer cards, whose loss quadrature is chosen to be
            accurate up to it) gets the ladder's.
        sampler: `efftheory.SamplerSettings` for `efftheory.sample` (chains, warmup, draws,
            seed, ...), with its defaults where a preset names none.
        kmax: highest mode in the spectrum and kernel (default: from the width).
        fit_n_min: smallest $n$ entering the $(\log n)^p$ fit.
        cutoff_modes: numbers of kept modes $K$ whose truncated models are sampled over
            the same ladder (two-layer cards in form raw or collapsed): each rung gains
            $\hat\lambda_K(n)$ and $K^*(n)$ (`efftheory.study._cutoff`).

    `study_config` and `replace` take every setting by its own name (``draws=200``,
    ``n_max=1e6``) and route it to the ladder or the sampler settings.
    """

    card: str
    overrides: dict = dataclasses.field(default_factory=dict)
    ladder: Ladder = DEFAULT_LADDER
    sampler: SamplerSettings = SamplerSettings()
    kmax: int | None = dataclasses.field(
        default=None, metadata={"help": "highest mode in the spectrum and kernel, from the width "
                                   "when unset"})
    fit_n_min: float = dataclasses.field(
        default=10.0, metadata={"help": "smallest n entering the (log n)^p fit"})
    cutoff_modes: list[int] = dataclasses.field(
        default_factory=list, metadata={
            "help": "also sample the K-mode truncations over the same ladder (two-layer "
                    "cards): lambda-hat_K(n) and K*(n) in the report"})

    def __post_init__(self):
        validate_study_settings(self)

    @property
    def n_ladder(self) -> np.ndarray:
        """The ladder's rungs, n = 0 first."""
        return self.ladder.n_ladder

    def settings(self) -> dict:
        """Every setting by its own name (``n_max``, ``draws``, ``kmax``, ...): the ladder's,
        the sampler's and the study's; the card and its overrides aside."""
        own = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)
               if field.name not in ("card", "overrides", "ladder", "sampler")}
        return {**dataclasses.asdict(self.ladder), **dataclasses.asdict(self.sampler), **own}

    def replace(self, **changes) -> "StudyConfig":
        """This config with `changes`: fields (``ladder=Ladder(...)``, ``overrides={...}``)
        or settings by their own names (``num_rungs=20``, ``draws=200``)."""
        ladder = {name: changes.pop(name) for name in LADDER_SETTINGS if name in changes}
        sampler = {name: changes.pop(name) for name in SAMPLER_SETTINGS if name in changes}
        unknown = set(changes) - {field.name for field in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown study settings {sorted(unknown)}; known: "
                             f"{sorted(known_settings())}.")
        if ladder:
            changes["ladder"] = dataclasses.replace(changes.get("ladder", self.ladder),
                                                    **ladder)
        if sampler:
            changes["sampler"] = dataclasses.replace(changes.get("sampler", self.sampler),
                                                     **sampler)
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, fields: Mapping) -> "StudyConfig":
        """A config from a dict: its `dataclasses.asdict` form (``ladder`` and ``sampler``
        as tables), or a flat one as a sweep grid writes it, every setting by its own name
        and card parameters beside them (those become overrides). Settings it does not
        name have the defaults of `StudyConfig` (not a preset's)."""
        fields = dict(fields)
        if not isinstance(fields.get("card"), str):
            raise ValueError(f"a study config needs a card (a model card name or path), got "
                             f"{fields.get('card')!r}.")
        for name, kind in (("ladder", Ladder), ("sampler", SamplerSettings)):
            if isinstance(fields.get(name), Mapping):
                fields[name] = kind(**fields[name])
        known = known_settings()
        overrides = {**fields.pop("overrides", {}),
                     **{key: fields.pop(key) for key in list(fields) if key not in known}}
        return cls(card=fields.pop("card")).replace(overrides=overrides, **fields)


def known_settings() -> set[str]:
    """The names `StudyConfig.replace` takes: its fields and the ladder's and sampler's."""
    return ({field.name for field in dataclasses.fields(StudyConfig)}
            | set(LADDER_SETTINGS) | set(SAMPLER_SETTINGS))


def setting_fields() -> list[tuple[dataclasses.Field, object]]:
    """Each setting's field (the ladder's, the sampler's, then the study's own), with its
    value in a config for a card without a preset; the command line's flags are made from
    them."""
    bare = StudyConfig(card="card").settings()
    fields = [*dataclasses.fields(Ladder), *dataclasses.fields(SamplerSettings),
              *(field for field in dataclasses.fields(StudyConfig) if field.name in bare)]
    return [(field, bare[field.name]) for field in fields]


#: Named configurations. ``learning-zero-small`` is the CPU main job (about ten minutes on
#: two cores). ``learning-zero-256`` is the source post's 256-parameter model (width 128)
#: from n = 1 to 1e8 on a CPU: the readout integrated out (``form="collapsed"``, NUTS over
#: the 128 inner weights, lambda-hat Rao-Blackwellized), n = 0 and 24 rungs, 4 chains, and
#: trajectories capped at 15 leapfrog steps (tree depth 4): at n = 1e8 that costs about 30
#: gradients per effective sample against 106 with depth 10 and acceptance 0.9
#: (docs/benchmarks.md, `experiments/flagship_geometry.py`), and under vmap every lane pays
#: the longest trajectory. ``learning-zero-256-gpu`` is the same model with larger budgets;
#: ``learning-zero-circle`` the circle variant.
PRESETS: dict[str, StudyConfig] = {
    "learning-zero-small": StudyConfig(
        card="learning-zero-small",
        ladder=Ladder(n_min=1.0, n_max=1e6, num_rungs=16, include_prior=True),
        sampler=SamplerSettings(chains=4, warmup=400, draws=600, max_tree_depth=8,
                                target_accept_prob=0.9)),
    "learning-zero-256": StudyConfig(
        card="learning-zero-256", overrides={"form": "collapsed"},
        ladder=Ladder(n_min=1.0, n_max=1e8, num_rungs=25, include_prior=True),
        sampler=SamplerSettings(chains=4, warmup=300, draws=400, max_tree_depth=4,
                                target_accept_prob=0.8)),
    "learning-zero-256-gpu": StudyConfig(
        card="learning-zero-256", overrides={"form": "collapsed"},
        ladder=Ladder(n_min=1.0, n_max=1e8, num_rungs=34, include_prior=True),
        sampler=SamplerSettings(chains=8, warmup=1000, draws=2000, max_tree_depth=6,
                                target_accept_prob=0.8, store_positions=False)),
    "learning-zero-circle": StudyConfig(
        card="learning-zero-circle",
        ladder=Ladder(n_min=1.0, n_max=1e6, num_rungs=20, include_prior=True),
        sampler=SamplerSettings(chains=4, warmup=500, draws=1000, max_tree_depth=10,
                                target_accept_prob=0.9)),
}


def study_config(card_or_preset: str, **settings) -> StudyConfig:
    """The preset of that name (or a default config for a card), with `settings` applied:
    fields of `StudyConfig` or any setting by its own name (``draws=200``, ``n_max=1e6``)."""
    base = PRESETS.get(card_or_preset, StudyConfig(card=card_or_preset))
    return base.replace(**settings) if settings else base
