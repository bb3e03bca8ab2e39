r"""The local learning coefficient at a trained point of a deep linear network card, by
efftheory's replica-exchange NUTS and by devinterp's SGLD, on the same loss and the same n.

The point $w^*$ lies on the true-rank set and is the deepest point there: every layer is
$W_s = I_{H_{s+1} \times H_s}$ restricted to its first $r$ columns ($r$ = the card's true
rank), so $W_L \cdots W_1 = W^*$ and every hidden unit beyond the $r$-th is switched off (the
origin for a learning-zero card). Its local learning coefficient is the card's global RLCT
(Aoyagi & Watanabe 2005; Aoyagi 2024), read at finite $n$ as $\lambda - (m - 1)/\log n$
(the leading finite-$n$ correction, as in docs/benchmarks.md).

Both methods target the localized posterior
$p_n(w) \propto \exp(-n(L(w) - L(w^*)) - \tfrac\gamma2|w - w^*|^2)$ with the exact
population loss $L = \tfrac12\|W_L\cdots W_1 - W^*\|_F^2$ and estimate
$\hat\lambda = n\,(E_n[L] - L(w^*))$ (Lau, Furman, Wang, Murfet & Wei 2025, AISTATS):

* `efftheory_nuts`: `efftheory.local_learning_coefficient` (NUTS over a ladder from the
  localized prior to n, swaps between rungs);
* `devinterp_sgld`: `devinterp.optim.SGMCMC.sgld(lr, nbeta=n, localization=gamma)`
  started at $w^*$, full batch on the same population loss (float64), one chain after the
  other; the estimate is devinterp's `devinterp.slt.llc` formula
  $n\beta\,(\text{mean loss over the draws} - \text{initial loss})$ after `--sgld-burnin`
  steps (devinterp's default burn-in is 0), with efftheory's ESS-based MCSE. The step is
  $\epsilon = f/(n + \gamma)$ for each factor $f$ of `--sgld-step-factors` (the loss has unit
  curvature at unit-scale weights, so $f < 2$ keeps Euler-Maruyama stable there).

Writes `OUT/llc.json` (settings, the reference, every row) and `OUT/llc.md` (the table).
Without `torch` and `devinterp` (pyproject extra `bench`; see docs/benchmarks.md) the SGLD
row says so.

    python experiments/local_learning_coefficient.py OUT [--card dln-three-layer] [--n 1e4]
        [--gamma 1] [--chains 4] [--warmup 500] [--draws 1000] [--target-accept 0.95]
        [--sgld-draws 20000] [--sgld-chains 4] [--sgld-step-factors 0.1 0.01] [--seed 0]
"""

import argparse
import importlib.util
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import efftheory as et
from efftheory._io import atomic_write_json, atomic_write_text
from efftheory.sampling import SamplingWarning
from efftheory.sampling._devices import describe_machine
from efftheory.sampling._estimators import mean_and_mcse


def true_rank_point(model: et.DeepLinearModel) -> np.ndarray:
    """$W_s = I$ on the first r columns (r = true rank), zero elsewhere, flattened."""
    widths, rank = model.network.widths, model.true_rank
    layers = [np.eye(fan_out, fan_in) * (np.arange(fan_in) < rank)
              for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True)]
    return np.concatenate([layer.ravel() for layer in layers])


def reference(card_name: str, n: float) -> dict:
    """The card's RLCT (lambda, m) and its finite-n reading lambda - (m - 1)/log n."""
    known = et.load_card(card_name).known_values[0]
    rlct, multiplicity = float(known.learning_coefficient), int(known.multiplicity)
    return {"label": known.label, "reference": known.reference, "rlct": rlct,
            "multiplicity": multiplicity,
            "finite_n": rlct - (multiplicity - 1) / math.log(n)}


def run_nuts(model, w_star: np.ndarray, args) -> dict:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # reported in the row instead
        result = et.local_learning_coefficient(
            model, w_star, args.n, gamma=args.gamma, chains=args.chains,
            warmup=args.warmup, draws=args.draws, seed=args.seed,
            rungs_per_decade=args.rungs_per_decade, progress=False,
            store_positions=False, target_accept_prob=args.target_accept)
    seconds = time.perf_counter() - start
    return {"method": "efftheory_nuts", "available": True,
            "learning_coefficient": float(result.learning_coefficient[0]),
            "error": float(result.learning_coefficient_mcse[0]),
            "rhat": float(result.rhat[0]), "ess": float(result.ess_bulk[0]),
            "divergences": int(result.divergences[0]), "seconds": seconds,
            "settings": (f"{args.chains} chains x ({args.warmup} warmup + {args.draws} draws),"
                         f" {result.sampling.n_ladder.size} rungs 0..n, target accept "
                         f"{args.target_accept}"),
            "diagnostics": list(result.diagnostics),
            "n_ladder": result.sampling.n_ladder.tolist()}


def devinterp_available() -> str | None:
    """None when torch and devinterp import, else why not."""
    missing = [name for name in ("torch", "devinterp") if importlib.util.find_spec(name) is None]
    if missing:
        return (f"not run: {' and '.join(missing)} not importable (pip install the CPU torch, "
                "then `pip install --no-deps devinterp`; see docs/benchmarks.md)")
    return None


def run_sgld(model, w_star: np.ndarray, args) -> list[dict]:
    """devinterp SGLD from w*, one row per step factor."""
    import torch
    from devinterp.optim import SGMCMC

    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)  # a 16-parameter model: threads only add overhead
    torch.manual_seed(args.seed)
    layers = [np.asarray(layer) for layer in model.network.layers(w_star)]
    true_map = torch.tensor(np.asarray(model.true_map))

    def population_loss(parameters):
        product = parameters[0]
        for matrix in parameters[1:]:
            product = matrix @ product
        return 0.5 * torch.sum((product - true_map) ** 2)

    rows = []
    for factor in args.sgld_step_factors:
        lr = factor / (args.n + args.gamma)
        traces = np.empty((args.sgld_chains, args.sgld_draws))
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for chain in range(args.sgld_chains):
                parameters = [torch.nn.Parameter(torch.tensor(layer)) for layer in layers]
                optimizer = SGMCMC.sgld(parameters, lr=lr, nbeta=args.n,
                                        localization=args.gamma)
                init_loss = float(population_loss(parameters))
                for step in range(args.sgld_burnin + args.sgld_draws):
                    optimizer.zero_grad()
                    loss = population_loss(parameters)
                    loss.backward()
                    optimizer.step()
                    if step >= args.sgld_burnin:
                        traces[chain, step - args.sgld_burnin] = loss.item()
        seconds = time.perf_counter() - start
        # devinterp.slt.llc: LLC = n_beta * (mean sampling loss - init loss).
        value = float(args.n * (traces.mean() - init_loss))
        finite = bool(np.all(np.isfinite(traces)))
        mcse = float(args.n * mean_and_mcse(traces)[1]) if finite else math.nan
        ess = float(traces.var() / (mcse / args.n) ** 2) if finite and mcse > 0 else math.nan
        rows.append({"method": f"devinterp_sgld (step factor {factor:g})", "available": True,
                     "learning_coefficient": value, "error": mcse, "ess": ess,
                     "chain_values": (args.n * (traces.mean(axis=1) - init_loss)).tolist(),
                     "seconds": seconds, "lr": lr,
                     "settings": (f"{args.sgld_chains} chains x ({args.sgld_burnin} burn-in + "
                                  f"{args.sgld_draws} steps), lr = {factor:g}/(n + gamma) = "
                                  f"{lr:.3g}, nbeta = n, localization = gamma, from w*")})
        print(f"  sgld factor {factor:g}: lambda {value:.4f} +- {mcse:.4f} ({seconds:.1f} s)",
              flush=True)
    return rows


def report(payload: dict) -> str:
    ref = payload["reference"]
    lines = [f"# Local learning coefficient at w* on `{payload['card']}`", "",
             f"n = {payload['n']:g}, gamma = {payload['gamma']:g}, w* = the deepest point of "
             f"the true-rank set (L(w*) = {payload['loss_at_w_star']:.3g}). Known RLCT "
             f"{ref['rlct']:g} (m = {ref['multiplicity']}; {ref['label']}), read at this n as "
             f"lambda - (m - 1)/log n = {ref['finite_n']:.4f}.", "",
             f"Command: `{payload['command']}`  ", f"Machine: {payload['machine']}", "",
             "| method | lambda-hat ± MCSE | RLCT (finite-n) | relative error | z | z vs NUTS "
             "| wall s | settings |", "|---|---|---|---|---|---|---|---|"]
    nuts = payload["rows"][0]
    for row in payload["rows"]:
        if not row["available"]:
            lines.append(f"| {row['method']} | – | {ref['rlct']:g} ({ref['finite_n']:.4f}) | "
                         f"– | – | – | – | {row['settings']} |")
            continue
        value, error = row["learning_coefficient"], row["error"]
        relative = (value - ref["finite_n"]) / ref["finite_n"]
        z = (value - ref["finite_n"]) / error if error > 0 else math.nan
        z_nuts = "–" if row is nuts else (
            f"{(value - nuts['learning_coefficient']) / math.hypot(error, nuts['error']):+.1f}")
        lines.append(f"| {row['method']} | {value:.4f} ± {error:.4f} | {ref['rlct']:g} "
                     f"({ref['finite_n']:.4f}) | {relative:+.2%} | {z:+.1f} | {z_nuts} | "
                     f"{row['seconds']:.1f} | {row['settings']} |")
    diagnostics = " ".join(nuts["diagnostics"]) or "none failed."
    lines += ["", "Relative error and z against the finite-n reading (its leading correction "
              "only); z vs NUTS against efftheory's estimate of the same lambda(n). MCSE from "
              f"the bulk ESS for both methods. NUTS diagnostics (every rung): {diagnostics}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--card", default="dln-three-layer")
    parser.add_argument("--n", type=float, default=1e4)
    parser.add_argument("--gamma", type=float, default=1.0)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--rungs-per-decade", type=float, default=2.0)
    parser.add_argument("--target-accept", type=float, default=0.95,
                        help="NUTS target acceptance (0.95: the product of layers is stiff "
                             "near the zero set)")
    parser.add_argument("--sgld-chains", type=int, default=4)
    parser.add_argument("--sgld-draws", type=int, default=20000)
    parser.add_argument("--sgld-burnin", type=int, default=0)
    parser.add_argument("--sgld-step-factors", type=float, nargs="+", default=[0.1, 0.01])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model = et.load_model(args.card)
    if not isinstance(model, et.DeepLinearModel):
        parser.error(f"--card {args.card} builds a {type(model).__name__}; this experiment "
                     "needs a deep linear network card (dln-* or rrr-*, `efftheory models`).")
    if not (args.n > 1 and math.isfinite(args.n)):
        parser.error(f"--n must be finite and > 1 (the finite-n reading uses log n), got "
                     f"{args.n}.")
    w_star = true_rank_point(model)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    rows = [run_nuts(model, w_star, args)]
    print(f"  nuts: lambda {rows[0]['learning_coefficient']:.4f} +- {rows[0]['error']:.4f} "
          f"({rows[0]['seconds']:.1f} s)", flush=True)
    missing = devinterp_available()
    if missing is None:
        rows += run_sgld(model, w_star, args)
    else:
        rows.append({"method": "devinterp_sgld", "available": False, "settings": missing})
    raw_argv = sys.argv[1:] if argv is None else list(argv)
    payload = {"card": args.card, "n": args.n, "gamma": args.gamma, "seed": args.seed,
               "w_star": w_star.tolist(), "loss_at_w_star": float(model.population_loss(
                   np.asarray(w_star))),
               "reference": reference(args.card, args.n), "rows": rows,
               "command": "python experiments/local_learning_coefficient.py "
                          + " ".join(raw_argv),
               "machine": describe_machine()}
    atomic_write_json(args.output_dir / "llc.json", payload)
    atomic_write_text(args.output_dir / "llc.md", report(payload))
    print(json.dumps({row["method"]: row.get("learning_coefficient") for row in rows}))
    return payload


if __name__ == "__main__":
    main()
