"""Replica exchange against independent per-rung NUTS on the normal crossing L = w1² w2².

Runs the same ladder with `swap=True` and `swap=False` and writes, per rung, λ̂ with its
MCSE, bulk ESS of the energy, ESS per second, and (with swaps) acceptance per pair and
round trips, to `<output_dir>/benchmark_tempering.json` (plus each run's netCDF).

    python experiments/benchmark_tempering.py OUTPUT_DIR [--draws 1000] [--seed 0]
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from efftheory import PartitionFunction
from efftheory._partition import standard_normal_log_prior
from efftheory.sampling import SamplingWarning, geometric_ladder, sample


class NormalCrossing(PartitionFunction):
    r"""$L = w_1^2 w_2^2$, $w \sim N(0, I_2)$: RLCT 1/2 with multiplicity 2."""

    num_params: int = eqx.field(static=True, default=2)
    loss_minimum: float = eqx.field(static=True, default=0.0)

    def population_loss(self, position):
        return position[0] ** 2 * position[1] ** 2

    def log_prior(self, position):
        return standard_normal_log_prior(position)

    def sample_prior(self, key):
        return jax.random.normal(key, (2,))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--rungs", type=int, default=16)
    parser.add_argument("--n-max", type=float, default=1e6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    ladder = geometric_ladder(1e-2, args.n_max, args.rungs, include_prior=True)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    table = {"n_ladder": ladder.tolist(), "config": {k: str(v) for k, v in vars(args).items()}}
    for swap in (True, False):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)
            result = sample(NormalCrossing(), ladder, chains=args.chains, draws=args.draws,
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
            "divergences": result.divergences.tolist(),
            "swap_acceptance": [None if np.isnan(a) else float(a) for a in result.swap_acceptance],
            "round_trips": result.round_trips.tolist(),
        }
        print(f"{name}: {seconds:.1f} s, min ESS {np.nanmin(result.ess_bulk):.0f}, "
              f"round trips {result.round_trips.tolist()}")
    (args.output_dir / "benchmark_tempering.json").write_text(json.dumps(table, indent=2))
    return table


if __name__ == "__main__":
    main()
