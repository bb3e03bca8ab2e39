r"""What a mode cutoff predicts, measured: $\hat\lambda_K(n)$ of the $K$-mode truncation
beside the full $\hat\lambda(n)$ on the same tanh network learning zero.

The full model samples $Z(n) = \int e^{-nL(\theta)}\varphi(\theta)\,d\theta$ with
$L = \tfrac12\sum_k u_k(\theta)^2$ over every Hermite mode; the cutoff model keeps the
first $K$ modes that do not vanish identically, $L_K = \tfrac12\sum_{k\in\mathcal K}
u_k(\theta)^2$ (for tanh the odd ones: $K = 1$ keeps $u_1$, $K = 2$ keeps $u_1, u_3$).
Both are sampled by replica-exchange NUTS over the same ladder, by default in the
collapsed form (readout integrated out: $\tfrac12\log\det(I + n s_a^2 G)$ against
$\tfrac12\log\det(I_K + n s_a^2 C_K^\top C_K)$). $K$ grows from 1 until
$\hat\lambda_K(n)$ equals $\hat\lambda(n)$ within three combined Monte Carlo standard errors
at every rung (or ``--k-max``).

Per rung, $K^*(n)$ is the smallest $K$ whose $\hat\lambda_K(n)$ is within three combined
MCSE of $\hat\lambda(n)$, set beside the two mode counts the effective theory predicts:

- the kernel count $\#\{j : n\mu_j > 1\}$, with $\mu_j$ the eigenvalues of the prior mode
  covariance $\Sigma = H s_a^2 E_w[c(w)c(w)^\top]$ (the free theory's staircase is half of
  it);
- the post's count $\#\{k \in \mathcal K : n H s_a^2 c_k(\bar w)^2 > 1\}$: the kept
  Hermite modes whose typical squared amplitude $E[u_k^2 \mid |w_i| = \bar w] =
  H s_a^2 c_k(\bar w)^2$ exceeds $1/n$, at the full model's posterior mean $\bar w$ of
  $|w_i|$ at that rung.

The asymptote of each truncation: $K = 1$ is a nondegenerate quadric in $(a, w)$ near the
origin for $H \ge 2$ ($u_1 \approx c_1'(0)\sum_i a_i w_i$), so $\lambda_1 = \tfrac12$;
$K \ge 2$ is measured (the value at the top rung and its local slope
$d\hat\lambda_K / d\log n$ over the last decade) and, at widths 1 and 2, computed exactly
beyond the ladder (``--far-n``) as far as the quadrature resolves $L_K$.
``--raw-check K ...`` also samples the raw-weight cutoff model at those $K$ and compares it
with the collapsed one; at width $\le 2$ every row carries the exact $\lambda_K(n)$ and
$\lambda(n)$ (`efftheory.exact`).

Writes ``OUT/mode_cutoff.json``, ``.md`` and ``.png``; each run checkpoints to
``OUT/checkpoints/`` (large; not for committing), so a rerun with more ``--k-values`` only
samples the new ones.

    python experiments/mode_cutoff.py OUT --width 16 [--n-min 1 --n-max 1e6 --num-rungs 13]
        [--k-max 12 | --k-values 1 2 4 8] [--raw-check 1 2] [--far-n 1e8 1e10] [--chains 4]
        [--warmup 500] [--draws 500] [--max-tree-depth 8] [--target-accept 0.9]
        [--seed 0] [--progress]
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import jax  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import efftheory as et  # noqa: E402
from efftheory._io import atomic_save_figure, atomic_write_json, atomic_write_text  # noqa: E402
from efftheory.models._exact_references import ExactReferenceUnavailable  # noqa: E402

CARD = "learning-zero-small"
Z_AGREE = 3.0  # |difference| <= 3 combined MCSE counts as agreement
EXACT_TOLERANCE = 0.005  # relative: the exact K*(n) at widths 1 and 2


def _sample(card_model, ladder, arguments, name: str, *,
            store_positions=False) -> tuple[dict, object]:
    """Sample `card_model` (an `et.CardModel`, so the checkpoint records its card) over
    `ladder`, checkpointed to ``OUT/checkpoints/<name>`` (a rerun with the same settings
    reads a finished run back instead of sampling it again)."""
    start = time.perf_counter()
    result = et.sample(card_model, ladder, chains=arguments.chains, warmup=arguments.warmup,
                       draws=arguments.draws, seed=arguments.seed,
                       max_tree_depth=arguments.max_tree_depth,
                       target_accept_prob=arguments.target_accept,
                       store_positions=store_positions, progress=arguments.progress,
                       checkpoint_dir=arguments.out / "checkpoints" / name, if_exists="resume")
    transitions = arguments.chains * arguments.draws
    record = {"seconds": time.perf_counter() - start,
              "num_params": card_model.model.num_params,
              "learning_coefficient": np.asarray(result.learning_coefficient).tolist(),
              "mcse": np.asarray(result.learning_coefficient_mcse).tolist(),
              "rhat": np.asarray(result.rhat).tolist(),
              "ess_bulk": np.asarray(result.ess_bulk).tolist(),
              "divergence_fraction": (np.asarray(result.divergences) / transitions).tolist()}
    return record, result


def _exact(model, positive_n) -> list[float] | None:
    try:
        return np.atleast_1d(et.exact.learning_coefficient(model, positive_n)).tolist()
    except ExactReferenceUnavailable:
        return None


def _posterior_weight_size(result, width: int) -> np.ndarray:
    """Posterior mean of $|w_i|$ per rung (collapsed positions are the inner weights;
    raw ones are ``[a, w]``)."""
    positions = np.asarray(result.inference_data.posterior["position"].values)
    weights = positions[..., -width:] if positions.shape[-1] == width else \
        positions[..., width: 2 * width]
    return np.abs(weights).mean(axis=(0, 1, 3))


def _exact_far_out(width: int, form: str, cutoff_form: str, ks: list[int],
                   far_n: list[float]) -> dict | None:
    r"""Exact $\lambda(n)$ and $\lambda_K(n)$ beyond the ladder (widths 1 and 2 only), as
    far as the quadrature resolves $L_K$ (`QuadratureError` ends a row): where the
    truncations head as $n$ grows."""
    if width > 2 or not far_n:
        return None
    rows = {}
    for label, model_form, num_modes in [("full", form, None)] + [
            (str(k), cutoff_form, k) for k in ks]:
        values = []
        for n in far_n:
            extra = {} if num_modes is None else {"num_modes": num_modes}
            try:
                model = et.load_model(CARD, width=width, form=model_form, n_max=float(n),
                                      **extra)
                values.append(float(et.exact.learning_coefficient(model, float(n))))
            except (et.QuadratureError, ExactReferenceUnavailable):
                break
        rows[label] = values
    return {"n": list(map(float, far_n)), "learning_coefficient": rows}


def _z(first: dict, second: dict, index: int) -> float:
    difference = first["learning_coefficient"][index] - second["learning_coefficient"][index]
    error = math.hypot(first["mcse"][index], second["mcse"][index])
    return abs(difference) / error if error > 0 else math.inf


def _agrees_everywhere(cutoff: dict, full: dict, rungs) -> bool:
    return all(_z(cutoff, full, index) <= Z_AGREE for index in rungs)


def predicted_counts(network, n: np.ndarray, weight_size: np.ndarray,
                     kmax: int) -> tuple[list[int], list[int]]:
    r"""The kernel count $\#\{j: n\mu_j > 1\}$ and the post's count $\#\{k \in
    \mathcal K: n H s_a^2 c_k(\bar w)^2 > 1\}$ per rung (module docstring)."""
    eigenvalues = np.asarray(et.prior_mode_statistics(network, kmax).eigenvalues)
    kernel = [int(np.sum(value * eigenvalues > 1.0)) for value in n]
    kept = np.asarray(et.kept_modes(network, _resolvable_modes(network, kmax)))
    post = []
    for value, size in zip(n, weight_size, strict=True):
        coefficients = np.asarray(et.mode_coefficients(
            network.activation, network.measure, w=float(size), kmax=int(kept[-1]),
            below_floor="keep"))[kept]
        typical = network.width * network.readout_variance * coefficients**2
        post.append(int(np.sum(value * typical > 1.0)))
    return kernel, post


def _resolvable_modes(network, kmax: int) -> int:
    """The largest number of kept modes up to index `kmax` (at most the resolvable ones)."""
    count = 0
    for _ in range(kmax + 1):
        try:
            if et.kept_modes(network, count + 1)[-1] > kmax:
                break
        except ValueError:
            break
        count += 1
    return max(count, 1)


def _local_slope(n: np.ndarray, values: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    r"""Weighted least-squares slope of $\hat\lambda_K$ against $\log n$ over the top decade."""
    top = n >= n[-1] / 10.0
    if np.sum(top) < 2:
        return math.nan, math.nan
    x, y, s = np.log(n[top]), values[top], np.maximum(errors[top], 1e-12)
    weights = 1.0 / s**2
    xm = np.sum(weights * x) / np.sum(weights)
    sxx = np.sum(weights * (x - xm) ** 2)
    slope = np.sum(weights * (x - xm) * y) / sxx
    return float(slope), float(1.0 / math.sqrt(sxx))


def run(arguments) -> dict:
    positive = np.geomspace(arguments.n_min, arguments.n_max, arguments.num_rungs)
    ladder = np.concatenate([[0.0], positive])
    rungs = list(range(1, len(ladder)))
    width, form = arguments.width, arguments.form
    cutoff_form = "collapsed_cutoff" if form == "collapsed" else "cutoff"
    full_card_model = et.load_card_model(CARD, width=width, form=form,
                                         n_max=float(positive[-1]))
    full_model = full_card_model.model
    network = full_model.network
    print(f"full model ({form}, {full_model.num_params} parameters)", flush=True)
    full, full_result = _sample(full_card_model, ladder, arguments, "full",
                                store_positions=True)
    full["exact"] = _exact(full_model, positive)
    weight_size = _posterior_weight_size(full_result, width)[1:]
    del full_result

    cutoffs: dict[int, dict] = {}
    k_values = arguments.k_values or list(range(1, arguments.k_max + 1))
    for num_modes in k_values:
        truncation = et.load_card_model(CARD, width=width, form=cutoff_form,
                                        num_modes=num_modes, n_max=float(positive[-1]))
        model = truncation.model
        record, _ = _sample(truncation, ladder, arguments, f"{cutoff_form}-{num_modes}")
        record["kept_modes"] = list(model.kept_modes)
        record["exact"] = _exact(model, positive)
        record["slope_top_decade"] = _local_slope(
            positive, np.asarray(record["learning_coefficient"][1:]),
            np.asarray(record["mcse"][1:]))
        cutoffs[num_modes] = record
        agree = sum(_z(record, full, index) <= Z_AGREE for index in rungs)
        print(f"K = {num_modes}: agrees with the full model at {agree}/{len(rungs)} rungs "
              f"({record['seconds']:.0f} s)", flush=True)
        if _agrees_everywhere(record, full, rungs):
            break

    raw_checks = {}
    for num_modes in arguments.raw_check:
        truncation = et.load_card_model(CARD, width=width, form="cutoff", num_modes=num_modes,
                                        n_max=float(positive[-1]))
        record, _ = _sample(truncation, ladder, arguments, f"cutoff-{num_modes}")
        reference = cutoffs.get(num_modes)
        if reference is None:
            continue
        record["z"] = [_z(record, reference, index) for index in rungs]
        raw_checks[num_modes] = record
        print(f"raw cutoff K = {num_modes}: max z against collapsed "
              f"{max(record['z']):.2f} ({record['seconds']:.0f} s)", flush=True)

    asymptote = _exact_far_out(width, form, cutoff_form, sorted(cutoffs), arguments.far_n)
    kmax = max(4 * width + 1, 41)
    kernel_count, post_count = predicted_counts(network, positive, weight_size, kmax)
    rows = []
    for position, index in enumerate(rungs):
        matching = [k for k, record in cutoffs.items() if _z(record, full, index) <= Z_AGREE]
        rows.append({"n": float(ladder[index]),
                     "full": full["learning_coefficient"][index],
                     "full_mcse": full["mcse"][index],
                     "k_star": min(matching) if matching else None,
                     "kernel_count": kernel_count[position],
                     "post_count": post_count[position],
                     "posterior_weight_size": float(weight_size[position])})
    return {"card": CARD, "width": width, "form": form, "cutoff_form": cutoff_form,
            "chains": arguments.chains, "warmup": arguments.warmup, "draws": arguments.draws,
            "seed": arguments.seed, "ladder": ladder.tolist(), "full": full,
            "cutoffs": {str(k): record for k, record in cutoffs.items()},
            "raw_checks": {str(k): record for k, record in raw_checks.items()},
            "rows": rows, "exact_far_out": asymptote,
            "largest_k_matches_everywhere": _agrees_everywhere(
                cutoffs[max(cutoffs)], full, rungs)}


def _exact_k_star(record: dict) -> list[int | None] | None:
    """Per rung, the smallest K whose exact lambda_K is within EXACT_TOLERANCE of the exact
    lambda (None where no K tried does; None overall without exact references)."""
    full = record["full"].get("exact")
    if full is None:
        return None
    stars = []
    for position, reference in enumerate(full):
        matching = [int(k) for k, cutoff in record["cutoffs"].items()
                    if cutoff.get("exact") and
                    abs(cutoff["exact"][position] - reference) <= EXACT_TOLERANCE * reference]
        stars.append(min(matching) if matching else None)
    return stars


def _markdown(record: dict) -> str:
    full, cutoffs = record["full"], record["cutoffs"]
    ks = sorted(cutoffs, key=int)
    ladder = record["ladder"]
    exact_star = _exact_k_star(record)
    lines = [f"# What a mode cutoff predicts, measured: tanh learning zero, H = "
             f"{record['width']}", "", f"Command: `{record['command']}`" + (
                 f"; exact references beyond the ladder added by `{record['render_command']}`"
                 if record.get("render_command") else ""), "",
             f"Full model: {record['form']} form, {full['num_params']} parameters, "
             f"{full['seconds']:.0f} s. Cutoff models: {record['cutoff_form']} form, "
             f"K = {', '.join(ks)} ({record['chains']} chains, {record['warmup']} warmup and "
             f"{record['draws']} draws each, seed {record['seed']}). The largest K "
             f"{'matches' if record['largest_k_matches_everywhere'] else 'does not match'} "
             f"the full λ̂(n) within 3 combined MCSE at every rung.", "",
             "## λ̂_K(n) beside λ̂(n)", "",
             "| n | λ̂(n) | " + " | ".join(f"λ̂_{k}" for k in ks) + " |",
             "|---|---|" + "---|" * len(ks)]
    for index in range(1, len(ladder)):
        cells = [f"{ladder[index]:.3g}",
                 f"{full['learning_coefficient'][index]:.3f} ± {full['mcse'][index]:.3f}"]
        for k in ks:
            value = cutoffs[k]["learning_coefficient"][index]
            error = cutoffs[k]["mcse"][index]
            cells.append(f"{value:.3f} ± {error:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    if full.get("exact") is not None:
        lines += ["", "Exact references (`efftheory.exact`) at the same n:", "",
                  "| n | λ(n) | " + " | ".join(f"λ_{k}" for k in ks) + " |",
                  "|---|---|" + "---|" * len(ks)]
        for position in range(len(ladder) - 1):
            cells = [f"{ladder[position + 1]:.3g}", f"{full['exact'][position]:.3f}"]
            cells += [f"{cutoffs[k]['exact'][position]:.3f}" if cutoffs[k].get("exact")
                      else "–" for k in ks]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## K*(n) against the predicted mode counts", "",
              "K*(n): the smallest K whose λ̂_K(n) is within 3 combined MCSE of λ̂(n). Kernel "
              "count: #{j : n μ_j > 1}. Post's count: #{kept k : n H s_a² c_k(w̄)² > 1} at the "
              "posterior mean w̄ of |w_i|.", "",
              "| n | λ̂(n) | K*(n) | kernel count | post's count | w̄ |" +
              (" exact K*(n) |" if exact_star else ""),
              "|---|---|---|---|---|---|" + ("---|" if exact_star else "")]
    for position, row in enumerate(record["rows"]):
        k_star = "> " + ks[-1] if row["k_star"] is None else str(row["k_star"])
        line = (f"| {row['n']:.3g} | {row['full']:.3f} | {k_star} | "
                f"{row['kernel_count']} | {row['post_count']} | "
                f"{row['posterior_weight_size']:.3f} |")
        if exact_star:
            value = exact_star[position]
            line += f" {'> ' + ks[-1] if value is None else value} |"
        lines.append(line)
    if exact_star:
        lines += ["", f"Exact K*(n): the smallest K with |λ_K(n) − λ(n)| ≤ "
                  f"{EXACT_TOLERANCE:.1%} of λ(n) in the exact references, free of Monte "
                  "Carlo error; the measured K*(n) is limited by the MCSE (about 0.5 % here)."]
    lines += ["", "## Asymptotes of the truncations", "",
              "K = 1 is a nondegenerate quadric near the origin for H ≥ 2, λ_1 = 1/2 (for "
              "H = 1 a normal crossing a²w², λ_1 = 1/2 with m = 2); K ≥ 2 measured: λ̂_K at the "
              "top rung and its slope in log n over the top decade.", "",
              "| K | kept modes | λ̂_K(n_max) | slope d λ̂_K / d log n | R-hat max | "
              "ESS min | seconds |", "|---|---|---|---|---|---|---|"]
    for k in ks:
        cutoff = cutoffs[k]
        slope, slope_error = cutoff["slope_top_decade"]
        lines.append(f"| {k} | {cutoff['kept_modes']} | {cutoff['learning_coefficient'][-1]:.3f}"
                     f" ± {cutoff['mcse'][-1]:.3f} | {slope:.3f} ± {slope_error:.3f} | "
                     f"{max(cutoff['rhat'][1:]):.3f} | {min(cutoff['ess_bulk'][1:]):.0f} | "
                     f"{cutoff['seconds']:.0f} |")
    far = record.get("exact_far_out")
    if far:
        lines += ["", "Exact λ_K(n) beyond the ladder (`efftheory.exact`; a blank where the "
                  "quadrature no longer resolves L_K to 10⁻³/n):", "",
                  "| | " + " | ".join(f"n = {n:.0e}" for n in far["n"]) + " |",
                  "|---|" + "---|" * len(far["n"])]
        for label, values in far["learning_coefficient"].items():
            cells = [f"{value:.4f}" for value in values] + [""] * (len(far["n"]) - len(values))
            name = "λ (full)" if label == "full" else f"λ_{label}"
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if record["raw_checks"]:
        lines += ["", "## Raw-weight against collapsed cutoff", "",
                  "z = |λ̂_raw − λ̂_collapsed| / √(MCSE² + MCSE²) per rung.", "",
                  "| K | max z | rungs with z ≤ 3 | raw R-hat max | raw seconds |",
                  "|---|---|---|---|---|"]
        for k, check in sorted(record["raw_checks"].items(), key=lambda item: int(item[0])):
            lines.append(f"| {k} | {max(check['z']):.2f} | "
                         f"{sum(z <= Z_AGREE for z in check['z'])}/{len(check['z'])} | "
                         f"{max(check['rhat'][1:]):.3f} | {check['seconds']:.0f} |")
    lines += ["", f"Full model: R-hat max {max(full['rhat'][1:]):.3f}, bulk ESS min "
              f"{min(full['ess_bulk'][1:]):.0f}, divergences max "
              f"{100 * max(full['divergence_fraction'][1:]):.1f} %."]
    return "\n".join(lines) + "\n"


def _figure(record: dict, path: Path) -> None:
    ladder = np.asarray(record["ladder"][1:])
    full = record["full"]
    figure, (curves, counts) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    curves.errorbar(np.log(ladder), full["learning_coefficient"][1:], yerr=full["mcse"][1:],
                    fmt="ko-", ms=3, lw=2, label=r"full $\hat\lambda(n)$")
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, len(record["cutoffs"])))
    for color, (k, cutoff) in zip(colors, sorted(record["cutoffs"].items(),
                                                  key=lambda item: int(item[0])), strict=True):
        curves.errorbar(np.log(ladder), cutoff["learning_coefficient"][1:],
                        yerr=cutoff["mcse"][1:], fmt="o-", ms=2, color=color,
                        label=rf"$K = {k}$")
    curves.set_xlabel(r"$\log n$")
    curves.set_ylabel(r"$\hat\lambda_K(n)$")
    curves.legend(fontsize=7, ncol=2)
    curves.grid(alpha=0.3)
    rows = record["rows"]
    k_star = [np.nan if row["k_star"] is None else row["k_star"] for row in rows]
    counts.plot(np.log(ladder), k_star, "ko-", label=r"$K^*(n)$ measured")
    counts.plot(np.log(ladder), [row["kernel_count"] for row in rows], "s--",
                color="tab:blue", label=r"$\#\{n\mu_j > 1\}$")
    counts.plot(np.log(ladder), [row["post_count"] for row in rows], "^:",
                color="tab:orange", label=r"$\#\{nHs_a^2c_k(\bar w)^2 > 1\}$")
    counts.set_xlabel(r"$\log n$")
    counts.set_ylabel("modes")
    counts.legend(fontsize=8)
    counts.grid(alpha=0.3)
    figure.suptitle(f"tanh learning zero, H = {record['width']}: mode cutoffs against the "
                    "full model")
    atomic_save_figure(figure, path, dpi=130)
    plt.close(figure)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--form", choices=("collapsed", "raw"), default="collapsed",
                        help="form of the full and cutoff models (default: collapsed)")
    parser.add_argument("--n-min", type=float, default=1.0)
    parser.add_argument("--n-max", type=float, default=1e6)
    parser.add_argument("--num-rungs", type=int, default=13)
    parser.add_argument("--k-max", type=int, default=12,
                        help="the largest K tried (default: 12)")
    parser.add_argument("--k-values", type=int, nargs="+", default=None,
                        help="the K tried, in order (default: 1, 2, ..., --k-max)")
    parser.add_argument("--raw-check", type=int, nargs="*", default=[],
                        help="K values at which the raw-weight cutoff model is also sampled")
    parser.add_argument("--far-n", type=float, nargs="*", default=[1e8, 1e10, 1e12, 1e14],
                        help="n beyond the ladder for exact references at width <= 2")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--max-tree-depth", type=int, default=8)
    parser.add_argument("--target-accept", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--render-only", action="store_true",
                        help="re-render OUT/mode_cutoff.md and .png from OUT/mode_cutoff.json "
                             "(adding the exact references beyond the ladder at width <= 2 "
                             "if the record lacks them) without sampling")
    arguments = parser.parse_args(argv)
    if arguments.k_max < 1:
        parser.error("--k-max must be at least 1")
    if arguments.k_values and (min(arguments.k_values) < 1 or
                               len(set(arguments.k_values)) != len(arguments.k_values)):
        parser.error("--k-values must be distinct integers >= 1")
    jax.config.update("jax_enable_x64", True)
    if arguments.render_only:
        record = json.loads((arguments.out / "mode_cutoff.json").read_text())
        if record.get("exact_far_out") is None:
            record["exact_far_out"] = _exact_far_out(
                record["width"], record["form"], record["cutoff_form"],
                sorted(map(int, record["cutoffs"])), arguments.far_n)
            record["render_command"] = "python experiments/mode_cutoff.py " + " ".join(
                sys.argv[1:] if argv is None else argv)
    else:
        record = run(arguments)
        record["command"] = "python experiments/mode_cutoff.py " + " ".join(
            sys.argv[1:] if argv is None else argv)
    arguments.out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(arguments.out / "mode_cutoff.json", record)
    atomic_write_text(arguments.out / "mode_cutoff.md", _markdown(record))
    _figure(record, arguments.out / "mode_cutoff.png")
    print(json.dumps({"k_max_tried": max(int(k) for k in record["cutoffs"]),
                      "largest_k_matches_everywhere": record["largest_k_matches_everywhere"],
                      "k_star": [row["k_star"] for row in record["rows"]]}))
    return record


if __name__ == "__main__":
    main()
