"""Replica exchange against independent per-rung NUTS on a tanh network learning zero.

Runs the same ladder with `swap=True` and `swap=False` on a model card (default: the
width-8 tanh network, `learning-zero-small` with `width=8`, n up to 1e6) and writes, per
rung, lambda-hat with its MCSE, bulk ESS of the energy, ESS per second and gradient
evaluations per effective sample, and (with swaps) acceptance per pair and round trips, to
`<output_dir>/benchmark_tempering.json` (plus each run's netCDF). The headline is the ratio
of ESS per second at the top rungs, measured in one run.

    python experiments/benchmark_tempering.py OUTPUT_DIR [--width 8] [--n-max 1e6]
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from efftheory import load_model
from efftheory._io import atomic_write_json
from efftheory.sampling import SamplingWarning, geometric_ladder, sample


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--card", default="learning-zero-small")
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--rungs", type=int, default=16)
    parser.add_argument("--n-max", type=float, default=1e6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    ladder = geometric_ladder(1.0, args.n_max, args.rungs, include_prior=True)
    model = load_model(args.card, width=args.width, n_max=args.n_max)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    table = {"n_ladder": ladder.tolist(), "config": {k: str(v) for k, v in vars(args).items()}}
    for swap in (True, False):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)
            result = sample(model, ladder, chains=args.chains, draws=args.draws,
                            warmup=args.warmup, seed=args.seed, swap=swap,
                            store_positions=False, progress=False)
        seconds = time.perf_counter() - start  # includes the one compile
        name = "replica_exchange" if swap else "independent"
        result.save(args.output_dir / name)
        table[name] = {
            "seconds": seconds,
            "learning_coefficient": result.learning_coefficient.tolist(),
            "learning_coefficient_mcse": result.learning_coefficient_mcse.tolist(),
            "ess_bulk": result.ess_bulk.tolist(),
            "ess_per_second": (result.ess_bulk / seconds).tolist(),
            "gradient_evaluations_per_effective_sample": (
                result.inference_data.sample_stats["n_steps"].values.sum(axis=(0, 1))
                / result.ess_bulk).tolist(),
            "divergences": result.divergences.tolist(),
            "swap_acceptance": [None if np.isnan(a) else float(a) for a in result.swap_acceptance],
            "round_trips": result.round_trips.tolist(),
        }
        print(f"{name}: {seconds:.1f} s, min ESS {np.nanmin(result.ess_bulk):.0f}, "
              f"round trips {result.round_trips.tolist()}")
    top = slice(-3, None)
    ratio = (np.asarray(table["replica_exchange"]["ess_per_second"])[top]
             / np.asarray(table["independent"]["ess_per_second"])[top])
    table["top_rungs_ess_per_second_ratio"] = ratio.tolist()
    print("ESS/s ratio, replica exchange / independent, top three rungs:",
          ", ".join(f"{r:.2f}" for r in ratio))
    atomic_write_json(args.output_dir / "benchmark_tempering.json", table)
    return table


if __name__ == "__main__":
    main()
