"""Shared by the scan experiments: run a grid of studies with `efftheory.sweep`, then
tabulate and plot lambda-hat(n) across the grid."""

import argparse
import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import efftheory  # noqa: E402
from efftheory._io import atomic_save_figure, atomic_write_json, atomic_write_text  # noqa: E402


def study_arguments(description: str, defaults: dict) -> argparse.ArgumentParser:
    """Common command-line options: output folder, ladder, sampler sizes, execution."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("out", type=Path, help="output folder (rerunning skips finished runs)")
    parser.add_argument("--card", default=defaults.get("card", "learning-zero-small"))
    parser.add_argument("--n-max", type=float, default=defaults.get("n_max", 1e6))
    parser.add_argument("--num-rungs", type=int, default=defaults.get("num_rungs", 16),
                        help="rungs in all, n = 0 included, as for `efftheory run`")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=defaults.get("warmup", 400))
    parser.add_argument("--draws", type=int, default=defaults.get("draws", 600))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--form", default=None,
                        help="two-layer form for every run (raw, collapsed, ...; default: the "
                             "card's)")
    parser.add_argument("--max-tree-depth", type=int, default=8)
    parser.add_argument("--target-accept", type=float, default=0.95)
    parser.add_argument("--include", type=Path, nargs="+", default=[],
                        help="finished study folders (their summary.json) to add to the "
                             "table and figure, e.g. the flagship's")
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: half the CPUs)")
    parser.add_argument("--in-process", action="store_true",
                        help="run the studies one after another in this process")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address")
    return parser


def run_scan(arguments, overrides: list[dict]) -> list[dict]:
    """One study per override dict; returns the sweep rows in grid order."""
    fixed = dict(card=arguments.card, n_min=1.0, n_max=arguments.n_max,
                 num_rungs=arguments.num_rungs, chains=arguments.chains,
                 warmup=arguments.warmup, draws=arguments.draws, seed=arguments.seed,
                 max_tree_depth=arguments.max_tree_depth,
                 target_accept_prob=arguments.target_accept, store_positions=False)
    if arguments.form is not None:
        overrides = [{**entry, "form": arguments.form} for entry in overrides]
    executor = ThreadPoolExecutor(max_workers=1) if arguments.in_process else None
    try:
        result = efftheory.sweep({"overrides": overrides}, out=arguments.out / "runs",
                                 fixed=fixed, executor=executor, workers=arguments.workers,
                                 scheduler=arguments.scheduler)
    finally:
        if executor is not None:
            executor.shutdown()
    return result.rows + [included_row(folder) for folder in arguments.include]


def included_row(folder: Path) -> dict:
    """A finished study's summary as a sweep row (its card parameters as the overrides)."""
    summary = json.loads((Path(folder) / "summary.json").read_text())
    parameters = dict(summary["model"]["card_metadata"].get("parameter_items", []))
    parameters.update(summary["config"].get("overrides", {}))
    return {**summary, "overrides": parameters, "included_from": str(folder)}


def scan_table(rows: list[dict], label: str) -> list[dict]:
    """Per run: the fitted (log n)^p exponent and the top rung against the predictions."""
    table = []
    for row in rows:
        top = row["rungs"][-1]
        power = row["fits"].get("log_power", {})
        entry = {
            label: row["overrides"][label],
            "num_params": row["model"]["num_params"],
            "p": power.get("exponent"),
            "p_standard_error": power.get("exponent_standard_error"),
            "alpha": power.get("amplitude"),
            "alpha_standard_error": power.get("amplitude_standard_error"),
            "fit_reduced_chi_squared": power.get("reduced_chi_squared"),
            "worst_rhat": max((r["rhat"] for r in row["rungs"] if r["rhat"] is not None),
                              default=None),
            "min_ess_bulk": min((r["ess_bulk"] for r in row["rungs"]
                                 if r["ess_bulk"] is not None), default=None),
            "n_top": top["n"],
            "lambda_hat_top": top["learning_coefficient"],
            "lambda_hat_top_mcse": top["learning_coefficient_mcse"],
            "lambda_effective_top": top["effective_learning_coefficient"],
            "lambda_quenched_top": top.get("quenched_prior_average"),
            "geometric": {value["label"]: value["learning_coefficient"]
                          for value in row["geometric"]},
            "diagnostics": len(row["diagnostics"]),
        }
        table.append(entry)
    return table


def write_scan(out: Path, rows: list[dict], label: str, title: str) -> list[dict]:
    """``scan.json``, ``scan.md`` and ``scan.png`` (lambda-hat curves; p against the label)."""
    table = scan_table(rows, label)
    atomic_write_json(out / "scan.json", table)
    lines = [f"# {title}", "",
             f"| {label} | params | p ± se | α ± se | reduced χ² | n_top | λ̂(n_top) ± MCSE | "
             "λ_eff | λ_q | geometric | worst R-hat | min bulk ESS | failed diagnostics |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for entry in table:
        p = ("" if entry["p"] is None
             else f"{entry['p']:.3f} ± {entry['p_standard_error']:.2g}")
        alpha = ("" if entry["alpha"] is None
                 else f"{entry['alpha']:.3f} ± {entry['alpha_standard_error']:.2g}")
        geometric = "; ".join(f"{k.split(':')[0]}: {v:.4g}" for k, v in entry["geometric"].items())
        quenched = entry["lambda_quenched_top"]
        lines.append(
            f"| {entry[label]} | {entry['num_params']} | {p} | {alpha} | "
            f"{_format(entry['fit_reduced_chi_squared'], '.3g')} | {entry['n_top']:.3g} | "
            f"{entry['lambda_hat_top']:.4g} ± {entry['lambda_hat_top_mcse']:.2g} | "
            f"{entry['lambda_effective_top']:.4g} | "
            f"{'' if quenched is None else f'{quenched:.4g}'} | {geometric} | "
            f"{_format(entry['worst_rhat'], '.3f')} | {_format(entry['min_ess_bulk'], '.0f')} | "
            f"{entry['diagnostics']} |")
    atomic_write_text(out / "scan.md", "\n".join(lines) + "\n")
    figure, (curves, exponents) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(rows)))
    for row, color in zip(rows, colors, strict=True):
        rungs = [r for r in row["rungs"] if r["n"] > 0 and r["learning_coefficient"] is not None]
        n = np.array([r["n"] for r in rungs])
        curves.errorbar(np.log(n), [r["learning_coefficient"] for r in rungs],
                        yerr=[r["learning_coefficient_mcse"] for r in rungs], fmt="o-", ms=3,
                        color=color, label=f"{label} = {row['overrides'][label]}")
    curves.set_xlabel(r"$\log n$")
    curves.set_ylabel(r"$\hat\lambda(n)$")
    curves.legend(fontsize=7)
    curves.grid(alpha=0.3)
    fitted = [entry for entry in table if entry["p"] is not None]
    positions = np.arange(len(fitted))
    exponents.errorbar(positions, [e["p"] for e in fitted],
                       yerr=[e["p_standard_error"] for e in fitted], fmt="o", color="black")
    exponents.set_xticks(positions, [str(e[label]) for e in fitted])
    exponents.axhline(2.0, color="tab:red", ls=":", label="p = 2 (source post's Ansatz)")
    exponents.axhline(1.0, color="tab:blue", ls=":", label="p = 1")
    exponents.set_xlabel(label)
    exponents.set_ylabel(r"fitted $p$ in $\hat\lambda \approx \alpha(\log n)^p$")
    exponents.legend(fontsize=7)
    exponents.grid(alpha=0.3)
    figure.suptitle(title, fontsize=10)
    atomic_save_figure(figure, out / "scan.png", dpi=130)
    plt.close(figure)
    return table


def _format(value, spec: str) -> str:
    return "" if value is None else format(value, spec)


def widths_between(low: int, high: int) -> list[int]:
    """Powers of two from `low` to `high`."""
    return [2**k for k in range(int(math.log2(low)), int(math.log2(high)) + 1)]
