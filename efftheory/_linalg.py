r"""Log-determinants of symmetric positive-definite matrices, safe to vmap on every backend.

$\log\det A$ and its derivative $d\log\det A = \operatorname{tr}(A^{-1}\,dA)$ (Magnus &
Neudecker 2019, *Matrix Differential Calculus*, ch. 8, eq. (8.2)) from one Cholesky factor
$A = LL^\top$: $\log\det A = 2\sum_i \log L_{ii}$, $A^{-1} = L^{-\top}L^{-1}$.

**Why not `jnp.linalg.cholesky` under `vmap` on the CPU.** jaxlib's batched LAPACK kernels
(``lapack_dpotrf_ffi``, ``lapack_dtrsm_ffi``) split a batch whose work exceeds about
$2\cdot10^5$ flops over XLA's intra-op thread pool and *block* the calling pool thread until
the pieces finish (``ParallelBatchMap`` in ``jaxlib/cpu/lapack_kernels.cc``). XLA runs
independent operations concurrently on that same pool, so when as many batched
factorizations are in flight as the pool has threads (two on a 2-core machine: e.g. the
replica-swap energies at the neighbouring rungs), every thread waits for work that no
thread is free to run, and the program hangs with all threads idle. A $128\times128$
factor costs $\approx 7\cdot10^5$ flops, so width $\ge 64$ over a ladder hit it; width 16
stayed under the threshold. On the CPU the factorizations here therefore run one matrix at
a time (`jax.custom_batching.sequential_vmap`): a batch of one never leaves its thread. On
other backends the batched solver is used unchanged (`jax.lax.platform_dependent`).
"""

import jax
import jax.numpy as jnp

from ._types import Array, Float, Scalar


def _factor(matrix: Float[Array, "dim dim"]) -> tuple[Scalar, Float[Array, "dim dim"]]:
    """$\\log\\det A$ and $A^{-1}$ from the Cholesky factor of a symmetric $A \\succ 0$."""
    factor = jnp.linalg.cholesky(matrix)
    logdet = 2.0 * jnp.sum(jnp.log(jnp.diagonal(factor)))
    identity = jnp.eye(matrix.shape[-1], dtype=matrix.dtype)
    inverse = jax.scipy.linalg.cho_solve((factor, True), identity)
    return logdet, inverse


_factor_one_at_a_time = jax.custom_batching.sequential_vmap(_factor)


def spd_logdet_and_inverse(
    matrix: Float[Array, "dim dim"],
) -> tuple[Scalar, Float[Array, "dim dim"]]:
    r"""$(\log\det A, A^{-1})$ for symmetric positive-definite $A$ (not differentiable:
    use `spd_logdet` for gradients). Under `vmap` on the CPU the matrices are factorized
    one after another (see the module docstring for the hang this avoids)."""
    return jax.lax.platform_dependent(matrix, cpu=_factor_one_at_a_time, default=_factor)


@jax.custom_jvp
def spd_logdet(matrix: Float[Array, "dim dim"]) -> Scalar:
    r"""$\log\det A$ for symmetric positive-definite $A$, with
    $d\log\det A = \operatorname{tr}(A^{-1}dA)$ (Magnus & Neudecker 2019, eq. (8.2))."""
    return spd_logdet_and_inverse(matrix)[0]


@spd_logdet.defjvp
def _spd_logdet_jvp(primals, tangents):
    (matrix,), (tangent,) = primals, tangents
    logdet, inverse = spd_logdet_and_inverse(matrix)
    # tr(A^{-1} dA) = sum_ij (A^{-1})_ji dA_ij; A^{-1} is symmetric.
    return logdet, jnp.sum(inverse * tangent)


# ------------------------------------------------------------- factored kernels, by QR
#
# For a kernel given by a factor, $M = F^\top F$ ($F$: nodes x units), forming $I + cM$
# explicitly rounds $cM$ to $\epsilon\,c\|M\|$ absolutely, so every direction the data do
# not resolve ($c\mu_j \lesssim 1$) carries an error $\sim\epsilon c\|M\|$ in
# $\tfrac12\log\det(I + cM)$: at width 128 that floor reaches the $10^{-4}$ level at
# $c \approx 10^9$. Householder QR of the stacked matrix $[\sqrt c F; I] = QR$ never forms
# $M$: it is backward stable column by column (Higham 2002, *Accuracy and Stability of
# Numerical Algorithms*, Thm. 19.4), so $R^\top R = I + cM$ up to a perturbation
# $\sqrt c\,(F^\top\delta + \delta^\top F)$ with $\|\delta\| \lesssim \epsilon\|F\|$, and an
# unresolved direction now errs by $\sim\epsilon\sqrt{c\mu_j}\|F\| \le \epsilon\sqrt c\|F\|$:
# the square root of the explicit floor.


def _qr_parts(factor: Float[Array, "nodes dim"], scale: Scalar
              ) -> tuple[Scalar, Float[Array, "dim dim"]]:
    r"""$\tfrac12\log\det(I + s^2F^\top F) = \sum_i\log|R_{ii}|$ with $[sF; I] = QR$, and
    $R^{-1}$ (for derivatives and traces: $(I + s^2F^\top F)^{-1} = R^{-1}R^{-\top}$)."""
    dim = factor.shape[-1]
    identity = jnp.eye(dim, dtype=factor.dtype)
    stacked = jnp.concatenate([scale * factor, identity], axis=0)
    upper = jnp.linalg.qr(stacked, mode="r")
    half_logdet = jnp.sum(jnp.log(jnp.abs(jnp.diagonal(upper))))
    inverse = jax.scipy.linalg.solve_triangular(upper, identity, lower=False)
    return half_logdet, inverse


_qr_parts_one_at_a_time = jax.custom_batching.sequential_vmap(_qr_parts)


def factored_logdet_parts(factor: Float[Array, "nodes dim"], scale: Scalar):
    r"""$(\tfrac12\log\det(I + s^2F^\top F),\ R^{-1})$ by QR of $[sF; I]$, not
    differentiable (use `factored_half_logdet`). On the CPU, one matrix at a time under
    `vmap` (module docstring)."""
    return jax.lax.platform_dependent(factor, scale, cpu=_qr_parts_one_at_a_time,
                                      default=_qr_parts)


@jax.custom_jvp
def factored_half_logdet(factor: Float[Array, "nodes dim"], scale_squared: Scalar) -> Scalar:
    r"""$T = \tfrac12\log\det(I + cF^\top F)$, $c \ge 0$, by QR of $[\sqrt c F; I]$ (see the
    comment above `_qr_parts` for why not Cholesky of $I + cF^\top F$).

    Derivatives (Magnus & Neudecker 2019, eq. (8.2), with $I + cF^\top F = R^\top R$):
    $\partial T/\partial F = cF(R^\top R)^{-1}$ and
    $\partial T/\partial c = \tfrac12\operatorname{tr}[F^\top F(R^\top R)^{-1}]$."""
    return factored_logdet_parts(factor, jnp.sqrt(scale_squared))[0]


@factored_half_logdet.defjvp
def _factored_half_logdet_jvp(primals, tangents):
    (factor, scale_squared), (factor_tangent, scale_tangent) = primals, tangents
    value, inverse = factored_logdet_parts(factor, jnp.sqrt(scale_squared))
    # F (R^T R)^{-1}: one product with the factor, shared by both partial derivatives.
    solved = factor @ (inverse @ inverse.T)
    tangent = (scale_squared * jnp.sum(solved * factor_tangent)
               + 0.5 * jnp.sum(solved * factor) * scale_tangent)
    return value, tangent


# ------------------------------------------------- Gaussian with a factored covariance
#
# The density of $v \sim N(0, F^\top F)$ ($F$: rows x dim, rows >= dim) needs
# $\log\det F^\top F$ and $v^\top(F^\top F)^{-1}v$. Householder QR of $F$ itself, $F = QR$,
# gives both from $R$ ($F^\top F = R^\top R$) without forming $F^\top F$, whose condition
# number is the square of $F$'s (Higham 2002, Thm. 19.4, as above).


def _gaussian_parts(factor: Float[Array, "rows dim"], vector: Float[Array, " dim"]):
    r"""$\log N(v; 0, F^\top F)$, $R^{-1}$ and $(F^\top F)^{-1}v$ by QR of $F$."""
    dim = factor.shape[-1]
    identity = jnp.eye(dim, dtype=factor.dtype)
    upper = jnp.linalg.qr(factor, mode="r")
    inverse = jax.scipy.linalg.solve_triangular(upper, identity, lower=False)
    whitened = inverse.T @ vector  # R^{-T} v
    half_logdet = jnp.sum(jnp.log(jnp.abs(jnp.diagonal(upper))))
    value = -0.5 * dim * jnp.log(2.0 * jnp.pi) - half_logdet - 0.5 * whitened @ whitened
    return value, inverse, inverse @ whitened


_gaussian_parts_one_at_a_time = jax.custom_batching.sequential_vmap(_gaussian_parts)


def _gaussian_parts_any_backend(factor, vector):
    return jax.lax.platform_dependent(factor, vector, cpu=_gaussian_parts_one_at_a_time,
                                      default=_gaussian_parts)


@jax.custom_jvp
def factored_gaussian_log_density(factor: Float[Array, "rows dim"],
                                  vector: Float[Array, " dim"]) -> Scalar:
    r"""$\log N(v; 0, F^\top F)$ for a factor $F$ of full column rank, by QR of $F$ (see the
    comment above). On the CPU, one matrix at a time under `vmap` (module docstring).

    Derivatives (Magnus & Neudecker 2019, eq. (8.2)), with $y = (F^\top F)^{-1}v$:
    $\partial/\partial v = -y$ and $\partial/\partial F = -F(F^\top F)^{-1} + (Fy)y^\top$."""
    return _gaussian_parts_any_backend(factor, vector)[0]


@factored_gaussian_log_density.defjvp
def _factored_gaussian_log_density_jvp(primals, tangents):
    (factor, vector), (factor_tangent, vector_tangent) = primals, tangents
    value, inverse, solved = _gaussian_parts_any_backend(factor, vector)
    gradient = -factor @ (inverse @ inverse.T) + jnp.outer(factor @ solved, solved)
    return value, jnp.sum(gradient * factor_tangent) - solved @ vector_tangent
