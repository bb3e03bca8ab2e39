r"""A seconds-long sweep run: replica-exchange NUTS on a scaled normal crossing.

`demo_run(config, out_dir)` is a complete run function for `efftheory.sweep`: a pure
function of its JSON config (seed included) that writes `summary.json` into `out_dir`. It
samples $L = c\,w_1^2 w_2^2$ with $N(0, 1)$ priors, whose learning coefficient tends to
$\lambda = 1/2$ with multiplicity 2 (Watanabe 2009, *Algebraic Geometry and Statistical
Learning Theory*, Thm. 6.1), over a small ladder. The sweep tests use it (through
`sweep_runs`) where the study runner would be too slow.
"""

import warnings
from collections.abc import Mapping
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from efftheory._io import atomic_write_json
from efftheory._types import Float, Key, Position, Scalar
from efftheory.models._partition import PartitionFunction, standard_normal_log_prior
from efftheory.sampling import SamplingWarning, geometric_ladder, sample

_SETTINGS = {"coefficient": 1.0, "n_min": 1.0, "n_max": 100.0, "rungs": 3, "chains": 2,
             "warmup": 50, "draws": 50, "seed": 0}


class ScaledCrossing(PartitionFunction):
    r"""$L(w) = c\,w_1^2 w_2^2$, prior $N(0, I_2)$, $L_0 = 0$.

    `coefficient` is an array leaf, not a static field, so runs that differ only in $c$
    share one compiled kernel.
    """

    coefficient: Float[jax.Array, ""]
    num_params: int = eqx.field(static=True, default=2)
    loss_minimum: float = eqx.field(static=True, default=0.0)

    def population_loss(self, position: Position) -> Scalar:
        return self.coefficient * position[0] ** 2 * position[1] ** 2

    def log_prior(self, position: Position) -> Scalar:
        return standard_normal_log_prior(position)

    def sample_prior(self, key: Key) -> Position:
        return jax.random.normal(key, (2,), dtype=jnp.float64)


def demo_run(config: Mapping, out_dir: str | Path) -> dict:
    """Sample `ScaledCrossing(coefficient)` over a geometric ladder with a prior rung.

    Config keys (all optional): `coefficient`, `n_min`, `n_max`, `rungs` (positive rungs),
    `chains`, `warmup`, `draws`, `seed`. Writes and returns the summary: the ladder,
    $\\hat\\lambda(n)$ with its MCSE, $F(n)$ by thermodynamic integration, and diagnostics.
    """
    unknown = set(config) - set(_SETTINGS)
    if unknown:
        raise ValueError(f"demo_run does not know {sorted(unknown)}; its settings are "
                         f"{sorted(_SETTINGS)}.")
    settings = {**_SETTINGS, **config}
    ladder = geometric_ladder(settings["n_min"], settings["n_max"], settings["rungs"] + 1,
                              include_prior=True)
    model = ScaledCrossing(coefficient=jnp.asarray(settings["coefficient"], jnp.float64))
    with warnings.catch_warnings():
        # A demo this short always fails the ESS thresholds; the numbers are still exact
        # functions of the config, which is what sweeps are tested on.
        warnings.simplefilter("ignore", SamplingWarning)
        result = sample(model, ladder, chains=settings["chains"], warmup=settings["warmup"],
                        draws=settings["draws"], seed=settings["seed"], progress=False,
                        store_positions=False)
    summary = {
        "n_ladder": ladder.tolist(),
        "learning_coefficient": result.learning_coefficient.tolist(),
        "learning_coefficient_mcse": result.learning_coefficient_mcse.tolist(),
        "free_energy": result.free_energy.tolist(),
        "learning_coefficient_top": float(result.learning_coefficient[-1]),
        "rhat_max": float(np.nanmax(result.rhat)),
        "divergences": int(result.divergences.sum()),
    }
    atomic_write_json(Path(out_dir) / "summary.json", summary)
    return summary
