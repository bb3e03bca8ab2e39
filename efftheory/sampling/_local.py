r"""The local learning coefficient at a trained point $w^*$, by replica-exchange NUTS.

The local learning coefficient (LLC) $\lambda(w^*)$ is the volume-scaling exponent of the
loss near $w^*$: over a small neighbourhood $B(w^*)$,
$\mathrm{Vol}\{w \in B(w^*) : L(w) - L(w^*) < \epsilon\} \propto
\epsilon^{\lambda(w^*)}(-\log\epsilon)^{m(w^*) - 1}$, and the local free energy is
$F_n(B(w^*)) = nL(w^*) + \lambda(w^*)\log n - (m(w^*) - 1)\log\log n + O(1)$. Its estimator
replaces the ball by a localizing prior $\varphi_{w^*}$ and reads $\lambda$ off the
thermodynamic relation $\lambda(n) = dF/d\log n = n\,E_n[L - L(w^*)]$:

$$p_n(w) \propto e^{-n(L(w) - L(w^*))}\,\varphi_{w^*}(w), \qquad
\hat\lambda(w^*; n) = n\,\bigl(E_n[L(w)] - L(w^*)\bigr).$$

(E. Lau, Z. Furman, G. Wang, D. Murfet and S. Wei 2025, *The local learning coefficient: a
singularity-aware complexity measure*, AISTATS, PMLR 258:244-252: the local volume scaling,
the local free energy and the estimator $n\beta\,(E^\beta_w[L_n] - L_n(w^*))$ with the
Gaussian localizing term $\tfrac\gamma2|w - w^*|^2$; S. Watanabe 2009, *Algebraic Geometry
and Statistical Learning Theory*, §1.4 and eq. 6.2, for $\lambda(n) = n\,E_n[L - L_0]$.)

efftheory samples the population posterior at $n$ itself ($\beta = 1$, so $n\beta = n$,
the same target as devinterp's SGLD with ``nbeta = n, localization = gamma``) with
replica-exchange NUTS over a ladder of $n$, not SGLD: the estimate has no step-size bias
and comes with an MCSE, R-hat and ESS.
"""

import dataclasses
import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._types import Key, Position, Scalar
from ..models._card_model import CardModel
from ..models._models import NonlinearTemperingError
from ..models._partition import PartitionFunction
from ._api import sample
from ._result import SamplingResult

DEFAULT_GAMMA = 1.0
# A trained point as any array the model's parameters flatten to: numpy, JAX or a list.
ArrayLike = np.ndarray | jax.Array | Sequence[float]


class LocalizedModel(PartitionFunction):
    r"""`model`'s loss measured from $L(w^*)$ under a prior localized at $w^*$.

    $$Z_{w^*}(n) = \int e^{-n(L(w) - L(w^*))}\,\varphi_{w^*}(w)\,dw,$$

    with $\varphi_{w^*}$ either the Gaussian $N(w^*, \gamma^{-1} I)$ (`gamma`; devinterp's
    localization term $\tfrac\gamma2|w - w^*|^2$, normalized) or the uniform density on the
    box $|w - w^*|_\infty \le r$ (`box` $= r$; the ball of Lau et al. 2025's definition of
    the LLC). The wrapped model's own prior is not used. $L_0$ of this model is
    $L(w^*)$, so `energy` is $L(w) - L(w^*)$ and the sampler's $\hat\lambda(n) = n\,E_n[L -
    L_0]$ is the local learning coefficient estimator.

    Positions: with `gamma` the position is $w$ itself. With `box` it is an unconstrained
    $u \in \mathbb{R}^d$, $w = w^* + r\tanh(u)$, whose prior $\prod_i \tfrac12
    \mathrm{sech}^2 u_i$ is the push-forward of the uniform box, so that NUTS never meets the
    box's walls; $Z$, and so $\lambda(n)$, is unchanged by the change of variables.
    `parameters(position)` returns $w$ in both cases.
    """

    model: PartitionFunction
    center: Position
    gamma: float | None = eqx.field(static=True)
    box: float | None = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)
    center_energy: float = eqx.field(static=True)

    def __init__(self, model: PartitionFunction, w_star: ArrayLike, *,
                 gamma: float | None = None, box: float | None = None):
        _check_model(model)
        self.gamma, self.box = _localization(gamma, box)
        self.model = model
        self.num_params = model.num_params
        self.center = _check_w_star(w_star, model.num_params)
        center_energy = float(model.energy(self.center))
        if not math.isfinite(center_energy):
            raise ValueError(f"the loss at w_star is {center_energy} (L(w_star) - L0 of the "
                             "model); pass a w_star where the model's population loss is "
                             "finite.")
        self.center_energy = center_energy
        self.loss_minimum = float(model.loss_minimum) + center_energy

    @property
    def trustworthy_n(self) -> float:
        return self.model.trustworthy_n

    def parameters(self, position: Position) -> Position:
        r"""The model's parameters $w$ at `position` ($w^* + r\tanh u$ for a box)."""
        if self.box is None:
            return position
        return self.center + self.box * jnp.tanh(position)

    def population_loss(self, position: Position) -> Scalar:
        return self.model.population_loss(self.parameters(position))

    def energy(self, position: Position) -> Scalar:
        # Through the wrapped model's own energy L - L0, so that a model overriding it
        # (to compute it without the cancellation of L - L0, say) is respected.
        return self.model.energy(self.parameters(position)) - self.center_energy

    def log_prior(self, position: Position) -> Scalar:
        if self.box is None:
            return jnp.sum(jax.scipy.stats.norm.logpdf(
                position, self.center, 1.0 / math.sqrt(self.gamma)))
        # log(sech^2(u) / 2) = log 2 + 2u - 2 softplus(2u), overflow-free for large |u|.
        return jnp.sum(math.log(2.0) + 2.0 * position - 2.0 * jax.nn.softplus(2.0 * position))

    def sample_prior(self, key: Key) -> Position:
        if self.box is None:
            noise = jax.random.normal(key, (self.num_params,), dtype=jnp.float64)
            return self.center + noise / math.sqrt(self.gamma)
        # If x is standard logistic, x/2 has density sech^2(u)/2 (tanh(x/2) is uniform).
        return 0.5 * jax.random.logistic(key, (self.num_params,), dtype=jnp.float64)


@dataclasses.dataclass(frozen=True, eq=False)
class LocalLearningCoefficient:
    r"""$\hat\lambda(w^*; n) = n\,(E_n[L] - L(w^*))$ at each requested $n$, with diagnostics.

    Every array is aligned with `n` (the requested inverse temperatures, increasing);
    `sampling` is the whole run, including the tempering rungs added below and between
    them, and `rungs[i]` is the index of `n[i]` in `sampling.n_ladder`.
    """

    n: np.ndarray
    learning_coefficient: np.ndarray
    learning_coefficient_mcse: np.ndarray
    rhat: np.ndarray
    ess_bulk: np.ndarray
    divergences: np.ndarray
    rungs: np.ndarray
    w_star: np.ndarray
    loss_at_w_star: float
    gamma: float | None
    box: float | None
    sampling: SamplingResult

    @property
    def diagnostics(self) -> tuple[str, ...]:
        """The run's failed diagnostic checks (every rung), as `SamplingResult` reports them."""
        return self.sampling.diagnostics

    def summary(self) -> dict:
        """JSON-ready: one row per requested n, plus the localization and L(w*)."""
        def number(value) -> float | None:
            return float(value) if np.isfinite(value) else None

        rows = [{"n": float(self.n[i]),
                 "learning_coefficient": number(self.learning_coefficient[i]),
                 "learning_coefficient_mcse": number(self.learning_coefficient_mcse[i]),
                 "rhat": number(self.rhat[i]), "ess_bulk": number(self.ess_bulk[i]),
                 "divergences": int(self.divergences[i])} for i in range(len(self.n))]
        return {"gamma": self.gamma, "box": self.box, "loss_at_w_star": self.loss_at_w_star,
                "n_ladder": [float(n) for n in self.sampling.n_ladder], "rows": rows,
                "diagnostics": list(self.diagnostics)}


def local_learning_coefficient(
    model: PartitionFunction,
    w_star: ArrayLike,
    n: float | Sequence[float] | np.ndarray,
    *,
    gamma: float | None = None,
    box: float | None = None,
    chains: int = 4,
    warmup: int = 1000,
    draws: int = 1000,
    seed: int = 0,
    rungs_per_decade: float = 2.0,
    progress: bool | None = None,
    **sampler_settings,
) -> LocalLearningCoefficient:
    r"""The local learning coefficient $\hat\lambda(w^*; n) = n\,(E_n[L] - L(w^*))$.

    Samples $p_n(w) \propto e^{-n(L(w) - L(w^*))}\varphi_{w^*}(w)$ (see `LocalizedModel`)
    with replica-exchange NUTS (`efftheory.sample`) and returns $\hat\lambda$ ± MCSE,
    R-hat, bulk ESS and divergences at each $n$ of `n` (one number or an increasing
    sequence). The ladder sampled is the localized prior $n = 0$, then rungs geometric in
    $n$ at `rungs_per_decade` from $\min(1, n_1)$ through every requested $n$ (each one a
    rung exactly); swaps with the lower rungs carry chains between the basins that the
    localization admits. `rungs_per_decade=0` samples only the requested $n$. Other
    keyword arguments go to `efftheory.sample` (``max_tree_depth``, ``target_accept_prob``,
    ``dense_mass``, ``store_positions``, ...).

    Localization (exactly one of `gamma`, `box`; neither means ``gamma=1``):

    * `gamma`: the Gaussian $N(w^*, \gamma^{-1}I)$, devinterp's localization term
      $\tfrac\gamma2|w - w^*|^2$. It biases $\hat\lambda$ *downward* unless $\gamma$ is
      small against $n$ times the loss's curvature in the directions that matter: for a
      regular quadratic loss $\tfrac12 c|w - w^*|^2$ in $d$ dimensions,
      $\lambda(n) = \tfrac d2\,nc/(nc + \gamma)$; for a loss homogeneous of degree $2k$
      around $w^*$ (a deep linear network of $k$ layers at the origin), $\lambda(n;\gamma)
      = \lambda(n\gamma^{-k}; 1)$, so $\gamma$ costs a factor $\gamma^k$ in $n$. As
      $\gamma \to 0$ the localization disappears: $\hat\lambda$ becomes the global
      $\lambda(n)$ of the loss under a flat prior (where that integral exists). And
      because the Gaussian has full support, a more singular point at distance $D$ from
      $w^*$ (local value $\lambda' < \lambda$) takes over once $(\lambda - \lambda')\log n
      \gtrsim \gamma D^2/2$: the estimate is local only while $\gamma D^2/2$ dominates.
      The default $\gamma = 1$ is the unit-scale prior of efftheory's cards, so at the
      deepest point of a card (the origin of a learning-zero deep linear network) the
      localized model *is* the card's model and $\hat\lambda$ is its global
      $\lambda(n)$. Pass a larger $\gamma$ to localize more tightly, keeping
      $\gamma \ll nc$. (devinterp's `default_nbeta` samples at $n\beta = b/\log b$ for
      batch size $b$, an effective $n$ smaller by $\log b$, so there the same $\gamma$
      biases more; here $\beta = 1$.)
    * `box` $= r$: the uniform density on $|w - w^*|_\infty \le r$, the ball of the LLC's
      definition: local at every $n$. NUTS samples $u$ with $w = w^* + r\tanh u$, so it
      never meets the box's wall.

    The estimate tends to $\lambda(w^*)$ only as $n \to \infty$, like
    $\lambda(w^*) - (m(w^*) - 1)/\log n$ with the multiplicity $m$; `w_star` should be a
    local minimum of $L$ (otherwise $L - L(w^*)$ is negative somewhere near $w^*$ and
    $\hat\lambda$ can go negative and grow with $n$).

    (Lau, Furman, Wang, Murfet & Wei 2025, *The local learning coefficient: a
    singularity-aware complexity measure*, AISTATS, PMLR 258; Watanabe 2009, *Algebraic
    Geometry and Statistical Learning Theory*, §1.4 and eq. 6.2:
    $\lambda(n) = dF/d\log n = n\,E_n[L - L_0]$.)
    """
    localized = LocalizedModel(model, w_star, gamma=gamma, box=box)
    requested = _check_n(n)
    if sampler_settings.get("adapt_ladder") and len(requested) > 1:
        raise ValueError("adapt_ladder=True moves the interior rungs, so the requested n "
                         "below the top would no longer be sampled; request one n or leave "
                         "adapt_ladder off.")
    n_ladder = tempering_ladder(requested, rungs_per_decade)
    result = sample(localized, n_ladder, chains=chains, warmup=warmup, draws=draws,
                    seed=seed, progress=progress, **sampler_settings)
    rungs = np.searchsorted(result.n_ladder, requested)
    assert np.array_equal(result.n_ladder[rungs], requested), (result.n_ladder, requested)
    return LocalLearningCoefficient(
        n=requested,
        learning_coefficient=result.learning_coefficient[rungs],
        learning_coefficient_mcse=result.learning_coefficient_mcse[rungs],
        rhat=result.rhat[rungs],
        ess_bulk=result.ess_bulk[rungs],
        divergences=result.divergences[rungs],
        rungs=rungs,
        w_star=np.asarray(localized.center),
        loss_at_w_star=localized.loss_minimum,
        gamma=localized.gamma,
        box=localized.box,
        sampling=result,
    )


def tempering_ladder(n: np.ndarray, rungs_per_decade: float) -> np.ndarray:
    r"""$0$, then rungs geometric in $n$ from $\min(1, n_1)$ through each requested $n$.

    Between consecutive anchors $a < b$ (the start and the requested $n$) the gap is cut
    into $\lceil \rho\log_{10}(b/a)\rceil$ equal steps in $\log n$ ($\rho$ =
    `rungs_per_decade`), so every requested $n$ is a rung exactly and no two rungs are
    closer than the requested spacing needs.
    """
    if isinstance(rungs_per_decade, bool) or not isinstance(
            rungs_per_decade, int | float | np.integer | np.floating) or not (
            math.isfinite(rungs_per_decade) and rungs_per_decade >= 0):
        raise ValueError(f"rungs_per_decade must be a finite number >= 0 (0 samples only the "
                         f"requested n), got {rungs_per_decade!r}.")
    if rungs_per_decade == 0:
        return np.asarray(n, dtype=np.float64)
    anchors = np.concatenate([[min(1.0, float(n[0]))], n])
    rungs = [0.0, float(anchors[0])]
    for low, high in zip(anchors[:-1], anchors[1:], strict=True):
        if high == low:
            continue
        steps = max(1, math.ceil(rungs_per_decade * math.log10(high / low) - 1e-9))
        interior = np.geomspace(low, high, steps + 1)[1:-1]
        rungs += [float(value) for value in interior] + [float(high)]
    return np.asarray(rungs, dtype=np.float64)


def _check_model(model) -> None:
    if isinstance(model, CardModel):
        raise TypeError("model is a CardModel; pass the model beside the card "
                        "(card_model.model): the localized model is not the card's, so a run "
                        "of it records no card.")
    if not isinstance(model, PartitionFunction):
        raise TypeError(f"model must be an efftheory.PartitionFunction, got "
                        f"{type(model).__name__}; wrap plain JAX functions in "
                        "efftheory.FunctionModel(loss, log_prior, sample_prior, num_params).")
    if isinstance(model, LocalizedModel):
        raise TypeError("model is already a LocalizedModel; pass the model it wraps "
                        "(localized.model) with the new w_star.")
    if not model.linear_in_inverse_temperature:
        raise NonlinearTemperingError(
            f"the local learning coefficient needs a population loss L(w) tempered as "
            f"n(L - L(w*)), but {type(model).__name__} is not linear in n (its tempered part "
            "is not n times a loss of its position: e.g. the collapsed readout). Build the "
            "raw-weight model instead (the card's default form, or NetworkModel).")


def _localization(gamma, box) -> tuple[float | None, float | None]:
    """(gamma, None) or (None, box), validated; neither given means gamma = 1."""
    if gamma is not None and box is not None:
        raise ValueError(f"pass exactly one of gamma (Gaussian localization, precision) and "
                         f"box (half-width of a uniform box), got gamma={gamma!r} and "
                         f"box={box!r}.")
    if box is not None:
        return None, _positive("box", box, "the half-width r of the box |w - w*|_inf <= r")
    if gamma is None:
        return DEFAULT_GAMMA, None
    return _positive("gamma", gamma, "the precision of the Gaussian N(w*, 1/gamma I)"), None


def _positive(name: str, value, meaning: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a positive number ({meaning}), got {value!r}.")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite ({meaning}), got {value!r}.")
    return float(value)


def _check_w_star(w_star: ArrayLike, num_params: int) -> Position:
    try:
        center = np.asarray(w_star, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"w_star must be an array of numbers of shape (num_params,) = "
                         f"({num_params},): {error}") from error
    if center.shape != (num_params,):
        raise ValueError(
            f"w_star must be a flat parameter vector of shape (num_params,) = ({num_params},), "
            f"got shape {center.shape}. Flatten the trained parameters in the model's order "
            "(jax.flatten_util.ravel_pytree, or the model's own layout).")
    if not np.all(np.isfinite(center)):
        raise ValueError(f"w_star must be finite; entries "
                         f"{np.flatnonzero(~np.isfinite(center)).tolist()[:10]} are not.")
    return jnp.asarray(center)


def _check_n(n) -> np.ndarray:
    try:
        values = np.atleast_1d(np.asarray(n, dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise ValueError(f"n must be one inverse temperature or a 1-D sequence of them, got "
                         f"{n!r}: {error}") from error
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"n must be one inverse temperature or a 1-D sequence of them, got "
                         f"shape {np.shape(n)}.")
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(f"n must be positive and finite (a sample size), got "
                         f"{values.tolist()}.")
    if np.any(np.diff(values) <= 0):
        raise ValueError(f"n must be strictly increasing, got {values.tolist()}; pass "
                         "sorted(set(n)).")
    return values
