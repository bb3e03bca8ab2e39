r"""Round trips per gradient: a geometric ladder against the equalized (adaptive) one.

Runs `efftheory.sample` twice on one model with the same rungs count, sampler settings and
seed: once on the geometric ladder ``[0] + geomspace(n_min, n_max, num_rungs)``, once with
``adapt_ladder=True`` (interior rungs respaced during the first half of warmup so that the
swap rejection rates are equal: Syed, Bouchard-Côté, Deligiannidis & Doucet 2022, JRSS B
84, 321, the schedule Pigeons.jl uses). Reported per ladder: the communication barrier
$\Lambda$, the lowest neighbour swap acceptance, the round trips after warmup and the
gradients spent on them. Gradients are counted as a vmapped run pays them: every lane
(rung x chain) runs as many leapfrog steps as the longest trajectory at that step.

Writes ``OUT/ladder_comparison.json`` and ``OUT/ladder_comparison.md``.

    python experiments/ladder_comparison.py OUT [--card learning-zero-small]
        [--override width=16] [--n-max 1e6] [--num-rungs 16] [--chains 4] [--warmup 400]
        [--draws 600] [--max-tree-depth 8] [--target-accept 0.9] [--seed 0]
"""

import argparse
import json
import sys
import time
from pathlib import Path

import jax
import numpy as np

import efftheory as et
from efftheory._io import atomic_write_json, atomic_write_text


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run(model, ladder, adapt: bool, arguments) -> dict:
    start = time.perf_counter()
    result = et.sample(model, ladder, chains=arguments.chains, warmup=arguments.warmup,
                       draws=arguments.draws, seed=arguments.seed, adapt_ladder=adapt,
                       max_tree_depth=arguments.max_tree_depth,
                       target_accept_prob=arguments.target_accept, store_positions=False,
                       progress=arguments.progress)
    seconds = time.perf_counter() - start
    steps = np.asarray(result.inference_data.sample_stats["n_steps"])  # chain, draw, rung
    lanes = steps.shape[0] * steps.shape[2]
    gradients = float(steps.max(axis=(0, 2)).sum()) * lanes
    round_trips = int(np.sum(result.round_trips))
    return {
        "adapt_ladder": adapt, "seconds": seconds,
        "n_ladder": np.asarray(result.n_ladder).tolist(),
        "communication_barrier": float(result.communication_barrier),
        "min_swap_acceptance": float(np.nanmin(1.0 - np.asarray(result.swap_rejection))),
        "round_trips": round_trips, "vmapped_gradients": gradients,
        "round_trips_per_million_gradients": 1e6 * round_trips / gradients,
        "min_ess_bulk": float(np.nanmin(result.ess_bulk)),
        "learning_coefficient_top": float(result.learning_coefficient[-1]),
        "learning_coefficient_top_mcse": float(result.learning_coefficient_mcse[-1]),
    }


def _markdown(record: dict) -> str:
    lines = [f"# Ladder comparison: {record['card']} {record['overrides']}", "",
             f"Command: `{record['command']}`", "",
             "| ladder | Λ | min swap acceptance | round trips | vmapped gradients | "
             "round trips per 10⁶ gradients | min bulk ESS | λ̂(n_max) ± MCSE | wall s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in record["runs"]:
        lines.append(
            f"| {'equalized' if row['adapt_ladder'] else 'geometric'} | "
            f"{row['communication_barrier']:.2f} | {row['min_swap_acceptance']:.2f} | "
            f"{row['round_trips']} | {row['vmapped_gradients']:.3g} | "
            f"{row['round_trips_per_million_gradients']:.2f} | {row['min_ess_bulk']:.0f} | "
            f"{row['learning_coefficient_top']:.3f} ± {row['learning_coefficient_top_mcse']:.3f}"
            f" | {row['seconds']:.0f} |")
    geometric, equalized = record["runs"]
    if geometric["round_trips"] and equalized["round_trips"]:
        ratio = (equalized["round_trips_per_million_gradients"]
                 / geometric["round_trips_per_million_gradients"])
        lines += ["", f"Round trips per gradient, equalized / geometric: {ratio:.2f}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--card", default="learning-zero-small")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--n-min", type=float, default=1.0)
    parser.add_argument("--n-max", type=float, default=1e6)
    parser.add_argument("--num-rungs", type=int, default=16)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--draws", type=int, default=600)
    parser.add_argument("--max-tree-depth", type=int, default=8)
    parser.add_argument("--target-accept", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true")
    arguments = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    overrides = dict(item.split("=", 1) for item in arguments.override)
    overrides = {key: _value(value) for key, value in overrides.items()}
    model = et.load_model(arguments.card, n_max=arguments.n_max, **overrides)
    ladder = np.concatenate([[0.0], np.geomspace(arguments.n_min, arguments.n_max,
                                                 arguments.num_rungs)])
    record = {"command": "python experiments/ladder_comparison.py " + " ".join(
        sys.argv[1:] if argv is None else argv), "card": arguments.card,
        "overrides": overrides, "runs": [run(model, ladder, adapt, arguments)
                                         for adapt in (False, True)]}
    arguments.out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(arguments.out / "ladder_comparison.json", record)
    atomic_write_text(arguments.out / "ladder_comparison.md", _markdown(record))
    print(_markdown(record))
    return record


if __name__ == "__main__":
    main()
