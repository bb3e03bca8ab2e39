r"""The collapsed energy by Cholesky of the formed kernel against QR of its node factor.

$T_n(w) = \tfrac12\log\det(I + ns_a^2G)$, $G = \Phi^\top\Phi$, two ways
(`efftheory._linalg`): Cholesky of the formed $I + ns_a^2G$, whose rounding of $G$ costs
every unresolved direction $\sim\epsilon n\|G\|$, and QR of $[\sqrt{ns_a^2}\Phi; I]$,
whose rounding grows like $\sqrt n$ (`efftheory.models._quadrature_choice`, "Factored
kernels"). For one card (default the flagship, width 128) this reports, in one process:

* the trustworthy n of each route at each node count in `--nodes` (the largest n with
  stated energy error $\le 10^{-3}$, `efftheory.models._quadrature_choice.assess_num_nodes`);
* milliseconds per batched value-and-gradient of the potential over `--lanes` positions
  (one lane = one rung x chain), and the largest difference of $T_n$ and of
  $\hat\lambda$'s integrand between the routes at those positions, n from 1 to `--n-max`.

Writes ``OUT/collapsed_factorization.json`` and ``OUT/collapsed_factorization.md``.

    python experiments/collapsed_factorization.py OUT [--card learning-zero-256]
        [--width 128] [--nodes 256 512 1024] [--lanes 100] [--n-max 1e8]
"""

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flagship_geometry import timed

import efftheory as et
from efftheory._io import atomic_write_json, atomic_write_text
from efftheory.models._models import CollapsedNetworkModel
from efftheory.models._quadrature_choice import assess_num_nodes, test_draws


class _CholeskyRoute(CollapsedNetworkModel):
    """The same model with its factor hidden, so that `T_n` comes from Cholesky."""

    def readout_factor(self, position):
        return None


def _route(model: CollapsedNetworkModel, factored: bool) -> CollapsedNetworkModel:
    route = object.__new__(CollapsedNetworkModel if factored else _CholeskyRoute)
    for name in ("network", "rule", "quadrature", "num_params", "loss_minimum"):
        object.__setattr__(route, name, getattr(model, name))
    object.__setattr__(route, "factored", factored)
    return route


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--card", default="learning-zero-256")
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--nodes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--lanes", type=int, default=100)
    parser.add_argument("--n-max", type=float, default=1e8)
    arguments = parser.parse_args(argv)
    network = et.load_model(arguments.card, form="collapsed", width=arguments.width).network
    model = CollapsedNetworkModel(network, num_nodes=arguments.nodes[0], n_max=1.0)
    draws = test_draws(network, jax.random.PRNGKey(0))
    trustworthy = [{"nodes": nodes, **{
        route: assess_num_nodes(network, nodes, 1.0, draws, factored=factored).trustworthy_n
        for route, factored in (("cholesky", False), ("qr", True))}}
        for nodes in arguments.nodes]
    positions = jax.vmap(model.sample_prior)(
        jax.random.split(jax.random.PRNGKey(1), arguments.lanes))
    temperatures = jnp.geomspace(1.0, arguments.n_max, arguments.lanes)
    timing, values = {}, {}
    for route, factored in (("cholesky", False), ("qr", True)):
        routed = _route(model, factored)
        gradient = jax.jit(jax.vmap(jax.value_and_grad(routed.potential_energy)))
        timing[route] = 1e3 * timed(gradient, positions, temperatures)
        values[route] = [np.asarray(jax.jit(jax.vmap(function))(positions, temperatures))
                         for function in (routed.tempered_energy,
                                          routed.learning_coefficient_integrand)]
    record = {
        "card": arguments.card, "width": arguments.width, "lanes": arguments.lanes,
        "quadrature_nodes_timed": arguments.nodes[0], "trustworthy_n": trustworthy,
        "ms_per_gradient": timing,
        "max_energy_difference": float(np.max(np.abs(values["qr"][0] - values["cholesky"][0]))),
        "max_integrand_difference": float(np.max(np.abs(values["qr"][1]
                                                         - values["cholesky"][1]))),
        "n_max": arguments.n_max, "machine": et.sampling._devices.describe_machine(),
    }
    lines = [f"# Collapsed energy: Cholesky of the formed kernel against QR of its factor "
             f"({arguments.card}, width {arguments.width})", "",
             "| quadrature nodes Q | trustworthy n, Cholesky | trustworthy n, QR |",
             "|---|---|---|"]
    lines += [f"| {row['nodes']} | {row['cholesky']:.3g} | {row['qr']:.3g} |"
              for row in trustworthy]
    lines += ["", f"Per batched value-and-gradient ({arguments.lanes} lanes, "
              f"Q = {arguments.nodes[0]}): Cholesky {timing['cholesky']:.1f} ms, QR "
              f"{timing['qr']:.1f} ms (ratio {timing['qr'] / timing['cholesky']:.2f}).",
              "", f"Largest difference between the routes at those lanes (n from 1 to "
              f"{arguments.n_max:g}): T_n {record['max_energy_difference']:.2g}, "
              f"λ̂'s integrand {record['max_integrand_difference']:.2g}."]
    arguments.out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(arguments.out / "collapsed_factorization.json", record)
    atomic_write_text(arguments.out / "collapsed_factorization.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return record


if __name__ == "__main__":
    main()
