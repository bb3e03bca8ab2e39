r"""The prior mode kernel of a study's model: its eigenvalues $\mu_j$ (in float64, or in
arbitrary precision where the ladder resolves eigenvalues below the float64 floor) and the
crossovers $n^*$ at which the effective prediction reaches each geometric value."""

import math

import mpmath
import numpy as np


def two_layer_network_of(model):
    """The model's two-layer network, or None (deep linear and toy models have none)."""
    from ..models._networks import TwoLayerNetwork

    network = getattr(model, "network", None)
    return network if isinstance(network, TwoLayerNetwork) else None


def prior_kernel_eigenvalues(model, kmax: int | None):
    """Eigenvalues of the prior mode covariance (descending), the rank cap H, and the
    float64 floor below which eigenvalues were dropped (None if none were)."""
    from ..models._mode_models import DEFAULT_EIGENVALUE_FLOOR, prior_mode_statistics

    network = two_layer_network_of(model)
    if network is None:  # the mode spectrum is a two-layer network's: no theory columns
        return None, None, None
    if kmax is None:
        kmax = max(4 * network.width + 1, 41)
    statistics = prior_mode_statistics(network, kmax)
    eigenvalues = np.sort(np.asarray(statistics.eigenvalues, dtype=np.float64))[::-1]
    floor = (DEFAULT_EIGENVALUE_FLOOR * eigenvalues[0]) if statistics.num_dropped else None
    return eigenvalues, network.width, floor


def spectrum_for_ladder(model, eigenvalues, floor, rank_cap, n_max: float):
    """The float64 spectrum, or the arbitrary-precision one (`precise_kernel_eigenvalues`) where
    the ladder's top rung resolves eigenvalues below the float64 floor (n_max * floor >
    1e-3): there the float64 spectrum would stop λ_eff from growing. Returns the spectrum,
    its floor (None once the rank cap's worth of eigenvalues is known) and its source
    ("float64" or "arbitrary precision")."""
    if eigenvalues is None or floor is None or n_max * floor <= 1e-3:
        return eigenvalues, floor, "float64"
    needed = rank_cap if rank_cap is not None else 2 * len(eigenvalues)
    precise = precise_kernel_eigenvalues(model, needed)
    if precise is None or len(precise) <= len(eigenvalues):
        return eigenvalues, floor, "float64"
    values = np.sort(np.asarray([float(value) for value in precise]))[::-1]
    floor = None if rank_cap is not None and len(values) >= rank_cap else values[-1]
    return values, floor, "arbitrary precision"



def precise_kernel_eigenvalues(model, needed: int):
    """The model's kernel eigenvalues in arbitrary precision (`efftheory.theory.
    kernel_eigenvalues`), or None where that computation does not apply."""
    from ..modes._measures import GaussianMeasure
    from ..theory import kernel_eigenvalues

    network = two_layer_network_of(model)
    if (network is None or not isinstance(network.measure, GaussianMeasure)
            or network.input_dim != 1 or network.bias
            or network.activation.name not in ("tanh", "erf")):
        return None
    # 70 digits resolve about 90 eigenvalues, 90 digits about 130 (tanh, s_w = 1): raise the
    # precision only while too few are resolved (each step costs about 3x the last).
    for precision in _PRECISIONS:
        spectrum = kernel_eigenvalues(network.width, activation=network.activation.name,
                                      readout_variance=float(network.readout_variance),
                                      weight_scale=float(network.weight_scale),
                                      precision=precision)
        if spectrum.num_resolved >= needed:
            break
    return spectrum.resolved()


_PRECISIONS = (70, 90, 120)


def effective_crossovers(eigenvalues, rank_cap, geometric, eigenvalue_floor=None,
                         precise=None) -> list[dict]:
    """n* at which the effective prediction reaches each geometric value.

    Eigenvalues below the float64 floor (`eigenvalue_floor`) are not known in float64. A
    value that needs them is computed from `precise(count)` (arbitrary-precision eigenvalues,
    `efftheory.theory.kernel_eigenvalues`) when it returns enough of them; otherwise it is
    reached, if at all, only beyond n = 1/floor and is reported as a lower bound.
    """
    from ..theory import crossover_n

    if eigenvalues is None:
        return []
    out, precise_values = [], None
    most_needed = min(max((math.ceil(2 * value.learning_coefficient) for value in geometric),
                          default=0), rank_cap or 0)
    for value in geometric:
        entry = {"label": value.label, "learning_coefficient": value.learning_coefficient}
        needed = math.ceil(2 * value.learning_coefficient)
        spectrum = eigenvalues
        unresolved = (eigenvalue_floor is not None and rank_cap is not None
                      and needed > len(eigenvalues) and len(eigenvalues) < rank_cap)
        if unresolved and precise is not None:
            if precise_values is None:
                precise_values = precise(most_needed) or []
            if len(precise_values) >= min(needed, rank_cap):
                spectrum, unresolved = precise_values, False
                entry["eigenvalues"] = (f"arbitrary precision ({len(precise_values)} "
                                        "resolved; efftheory.theory.kernel_eigenvalues)")
        if unresolved:
            bound = 1.0 / eigenvalue_floor
            entry["n_star_lower_bound"] = bound
            entry["log10_n_star_lower_bound"] = math.log10(bound)
            entry["why_lower_bound"] = (
                f"λ = {value.learning_coefficient:g} needs {needed} resolved modes, but only "
                f"{len(eigenvalues)} kernel eigenvalues lie above the "
                f"float64 floor {eigenvalue_floor:.3g} (1e-13 of the largest): each further mode "
                f"counts only for n > {bound:.3g}")
            out.append(entry)
            continue
        for form in ("smooth", "staircase"):
            try:
                crossing = crossover_n(spectrum, value.learning_coefficient,
                                       rank_cap=rank_cap, form=form)
                entry[f"n_star_{form}"] = float(crossing) if crossing < mpmath.mpf(
                    "1e300") else mpmath.nstr(crossing, 6)
                entry[f"log10_n_star_{form}"] = float(mpmath.log10(crossing))
            except ValueError as error:
                entry[f"n_star_{form}"] = None
                entry[f"why_no_n_star_{form}"] = str(error)
        out.append(entry)
    return out

