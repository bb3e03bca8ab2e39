r"""Cost of sampling the flagship (`learning-zero-256`, width 128, collapsed form) at its top rung.

Two measurements, each in this one process so that their ratios are like for like:

1. **Per gradient.** The batched value-and-gradient of the collapsed potential
   $U_n(w) = \tfrac12\log\det(I + n s_a^2 G(w)) - \log\varphi(w)$ over `--lanes` positions
   (one lane = one rung x chain of the tempering state), as shipped (nodes folded onto
   $x \ge 0$ for an odd activation, one product in the reverse pass of $G = \Phi^\top\Phi$)
   against the same potential written plainly (all $Q$ nodes, autodiff of ``h.T @ h``).
2. **Per effective sample.** NUTS at the top rung alone (`efftheory.sample_nuts`), for each
   sampler setting in `--settings` (``max_tree_depth:target_accept_prob``): leapfrog
   gradients per bulk effective sample of $\hat\lambda$'s integrand, counted two ways —
   summed over chains (what each chain computes) and as a vmapped lane pays it (every lane
   runs as many leapfrog steps as the longest trajectory among the chains at that step).

Writes ``OUT/flagship_geometry.json`` and ``OUT/flagship_geometry.md``.

    python experiments/flagship_geometry.py OUT [--n 1e8] [--chains 4] [--warmup 300]
        [--draws 300] [--settings 10:0.9 6:0.8 5:0.8 4:0.8] [--lanes 100] [--seed 0]
"""

import argparse
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import efftheory as et
from efftheory._io import atomic_write_json, atomic_write_text
from efftheory._linalg import spd_logdet
from efftheory.modes._quadrature import gaussian_trapezoid


def timed(function, *arguments, repeats: int = 10) -> float:
    """Mean seconds per call after one warm call (compile excluded)."""
    jax.block_until_ready(function(*arguments))
    start = time.perf_counter()
    for _ in range(repeats):
        jax.block_until_ready(function(*arguments))
    return (time.perf_counter() - start) / repeats


def per_gradient(model, n: float, lanes: int, seed: int) -> dict:
    """Seconds per batched value-and-gradient: shipped potential against the plain one."""
    network = model.network
    nodes, log_weights = gaussian_trapezoid(model.quadrature.num_nodes)
    points, root_weights = jnp.asarray(nodes), jnp.exp(0.5 * jnp.asarray(log_weights))

    def plain(position, inverse_temperature):
        hidden = network.activation.function(points[:, None] * position[None, :])
        hidden = hidden * root_weights[:, None]
        scaled = inverse_temperature * network.readout_variance * (hidden.T @ hidden)
        matrix = jnp.eye(network.width) + scaled
        return 0.5 * spd_logdet(matrix) - model.log_prior(position)

    positions = jax.vmap(model.sample_prior)(jax.random.split(jax.random.PRNGKey(seed), lanes))
    temperatures = jnp.full((lanes,), n)
    shipped_fn = jax.jit(jax.vmap(jax.value_and_grad(model.potential_energy)))
    plain_fn = jax.jit(jax.vmap(jax.value_and_grad(plain)))
    shipped_value, shipped_grad = shipped_fn(positions, temperatures)
    plain_value, plain_grad = plain_fn(positions, temperatures)
    shipped, plain_seconds = timed(shipped_fn, positions, temperatures), timed(
        plain_fn, positions, temperatures)
    scale = float(jnp.max(jnp.abs(plain_grad)))
    return {
        "lanes": lanes, "n": n, "num_nodes": model.quadrature.num_nodes,
        "shipped_seconds": shipped, "plain_seconds": plain_seconds,
        "speedup": plain_seconds / shipped,
        "max_value_difference": float(jnp.max(jnp.abs(shipped_value - plain_value))),
        "max_relative_gradient_difference": float(jnp.max(jnp.abs(shipped_grad - plain_grad)))
        / scale,
    }


def per_effective_sample(model, n: float, depth: int, accept: float, arguments) -> dict:
    """NUTS at one n: leapfrog gradients per bulk ESS of the lambda-hat integrand."""
    start = time.perf_counter()
    result = et.sample_nuts(model, n, chains=arguments.chains, warmup=arguments.warmup,
                            draws=arguments.draws, seed=arguments.seed, max_tree_depth=depth,
                            target_accept_prob=accept, progress=False)
    seconds = time.perf_counter() - start
    stats = result.inference_data.sample_stats
    steps = np.asarray(stats["n_steps"]).reshape(arguments.chains, arguments.draws)
    ess = float(result.ess_bulk[-1])
    return {
        "max_tree_depth": depth, "target_accept_prob": accept, "seconds": seconds,
        "learning_coefficient": float(result.learning_coefficient[-1]),
        "learning_coefficient_mcse": float(result.learning_coefficient_mcse[-1]),
        "rhat": float(result.rhat[-1]), "ess_bulk": ess,
        "divergences": int(result.divergences[-1]),
        "mean_leapfrog_steps": float(steps.mean()),
        "mean_step_size": float(np.asarray(stats["step_size"]).mean()),
        "gradients_per_ess": float(steps.sum()) / ess,
        "vmapped_gradients_per_ess": float(steps.max(axis=0).sum() * arguments.chains) / ess,
    }


def _markdown(record: dict) -> str:
    gradient = record["per_gradient"]
    lines = [
        f"# Flagship geometry: `learning-zero-256`, collapsed form, n = {record['n']:g}", "",
        f"Command: `{record['command']}`", "",
        f"## Per gradient ({gradient['lanes']} lanes, Q = {gradient['num_nodes']})", "",
        "| potential | ms per batched value-and-gradient | ratio |", "|---|---|---|",
        f"| plain (all nodes, autodiff of h.T @ h) | {1e3 * gradient['plain_seconds']:.1f} "
        "| 1 |",
        f"| shipped (folded nodes, one-product reverse pass) | "
        f"{1e3 * gradient['shipped_seconds']:.1f} | {1 / gradient['speedup']:.2f} |", "",
        f"Largest difference: value {gradient['max_value_difference']:.2g}, gradient "
        f"{gradient['max_relative_gradient_difference']:.2g} (relative to its largest entry).",
        "", f"## Per effective sample at n = {record['n']:g} ({record['chains']} chains, "
        f"{record['warmup']} warmup, {record['draws']} draws each)", "",
        "| max tree depth | target accept | λ̂ ± MCSE | R-hat | bulk ESS | divergences | "
        "mean leapfrogs | gradients / ESS | vmapped gradients / ESS | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    for row in record["per_effective_sample"]:
        lines.append(
            f"| {row['max_tree_depth']} | {row['target_accept_prob']} | "
            f"{row['learning_coefficient']:.3f} ± {row['learning_coefficient_mcse']:.3f} | "
            f"{row['rhat']:.3f} | {row['ess_bulk']:.0f} | {row['divergences']} | "
            f"{row['mean_leapfrog_steps']:.1f} | {row['gradients_per_ess']:.1f} | "
            f"{row['vmapped_gradients_per_ess']:.1f} | {row['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=float, default=1e8)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--settings", nargs="+", default=["10:0.9", "6:0.8", "5:0.8", "4:0.8"])
    parser.add_argument("--lanes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=128)
    arguments = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    model = et.load_model("learning-zero-256", form="collapsed", n_max=arguments.n,
                          width=arguments.width)
    record = {"command": "python experiments/flagship_geometry.py " + " ".join(
        argv if argv is not None else __import__("sys").argv[1:]),
        "n": arguments.n, "chains": arguments.chains, "warmup": arguments.warmup,
        "draws": arguments.draws, "width": arguments.width,
        "per_gradient": per_gradient(model, arguments.n, arguments.lanes, arguments.seed),
        "per_effective_sample": []}
    print(json.dumps(record["per_gradient"]), flush=True)
    for setting in arguments.settings:
        depth, accept = setting.split(":")
        row = per_effective_sample(model, arguments.n, int(depth), float(accept), arguments)
        print(json.dumps(row), flush=True)
        record["per_effective_sample"].append(row)
        arguments.out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(arguments.out / "flagship_geometry.json", record)
        atomic_write_text(arguments.out / "flagship_geometry.md", _markdown(record))
    return record


if __name__ == "__main__":
    main()
