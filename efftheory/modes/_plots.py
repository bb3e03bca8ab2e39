"""Figures of a mode spectrum (`efftheory.modes._spectrum`); a study's are in `efftheory.study`."""

import math

import numpy as np

# Figures are built as `Figure` objects, outside pyplot's global state: efftheory never
# switches the caller's backend, and a notebook still displays the figures it returns.
from matplotlib.figure import Figure


def new_figure(figsize, rows: int = 1, columns: int = 1):
    figure = Figure(figsize=figsize, layout="constrained")
    return figure, figure.subplots(rows, columns)


def plot_spectrum(result):
    """Squared mode coefficients against k (left) and against sqrt(k) (right).

    Each sampled weight is a light line, their average bold; the dashed lines are the
    predicted laws, exp(-C sqrt k) (gaussian) or exp(-2 C k) (circle, uniform), with the
    predicted C of each weight and the amplitude matched at its last resolved mode.
    """
    k = np.arange(result.kmax + 1)
    gaussian = result.measure == "gaussian"
    figure, axes = new_figure((11, 4.2), 1, 2)
    for axis, abscissa, label in ((axes[0], k, "k"),
                                  (axes[1], np.sqrt(k) if gaussian else k.astype(float),
                                   r"$\sqrt{k}$" if gaussian else "k")):
        for row, entry in enumerate(result.fits):
            values = result.log10_squared[row]
            keep = np.isfinite(values)
            axis.plot(abscissa[keep], values[keep], color="tab:blue", alpha=0.35, lw=0.9)
            constant = entry["predicted"]["constant"]
            if constant is not None and entry["fit"] is not None and keep.any():
                # Anchor at the last resolved mode, where the asymptotic law applies.
                last = np.flatnonzero(keep)[-1]
                rate = (constant * np.sqrt(k) if gaussian else 2 * constant * k) / math.log(10)
                shifted = values[last] + rate[last] - rate
                start = max(1, last // 3)
                axis.plot(abscissa[start:last + 1], shifted[start:last + 1], color="gray",
                          ls="--", lw=0.7, alpha=0.7)
        average = result.average_log10_squared
        keep = np.isfinite(average)
        axis.plot(abscissa[keep], average[keep], color="tab:red", lw=2.2,
                  label=r"average over $w$")
        axis.set_xlabel(label)
        axis.set_ylabel(r"$\log_{10} c_k^2$")
        axis.grid(alpha=0.3)
    axes[0].plot([], [], color="tab:blue", alpha=0.5, label="one sampled $w$")
    axes[0].plot([], [], color="gray", ls="--", label="predicted law")
    axes[0].legend(loc="lower left", fontsize=8)
    law = r"$e^{-C\sqrt{k}}$, $C = 2\,\mathrm{Im}\,\zeta/|w|$" if gaussian else r"$e^{-2Ck}$"
    figure.suptitle(f"{result.activation} modes under the {result.measure} measure; "
                    f"predicted {law}", fontsize=10)
    return figure
