"""A study's figures: the kernel spectrum, λ̂(n) and F(n) against the predictions."""

import math

import numpy as np

from ..modes._plots import new_figure


def _measurement_figure(summary, key: str, error_key: str, label: str):
    """A figure with one measured quantity per rung (n > 0) as error bars against log n.

    Returns the figure, its axis, the rungs' n, values and errors, and a fine n grid for
    the prediction curves drawn over them.
    """
    rows = [row for row in summary["rungs"] if row["n"] > 0 and row[key] is not None]
    n = np.array([row["n"] for row in rows])
    values = np.array([row[key] for row in rows])
    errors = np.array([row[error_key] or 0.0 for row in rows])
    figure, axis = new_figure((7.2, 4.6))
    axis.errorbar(np.log(n), values, yerr=errors, fmt="o", ms=4, color="black", capsize=2,
                  label=label, zorder=5)
    return figure, axis, rows, n, values, errors, np.geomspace(n.min(), n.max(), 400)


def plot_study_spectrum(summary):
    r"""Kernel eigenvalues $\mu_j$ against $j$, with the resolution thresholds $1/n$ of the
    ladder: a mode counts once $n\mu_j > 1$."""
    figure, axis = new_figure((6.4, 4.2))
    eigenvalues = summary.get("kernel_eigenvalues")
    if eigenvalues:
        values = np.asarray(eigenvalues)
        index = np.arange(1, values.size + 1)
        axis.semilogy(index, values, "o-", ms=3, color="tab:blue",
                      label=r"$\mu_j$, eigenvalues of $\Sigma$")
        ladder = summary["config"]["ladder"]
        for n, style in ((ladder["n_min"], ":"), (ladder["n_max"], "--")):
            axis.axhline(1.0 / n, color="tab:red", ls=style, lw=1,
                         label=rf"$1/n$, $n = {n:.3g}$")
        if summary.get("rank_cap"):
            axis.axvline(summary["rank_cap"], color="gray", lw=1,
                         label=f"rank cap H = {summary['rank_cap']}")
        axis.legend(fontsize=8)
    else:
        axis.text(0.5, 0.5, "no mode spectrum for this model", ha="center",
                  transform=axis.transAxes)
    axis.set_xlabel("j")
    axis.set_ylabel(r"$\mu_j$")
    axis.set_title(f"Prior mode spectrum: {summary['config']['card']}", fontsize=10)
    axis.grid(alpha=0.3)
    return figure


def plot_learning_coefficient(summary):
    r"""$\hat\lambda(n)$ with MCSE bars against $\log n$, the effective prediction (smooth
    and staircase), the $(\log n)^p$ fit and the geometric values."""
    from ..theory import free_learning_coefficient, staircase_learning_coefficient

    figure, axis, rows, n, lam, err, grid = _measurement_figure(
        summary, "learning_coefficient", "learning_coefficient_mcse",
        r"measured $\hat\lambda(n)$ ± MCSE")
    eigenvalues = summary.get("kernel_eigenvalues")
    if eigenvalues:
        cap = summary.get("rank_cap")
        axis.plot(np.log(grid), free_learning_coefficient(grid, eigenvalues, rank_cap=cap),
                  color="tab:blue", label=r"effective $\lambda_{eff}(n)$ (free theory)")
        axis.step(np.log(grid), staircase_learning_coefficient(grid, eigenvalues, rank_cap=cap),
                  where="post", color="tab:blue", alpha=0.4, lw=1,
                  label=r"staircase $\frac{1}{2}\#\{j: n\mu_j > 1\}$")
    quenched = [row.get("quenched_prior_average") for row in rows]
    if all(value is not None for value in quenched):
        axis.plot(np.log(n), quenched, "s--", ms=3, lw=1, color="tab:cyan",
                  label=r"quenched prior average $\lambda_q(n)$")
    power = summary["fits"].get("log_power")
    if power:
        fitted = power["amplitude"] * np.log(grid) ** power["exponent"]
        axis.plot(np.log(grid), fitted, color="tab:orange", ls="--",
                  label=rf"fit $\alpha(\log n)^p$, $p = {power['exponent']:.2f} \pm "
                        rf"{power['exponent_standard_error']:.1g}$"
                        + (f" (reduced $\\chi^2$ = {power['reduced_chi_squared']:.3g})"
                           if power["reduced_chi_squared"] > 3 else ""))
    colors = iter(["tab:red", "tab:purple", "tab:green", "tab:brown"])
    for value in summary["geometric"]:
        axis.axhline(value["learning_coefficient"], color=next(colors), ls=":", lw=1.2,
                     label=f"{value['label']}: λ = {value['learning_coefficient']:.4g}")
    axis.set_xlabel(r"$\log n$")
    axis.set_ylabel(r"$\lambda(n) = dF/d\log n$")
    top = max(lam.max() + err.max(), 1.0) * 1.6
    axis.set_ylim(bottom=0, top=top)
    axis.legend(fontsize=7.5, loc="upper left")
    axis.grid(alpha=0.3)
    axis.set_title(f"Learning coefficient across n: {summary['config']['card']}", fontsize=10)
    return figure


def plot_free_energy(summary):
    r"""$F(n)$ by thermodynamic integration against $\log n$, the law integrated from the
    $(\log n)^p$ fit, the free theory's $F_{eff}$, and the geometric asymptotes
    $\lambda\log n - (m-1)\log\log n + c$ (c matched at the top rung)."""
    from ..theory import asymptotic_free_energy, free_free_energy

    figure, axis, _, n, free, _, grid = _measurement_figure(
        summary, "free_energy", "free_energy_err", r"$F(n)$, thermodynamic integration")
    eigenvalues = summary.get("kernel_eigenvalues")
    if eigenvalues:
        axis.plot(np.log(grid), free_free_energy(grid, eigenvalues,
                                                 rank_cap=summary.get("rank_cap")),
                  color="tab:blue", label=r"effective $F_{eff}(n)$ (free theory)")
    power = summary["fits"].get("log_power")
    if power:
        reference = np.argmax(n >= summary["fits"]["n_range"][0])
        exponent = power["exponent"] + 1
        law = free[reference] + power["amplitude"] / exponent * (
            np.log(grid) ** exponent - np.log(n[reference]) ** exponent)
        shown = grid >= n[reference]
        axis.plot(np.log(grid[shown]), law[shown], color="tab:orange", ls="--",
                  label=rf"fitted law $\propto(\log n)^{{{exponent:.2f}}}$")
    colors = iter(["tab:red", "tab:purple", "tab:green", "tab:brown"])
    large = grid > math.e
    for value in summary["geometric"]:
        shape = asymptotic_free_energy(grid[large], value["learning_coefficient"],
                                       value["multiplicity"])
        offset = free[-1] - float(asymptotic_free_energy(n[-1], value["learning_coefficient"],
                                                         value["multiplicity"]))
        axis.plot(np.log(grid[large]), shape + offset, color=next(colors), ls=":",
                  label=f"geometric asymptote, {value['label']}")
    # Asymptotes matched at the top rung can fall far below the data at small n: keep the
    # axis on the measurement (and the effective curve), not on the asymptotes.
    span = max(free.max() - min(free.min(), 0.0), 1.0)
    axis.set_ylim(min(free.min(), 0.0) - 0.15 * span, free.max() + 0.35 * span)
    axis.set_xlabel(r"$\log n$")
    axis.set_ylabel(r"$F(n)$")
    axis.legend(fontsize=7.5, loc="upper left")
    axis.grid(alpha=0.3)
    axis.set_title(f"Free energy across n: {summary['config']['card']}", fontsize=10)
    return figure
