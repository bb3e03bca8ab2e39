r"""NUTS on the first $K$ mode amplitudes of a finite-width network, with their exact prior.

Three ways to put a prior on the kept amplitudes $u = (u_k)_{k\in\mathcal K}$,
$u_k = \sum_{i=1}^H a_i c_k(w_i, b_i)$, of a width-$H$ two-layer network
(kept modes $\mathcal K$ as in `efftheory.CutoffNetworkModel`), and where each holds:

* **free field** (`FreeFieldModel`): $u \sim N(0, \Sigma)$ with the exact prior covariance
  $\Sigma = Hs_a^2E_w[c(w)c(w)^\top]$. Exact only as $H \to \infty$ (central limit); at
  finite $H$ it misses every cumulant beyond the second, in particular the rank cap: it
  gives $u$ a density on all of $\mathbb R^K$ even for $K > H$.
* **scale mixture** (`ScaleMixtureModel`): each eigen-coordinate of $\Sigma$ a Gaussian
  with a Gamma-distributed variance that matches its width-$H$ fourth cumulant. Correct
  to order $1/H$ mode by mode, but it drops the cross-mode cumulants (all modes share the
  same $w_i$), so it does not see where the modes degenerate together.
* **exact mixture** (`ModeCoordinateModel`, here): exact at every width for
  $K \le H$ (precisely: no more kept amplitudes than units; the circle keeps two per
  harmonic $k \ge 1$).

**The exact mixture.** With the inner weights $w$ fixed, $u = C_K(w)^\top a$ is linear in
the readout, $C_K$ the $H \times K$ matrix of kept coefficients (`coefficient_matrix`;
on the circle a harmonic $k \ge 1$ contributes its cosine and sine columns). Under
$a \sim N(0, s_a^2 I_H)$ it is Gaussian, so the law of the kept amplitudes is the mixture

$$\rho_K(u) = E_{w\sim\varphi}\big[N\big(u;\,0,\,s_a^2C_K(w)^\top C_K(w)\big)\big].$$

The model samples $(u, w)$ jointly with

$$U_n(u, w) = \tfrac n2|u - u^*|^2 - \log N\big(u;\,0,\,s_a^2C_K^\top C_K\big)
  - \log\varphi(w),$$

linear in $n$ with energy $L_K(u) = \tfrac12|u - u^*|^2$. Its $(u, w)$-marginal is the
image of the raw-weight cutoff posterior $e^{-nL_K(\theta)}\varphi(\theta)$ under
$(a, w) \mapsto (C_K^\top a, w)$: the $H - K$ readout directions that $L_K$ does not see
are integrated out exactly. So $Z(n)$, $F(n)$ and $\lambda_K(n) = n\,E_n[L_K]$ equal
those of `CutoffNetworkModel` (and of `CollapsedCutoffNetworkModel`) at the same card and
$K$, with no approximation in $1/H$. It "sees the singularity" because where $C_K$
degenerates (a unit switching off, $w_i \to 0$; two units aligned, $|w_i| = |w_j|$ for
odd $\sigma$) the conditional covariance collapses and the prior of $u$ concentrates
on a lower-dimensional set, which is what the tempered posterior is drawn to at large $n$.

**Two parametrizations of the same posterior.** ``"amplitudes"`` runs NUTS on $u$
itself with the density above. Near the degenerate set that density is a funnel (the
scale of $u$ given $w$ is the smallest singular value of $C_K$, which vanishes there), so
NUTS diverges often at every $n$, $n = 0$ included (width 2, $K = 2$: 12 to 23 % of
transitions per rung, against none below $n = 200$ whitened).
``"whitened"`` (the default) runs NUTS on $z = s_a^{-1}R(w)^{-\top}u$, with
$R^\top R = C_K^\top C_K$ the positive Cholesky factor, so that $u = s_aR(w)^\top z$,
$z \sim N(0, I_K)$ independent of $w$ under the prior, and
$U_n(z, w) = \tfrac n2|s_aR^\top z - u^*|^2 - \log N(z; 0, I) - \log\varphi(w)$. Both
have the same $Z(n)$ and the same law of $(u, w)$; the whitened one has no funnel at small
$n$ and is the $K$-dimensional analogue of the raw readout (for $K = H$ it is a
$w$-dependent rotation of $a/s_a$).

**Where it does not apply.** For $K > H$ the matrix $C_K^\top C_K$ has rank at most $H$:
$u$ lives on an $H$-dimensional subset of $\mathbb R^K$ and has no density, so the model
refuses and names `form='cutoff'` (exact for every $K$). The same refusal applies when
the activation's kept coefficients are linearly dependent as functions of $w$ (relu:
$c_k(w) = w^+c_k(1) + w^-c_k(-1)$, rank 2 for every $H$), detected at prior draws.

Sources: the law of a finite network's output as a Gaussian given the hidden units is
Neal (1996), *Bayesian Learning for Neural Networks*, Springer, §2.1; the mode expansion
and effective theory are from the post "Learning zero, and what SLT gets wrong about it".
"""

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._linalg import factored_gaussian_log_density
from .._types import Array, Float, Key, Position, Scalar
from ._cutoff_models import CutoffNetworkModel
from ._cutoff_projection import ModeProjection
from ._energies import TargetNetwork
from ._kept_modes import mode_columns
from ._models import ModeAmplitudesUnavailable, inner_weight_log_prior
from ._networks import TwoLayerNetwork
from ._partition import PartitionFunction
from ._quadrature_choice import DEFAULT_MAX_NODES, QuadratureChoice

Parametrization = Literal["whitened", "amplitudes"]
PARAMETRIZATIONS: tuple[str, ...] = ("whitened", "amplitudes")

# C_K counts as rank deficient at a prior draw when its smallest singular value is below
# this times its largest: the conditional covariance (their squares) would then be
# singular to float64 (ratio 1e-14), and its log density rounding.
_RANK_RTOL = 1e-7


def _check_amplitude_count(network, kept, columns: int) -> None:
    if columns <= network.width:
        return
    usable = [k for k in range(1, len(kept) + 1)
              if len(mode_columns(network.measure, kept[:k])) <= network.width]
    lower = (f"lower num_modes to at most {usable[-1]}" if usable
             else "no num_modes fits this width")
    raise ValueError(
        f"num_modes={len(kept)} keeps {columns} mode amplitudes, but those of a width-"
        f"{network.width} network, u = C_K(w)^T a, span a space of dimension at most "
        f"{network.width}: "
        "their prior has no density and the exact mode-coordinate model needs K <= H. "
        f"{lower.capitalize()}, widen the network, or use the raw-weight cutoff model "
        "(form='cutoff', CutoffNetworkModel), which is exact for every K.")


def _check_generic_rank(network, coefficient_matrix, columns: int) -> None:
    r"""Refuse an activation whose kept coefficients are linearly dependent in $w$."""
    keys = jax.random.split(jax.random.PRNGKey(0), 16)
    inner = jax.vmap(lambda key: network.sample_prior(key)[network.width:])(keys)
    singular = np.asarray(jax.vmap(lambda w: jnp.linalg.svd(coefficient_matrix(w),
                                                            compute_uv=False))(inner))
    ranks = np.sum(singular > _RANK_RTOL * singular[:, :1], axis=1)
    rank = int(np.median(ranks))
    if rank >= columns:
        return
    raise ValueError(
        f"the {columns} kept mode amplitudes of {network.activation.name} units span only "
        f"{rank} dimensions at typical prior weights (C_K(w) has singular values below "
        f"{_RANK_RTOL:g} times its largest: exactly dependent for relu, whose c_k(w) = "
        "w+ c_k(1) + w- c_k(-1), or too small for float64 at high k), so their prior has "
        f"no usable density in R^{columns}: lower num_modes until at most {rank} amplitudes "
        "are kept, or use the raw-weight cutoff model (form='cutoff').")


def _triangular_factor(coefficients: Float[Array, "width amplitudes"]
                       ) -> Float[Array, "amplitudes amplitudes"]:
    r"""$R$ upper triangular with positive diagonal and $C^\top C = R^\top R$, by modified
    Gram–Schmidt on the columns of $C$ (its $R$ is backward stable, Björck 1967, BIT 7,
    1–21, and unique, hence smooth in $w$ where $C$ has full column rank: Householder QR's
    $R$ flips row signs). Unrolled over the few columns, so plain autodiff and `vmap`
    apply with no LAPACK call (see `efftheory._linalg` on batched LAPACK on the CPU)."""
    count = coefficients.shape[1]
    upper = jnp.zeros((count, count), dtype=coefficients.dtype)
    basis = []
    for j in range(count):
        column = coefficients[:, j]
        for i, direction in enumerate(basis):
            projection = direction @ column
            upper = upper.at[i, j].set(projection)
            column = column - projection * direction
        norm = jnp.sqrt(column @ column)
        upper = upper.at[j, j].set(norm)
        basis.append(column / norm)
    return upper


def _coefficient_matrix(network, projection, inner_weights):
    zeros = jnp.zeros((network.width,), dtype=inner_weights.dtype)
    hidden = network.units(jnp.concatenate([zeros, inner_weights]), projection.points)
    return hidden.T @ projection.basis


class ModeCoordinateModel(PartitionFunction):
    r"""NUTS on the first $K$ mode amplitudes $u$ and the inner weights $w$, with the
    exact prior of a width-$H$ network's amplitudes (module docstring):

    $$U_n(u, w) = \tfrac n2|u - u^*|^2 - \log N\big(u;\,0,\,s_a^2C_K(w)^\top C_K(w)\big)
      - \log\varphi(w).$$

    Exact for $K \le H$: $Z(n)$ and $\lambda_K(n) = n\,E_n[L_K]$ equal those of
    `CutoffNetworkModel` with the same network and $K$. It does not apply for $K > H$
    (the amplitudes have no density; construction raises and names ``form='cutoff'``),
    nor where the activation's kept coefficients are dependent in $w$ (relu, more than
    two amplitudes). Compared with the other mode-coordinate priors: `FreeFieldModel` is
    the $H \to \infty$ limit (Gaussian, exact covariance); `ScaleMixtureModel` adds the
    per-mode $1/H$ kurtosis but no cross-mode cumulants; this model has every cumulant
    at every width.

    Position ``[u, w.ravel(), b]`` (``b`` only with bias), or ``[z, w.ravel(), b]`` when
    whitened ($u = s_aR(w)^\top z$, the default: no funnel near the degenerate set; module
    docstring); ``u`` has one entry per kept coefficient (the circle keeps cosine and sine
    of each harmonic $k \ge 1$). `kept_amplitudes` returns $u$ in both. The
    projection onto the modes and its accuracy (`quadrature`, `trustworthy_n`) are those of
    `CutoffNetworkModel`.

    Args:
        network: a `TwoLayerNetwork` with one-dimensional inputs or circle inputs.
        num_modes: $K \ge 1$, with at most $H$ kept amplitudes.
        target: None (learning zero) or a realizable `TargetNetwork` ($u^*$ its kept
            amplitudes).
        n_max: the largest $n$ sampled; sets the projection's accuracy.
        num_nodes: a fixed projection size instead (checked).
        max_nodes: the largest projection size tried.
        parametrization: ``"whitened"`` (NUTS on $z$, default) or ``"amplitudes"`` (NUTS
            on $u$ with its conditional density).

    Source: Neal (1996), *Bayesian Learning for Neural Networks*, §2.1 (the output is
    Gaussian given the hidden units); the post "Learning zero, and what SLT gets wrong
    about it" (mode coordinates and the effective theory).
    """

    network: TwoLayerNetwork
    target: TargetNetwork | None
    projection: ModeProjection
    target_amplitudes: Float[Array, " amplitudes"]
    kept_modes: tuple[int, ...] = eqx.field(static=True)
    num_amplitudes: int = eqx.field(static=True)
    parametrization: str = eqx.field(static=True)
    quadrature: QuadratureChoice = eqx.field(static=True)
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True)

    def __init__(self, network: TwoLayerNetwork, num_modes: int, *,
                 target: TargetNetwork | None = None, n_max: float = 1e6,
                 num_nodes: int | None = None, max_nodes: int = DEFAULT_MAX_NODES,
                 parametrization: Parametrization = "whitened"):
        if parametrization not in PARAMETRIZATIONS:
            raise ValueError(f"parametrization must be one of {PARAMETRIZATIONS} ('amplitudes':"
                             " NUTS on u itself; 'whitened': on z with u = s_a R(w)^T z), got "
                             f"{parametrization!r}.")
        raw = CutoffNetworkModel(network, num_modes, target=target, n_max=n_max,
                                 num_nodes=num_nodes, max_nodes=max_nodes)
        columns = int(raw.projection.basis.shape[1])
        _check_amplitude_count(network, raw.kept_modes, columns)
        self.network, self.target = network, raw.target
        self.projection, self.target_amplitudes = raw.projection, raw.target_amplitudes
        self.kept_modes, self.quadrature = raw.kept_modes, raw.quadrature
        self.num_amplitudes = columns
        self.parametrization = parametrization
        self.num_params = columns + network.num_params - network.width
        self.loss_minimum = 0.0
        _check_generic_rank(network, lambda inner: _coefficient_matrix(network, raw.projection,
                                                                       inner), columns)

    @property
    def num_modes(self) -> int:
        return len(self.kept_modes)

    @property
    def trustworthy_n(self) -> float:
        r"""`quadrature.trustworthy_n` of the projection (as `CutoffNetworkModel`)."""
        return self.quadrature.trustworthy_n

    def split(self, position: Position
              ) -> tuple[Float[Array, " amplitudes"], Float[Array, " inner"]]:
        """``(u or z, inner weights [w.ravel(), b])`` (``z`` when whitened)."""
        return position[: self.num_amplitudes], position[self.num_amplitudes:]

    def coefficient_matrix(self, inner_weights: Float[Array, " inner"]
                           ) -> Float[Array, "width amplitudes"]:
        r"""$C_K(w)$: row $i$ holds the kept coefficients $c_k(w_i, b_i)$ of unit $i$."""
        return _coefficient_matrix(self.network, self.projection, inner_weights)

    def conditional_covariance(self, inner_weights: Float[Array, " inner"]
                               ) -> Float[Array, "amplitudes amplitudes"]:
        r"""$\mathrm{Cov}(u \mid w) = s_a^2C_K(w)^\top C_K(w)$."""
        coefficients = self.coefficient_matrix(inner_weights)
        return self.network.readout_variance * coefficients.T @ coefficients

    def _scaled_factor(self, inner_weights):
        r"""$s_aR(w)$, $R^\top R = C_K^\top C_K$ (`_triangular_factor`)."""
        return (jnp.sqrt(self.network.readout_variance)
                * _triangular_factor(self.coefficient_matrix(inner_weights)))

    def from_raw(self, raw_position: Position) -> Position:
        r"""The image of a raw-weight position ``[a, w.ravel(), b]``: $(C_K(w)^\top a, w)$,
        or, whitened, $(s_a^{-1}R(w)^{-\top}C_K(w)^\top a, w)$."""
        readout, inner = raw_position[: self.network.width], raw_position[self.network.width:]
        amplitudes = self.coefficient_matrix(inner).T @ readout
        if self.parametrization == "whitened":
            amplitudes = jnp.linalg.solve(self._scaled_factor(inner).T, amplitudes)
        return jnp.concatenate([amplitudes, inner])

    def kept_amplitudes(self, position: Position) -> Float[Array, " amplitudes"]:
        r"""$u$, the kept amplitudes ($s_aR(w)^\top z$ when whitened)."""
        amplitudes, inner = self.split(position)
        if self.parametrization == "whitened":
            return self._scaled_factor(inner).T @ amplitudes
        return amplitudes

    def population_loss(self, position: Position) -> Scalar:
        r"""$L_K(u) = \tfrac12|u - u^*|^2$."""
        return 0.5 * jnp.sum((self.kept_amplitudes(position) - self.target_amplitudes) ** 2)

    def log_prior(self, position: Position) -> Scalar:
        r"""$\log N(u; 0, s_a^2C_K^\top C_K) + \log\varphi(w)$, by QR of $s_aC_K$
        (`efftheory._linalg.factored_gaussian_log_density`; $-\infty$ where $C_K$ is
        singular); whitened, $\log N(z; 0, I) + \log\varphi(w)$."""
        amplitudes, inner = self.split(position)
        if self.parametrization == "whitened":
            log_density = jnp.sum(jax.scipy.stats.norm.logpdf(amplitudes))
        else:
            factor = jnp.sqrt(self.network.readout_variance) * self.coefficient_matrix(inner)
            log_density = factored_gaussian_log_density(factor, amplitudes)
        return log_density + inner_weight_log_prior(self.network, inner)

    def sample_prior(self, key: Key) -> Position:
        r"""Exact: $z \sim N(0, I)$ and $w \sim \varphi$ (whitened), or a raw-weight prior
        draw mapped by `from_raw`."""
        raw = self.network.sample_prior(key)
        if self.parametrization == "whitened":
            inner = raw[self.network.width:]
            whitened = jax.random.normal(jax.random.fold_in(key, 1), (self.num_amplitudes,),
                                         dtype=inner.dtype)
            return jnp.concatenate([whitened, inner])
        return self.from_raw(raw)

    def mode_amplitudes(self, position: Position, kmax: int):
        raise ModeAmplitudesUnavailable(
            "the mode-coordinate model holds only the kept amplitudes u_k, k in "
            f"{self.kept_modes}: use kept_amplitudes(position), or NetworkModel for every "
            "mode.")
