"""report.md: a study's summary in words, tables and warnings."""

import math


def render_report(summary: dict) -> str:
    """report.md: a warning first if any diagnostic failed, the run, its diagnostics, then
    the fitted exponent, the crossovers and the comparison with the effective theory."""
    config = summary["config"]
    lines = [f"# Study: {config['card']}", ""]
    if summary["diagnostics"]:
        lines += [f"> **Warning: {len(summary['diagnostics'])} diagnostic check(s) failed** "
                  "(see Diagnostics below): the numbers of the rungs they name are not to be "
                  "trusted yet, and neither is any interpretation built on them.", ""]
    metadata = summary["model"].get("card_metadata")
    builder = str(metadata.get("builder", "")) if isinstance(metadata, dict) else ""
    lines.append(f"Model: `{config['card']}` with {summary['model']['num_params']} parameters"
                 + (f", built by `{builder}`" if ":" in builder else "")
                 + (f", overrides {config['overrides']}" if config["overrides"] else "") + ".")
    ladder, sampler = config["ladder"], config["sampler"]
    lines.append(f"Ladder: n = 0 and {ladder['num_rungs'] - 1} geometric rungs from "
                 f"{ladder['n_min']:g} to {ladder['n_max']:g}; {sampler['chains']} chains, "
                 f"{sampler['warmup']} warmup and {sampler['draws']} draws per rung; "
                 f"seed {sampler['seed']}.")
    trustworthy = summary["model"].get("trustworthy_n")
    if trustworthy is not None:
        nodes = summary["model"].get("quadrature_nodes")
        lines.append(f"Trustworthy up to n = {trustworthy:.3g}"
                     + (f" ({nodes} quadrature nodes)" if nodes else "")
                     + ": beyond it quadrature and float64 rounding of the kernel change the "
                     "tempered energy by more than 1e-3 where the posterior lives"
                     + ("; the collapsed energy comes from QR of the kernel's node factor, "
                        "which never forms the kernel (its rounding grows like √n, not n)."
                        if summary["model"].get("factored") else "."))
    lines += _diagnostics_section(summary)
    lines += ["", "## Fitted laws", ""]
    fits = summary["fits"]
    if "log_power" in fits:
        power = fits["log_power"]
        lines.append(f"- λ̂(n) ≈ α (log n)^p over {fits['num_rungs']} rungs with n in "
                     f"[{fits['n_range'][0]:.3g}, {fits['n_range'][1]:.3g}]: "
                     f"**p = {power['exponent']:.3f} ± {power['exponent_standard_error']:.2g}**, "
                     f"α = {power['amplitude']:.4g} ± {power['amplitude_standard_error']:.2g} "
                     f"(reduced χ² = {power['reduced_chi_squared']:.2f}).")
        local = fits.get("local_exponent") or []
        if power["reduced_chi_squared"] > 3 and len(local) >= 2:
            first, last = local[0], local[-1]
            lines.append(
                f"  The law does not describe these rungs within their errors (reduced χ² ≫ 1):"
                f" the local exponent d log λ̂ / d log log n runs from {first['exponent']:.2f} "
                f"± {first['standard_error']:.2g} near n = {first['n']:.3g} to "
                f"{last['exponent']:.2f} ± {last['standard_error']:.2g} near n = "
                f"{last['n']:.3g} (`fits.local_exponent` in summary.json).")
        multiplicity = fits["multiplicity"]
        lines.append(f"- λ̂(n) ≈ λ − (m − 1)/log n: λ = {multiplicity['learning_coefficient']:.3f}"
                     f" ± {multiplicity['learning_coefficient_standard_error']:.3f}, m = "
                     f"{multiplicity['multiplicity']:.2f} ± "
                     f"{multiplicity['multiplicity_standard_error']:.2f} (reduced χ² = "
                     f"{multiplicity['reduced_chi_squared']:.2f}).")
    else:
        lines.append("- Too few rungs with n ≥ fit_n_min and positive λ̂ to fit a law.")
    if summary["kernel_eigenvalues"] is None and not any(
            "quenched_prior_average" in row for row in summary["rungs"]):
        # No prediction to set beside the measurement: show the measurement itself.
        lines += measurement_section(summary)
        lines += _geometric_lines(summary)
        lines += absent_section(summary)
        lines += ["", "Figures: `spectrum.png`, `learning_coefficient.png`, `free_energy.png`. "
                  "Numbers: `summary.json`, `summary.csv`. Draws: `sampling/inference_data.nc`."]
        return "\n".join(lines) + "\n"
    lines += ["", "## Geometric values and crossovers", ""]
    if summary.get("kernel_eigenvalues_source") == "arbitrary precision":
        lines += ["Kernel eigenvalues, effective prediction and crossovers from arbitrary "
                  "precision (efftheory.theory.kernel_eigenvalues): the top rung resolves "
                  "eigenvalues below the float64 floor.", ""]
    for value in summary["geometric"]:
        lines.append(f"- {value['label']}: λ = {value['learning_coefficient']:.4g}, "
                     f"m = {value['multiplicity']} ({value['source']}).")
    for crossing in summary["crossovers"]:
        if "n_star_lower_bound" in crossing:
            lines.append(f"- The effective prediction reaches λ = "
                         f"{crossing['learning_coefficient']:.4g} ({crossing['label']}) only "
                         f"beyond n* > 10^{crossing['log10_n_star_lower_bound']:.1f}: "
                         f"{crossing['why_lower_bound']}.")
            continue
        for form in ("smooth", "staircase"):
            if crossing.get(f"n_star_{form}") is not None:
                lines.append(f"- The effective prediction ({form}) reaches λ = "
                             f"{crossing['learning_coefficient']:.4g} ({crossing['label']}) at "
                             f"n* ≈ 10^{crossing[f'log10_n_star_{form}']:.2f}"
                             + (f" (eigenvalues in {crossing['eigenvalues']})."
                                if "eigenvalues" in crossing else "."))
            else:
                lines.append(f"- The effective prediction ({form}) never reaches λ = "
                             f"{crossing['learning_coefficient']:.4g} ({crossing['label']}): "
                             f"{crossing.get(f'why_no_n_star_{form}')}")
    lines += ["", "## Effective prediction against the measurement", ""]
    comparison = summary["effective_comparison"]
    lines.append("| n | λ̂ ± MCSE | λ_eff (free theory, rank cap) | λ_eff vs λ̂ | "
                 "λ_q (quenched prior average) | λ_q vs λ̂ |")
    lines.append("|---|---|---|---|---|---|")
    for row in summary["rungs"]:
        if row["n"] == 0 or row["learning_coefficient"] is None:
            continue
        relative = row.get("effective_relative_difference")
        effective = row.get("effective_learning_coefficient")
        quenched = row.get("quenched_prior_average")
        quenched_relative = row.get("quenched_relative_difference")
        lines.append(f"| {row['n']:.3g} | {row['learning_coefficient']:.4g} ± "
                     f"{row['learning_coefficient_mcse']:.2g} | "
                     f"{'' if effective is None else f'{effective:.4g}'} | "
                     f"{'' if relative is None else f'{relative:+.1%}'} | "
                     f"{'' if quenched is None else f'{quenched:.4g}'} | "
                     f"{'' if quenched_relative is None else f'{quenched_relative:+.1%}'} |")
    lines.append("")
    if comparison["all_within"]:
        lines.append("The effective prediction tracks λ̂(n) within max(10%, 3 MCSE) at every "
                     "rung.")
    else:
        ns = ", ".join(f"{entry['n']:.3g} ({entry['relative_difference']:+.0%})"
                       for entry in comparison["outside"])
        lines.append(f"The effective prediction misses λ̂(n) by more than max(10%, 3 MCSE) at "
                     f"n = {ns}.")
        lines.append("")
        lines.append("Why, in two parts. (1) λ = ½ Σ x/(1 + x) is concave in the kernel, so "
                     "the free theory, which averages the kernel over the prior before "
                     "counting modes, bounds the quenched prior average λ_q from above "
                     "(Jensen): the gap λ_eff − λ_q is the finite-width fluctuation of the "
                     "kernel. (2) The exact λ(n) averages the same integrand over the "
                     "*posterior* of the inner weights, which at larger n moves towards "
                     "weights whose kernel resolves fewer modes (smaller |w|, faster-decaying "
                     "spectra): the gap λ_q − λ̂ is that posterior shift.")
        sizes = [(row["n"], row["posterior_mean_abs_w"]) for row in summary["rungs"]
                 if row.get("posterior_mean_abs_w") is not None]
        if sizes:
            lines.append("")
            lines.append("Measured posterior mean |w| of the inner weights: "
                         + ", ".join(f"{size:.3f} at n = {n:.3g}" for n, size in sizes) + ".")
    lines += cutoff_section(summary)
    lines += absent_section(summary)
    lines += ["", "Figures: `spectrum.png`, `learning_coefficient.png`, `free_energy.png`. "
              "Numbers: `summary.json`, `summary.csv`. Draws: `sampling/inference_data.nc`."]
    return "\n".join(lines) + "\n"


def _geometric_lines(summary: dict) -> list[str]:
    """The card's geometric values, for a report without an effective prediction."""
    if not summary["geometric"]:
        return []
    return ["", "## Geometric values", ""] + [
        f"- {value['label']}: λ = {value['learning_coefficient']:.4g}, "
        f"m = {value['multiplicity']} ({value['source']})." for value in summary["geometric"]]


def _diagnostics_section(summary: dict) -> list[str]:
    """The convergence and replica-exchange checks, before anything is interpreted."""
    lines = ["", "## Diagnostics", ""]
    if summary["diagnostics"]:
        lines += [f"- {message}" for message in summary["diagnostics"]]
    else:
        lines.append("All diagnostics passed (R-hat ≤ 1.01, bulk ESS ≥ 400, no divergences, "
                     "every swap pair accepting ≥ 10%).")
    lines += ["", "Swap acceptance per neighbour pair: "
              + ", ".join("n/a" if v is None else f"{v:.2f}"
                          for v in summary["swap_acceptance"]) + ".",
              f"Replica round trips per chain: {summary['round_trips']}."]
    barrier = summary.get("communication_barrier")
    if barrier is not None:
        rate = summary.get("round_trip_rate")
        lines += [
            f"Communication barrier Λ = Σ r_i = {barrier:.2f} (Syed et al. 2022): an "
            f"equalized ladder needs about 2Λ ≈ {max(2, round(2 * barrier))} rungs; this one "
            f"has {len(summary['rungs'])}. Round trips per chain per 1000 post-warmup steps: "
            + ("n/a." if rate is None else f"{1000 * rate:.2f}.")]
    return lines


def measurement_section(summary: dict) -> list[str]:
    """The report's table of measurements, for a model with no prediction to compare."""
    lines = ["", "## Measurement", "",
             "| n | λ̂ ± MCSE | F ± error (thermodynamic integration) |", "|---|---|---|"]
    for row in summary["rungs"]:
        lam, free = row["learning_coefficient"], row["free_energy"]
        lam_text = "" if lam is None else (
            f"{lam:.4g} ± {_number(row['learning_coefficient_mcse'], '.2g')}")
        free_text = "" if free is None else (
            f"{free:.4g} ± {_number(row['free_energy_err'], '.2g')}")
        lines.append(f"| {row['n']:.3g} | {lam_text} | {free_text} |")
    return lines


def absent_section(summary: dict) -> list[str]:
    """The report's list of predictions not made for this model, with the reason."""
    absent = summary.get("theory_absent") or []
    if not absent:
        return []
    lines = ["", "## Not computed for this model", ""]
    lines += [f"- {entry['name']} ({', '.join(f'`{c}`' for c in entry['columns'])}): "
              f"{entry['why']}." for entry in absent]
    return lines


def _number(value, form: str) -> str:
    return "n/a" if value is None or not math.isfinite(value) else format(value, form)


def cutoff_section(summary: dict) -> list[str]:
    """The report's section: λ̂_K beside λ̂, K*(n) and the kernel count, per rung."""
    cutoffs = summary.get("cutoffs")
    if not cutoffs:
        return []
    ks = sorted(cutoffs, key=int)
    lines = ["", "## What a mode cutoff predicts, measured", "",
             "λ̂_K(n): the same ladder sampled with the loss truncated to the first K modes "
             "that do not vanish identically (kept modes: "
             + "; ".join(f"K = {k}: {cutoffs[k]['kept_modes']}" for k in ks) + "). "
             "K*(n): the smallest K within 3 combined MCSE of λ̂(n) (at this run's "
             "resolution); kernel count: #{j : n μ_j > 1}.", "",
             "| n | λ̂ ± MCSE | " + " | ".join(f"λ̂_{k}" for k in ks) +
             " | K*(n) | kernel count |",
             "|---|---|" + "---|" * len(ks) + "---|---|"]
    for row in summary["rungs"]:
        if row["n"] == 0 or row["learning_coefficient"] is None:
            continue
        cells = [f"{row['n']:.3g}", f"{row['learning_coefficient']:.4g} ± "
                 f"{row['learning_coefficient_mcse']:.2g}"]
        for k in ks:
            value, error = row[f"cutoff_{k}_learning_coefficient"], row[f"cutoff_{k}_mcse"]
            cells.append("" if value is None else f"{value:.4g} ± {error:.2g}")
        k_star = row.get("k_star")
        cells.append(f"> {ks[-1]}" if k_star is None else str(k_star))
        count = row.get("kernel_mode_count")
        cells.append("" if count is None else str(count))
        lines.append("| " + " | ".join(cells) + " |")
    failing = [k for k in ks if cutoffs[k]["diagnostics"]]
    if failing:
        lines += ["", f"**Diagnostics failed for K = {', '.join(failing)}** (R-hat, ESS or "
                  "divergences; `cutoffs` in summary.json): those columns are not to be "
                  "trusted yet."]
    return lines
