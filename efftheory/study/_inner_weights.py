r"""The inner weights $w$ of a two-layer study: the quenched prior average $\lambda_q(n)$ of
the collapsed integrand, and the posterior mean $|w|$ per rung."""

import math

import numpy as np

from ._kernel import two_layer_network_of

QUENCHED_DRAWS = 2000


def quenched_prior_average(model, n: np.ndarray, *, seed: int):
    r"""$\lambda_q(n) = E_{w\sim\varphi}[\tfrac12\sum_j x_j/(1 + x_j)]$ and its MC error.

    The gap $\lambda_{eff} - \lambda_q \ge 0$ is the finite-width fluctuation of the kernel
    (Jensen); the gap $\lambda_q - \hat\lambda$ is the posterior moving the inner weights.
    """
    import jax

    from ..models._energies import gram_factor, gram_matrix

    network, rule = getattr(model, "network", None), getattr(model, "rule", None)
    if network is None or rule is None or not hasattr(network, "readout_variance"):
        return None, None
    keys = jax.random.split(jax.random.PRNGKey(seed), QUENCHED_DRAWS)
    positions = jax.vmap(network.sample_prior)(keys)
    # On the host: a batched LAPACK call under XLA can deadlock a small CPU thread pool
    # (see efftheory._linalg). Where G = Phi'Phi, its eigenvalues are the squared singular
    # values of Phi: forming G would bury those below eps * mu_1 in rounding, which large
    # n resolves.
    if rule.mehler:
        grams = jax.vmap(lambda position: gram_matrix(network, rule, position))(positions)
        eigenvalues = np.clip(np.linalg.eigvalsh(np.asarray(grams)), 0.0, None)
    else:
        factors = jax.vmap(lambda position: gram_factor(network, rule, position))(positions)
        eigenvalues = np.linalg.svd(np.asarray(factors), compute_uv=False)**2
    scaled = network.readout_variance * eigenvalues  # (draws, width)
    values = 0.5 * np.sum(n[:, None, None] * scaled / (1.0 + n[:, None, None] * scaled), -1)
    return values.mean(axis=1), values.std(axis=1, ddof=1) / math.sqrt(QUENCHED_DRAWS)


def posterior_inner_weight_size(model, result):
    """Posterior mean of |w| over inner weights, per rung (None without stored positions)."""
    import jax

    network = two_layer_network_of(model)
    posterior = result.inference_data.posterior
    if network is None or "position" not in posterior:
        return None
    positions = np.asarray(posterior["position"].values)  # (chain, draw, rung, param)
    flat = positions.reshape(-1, positions.shape[-1])
    if flat.shape[-1] != network.num_params:
        # Collapsed positions are the inner parameters alone (the readout a is integrated
        # out); mode-coordinate ones put the K amplitude coordinates before them.
        inner = flat[:, flat.shape[-1] - (network.num_params - network.width):]
        flat = np.concatenate([np.zeros((flat.shape[0], network.width)), inner], axis=-1)
    weights = np.asarray(jax.vmap(lambda position: network.unflatten(position).weights)(flat))
    weights = weights.reshape(-1, positions.shape[-2], network.width, network.input_dim)
    return np.linalg.norm(weights, axis=-1).mean(axis=(0, 2))
