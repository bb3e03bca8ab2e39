"""`SamplingResult`: draws, diagnostics and estimators of one run, frozen."""

import dataclasses
from pathlib import Path

import numpy as np

from .._io import atomic_destination, atomic_write_json
from ._arviz import az
from ._config import SamplerConfig
from ._diagnostics import ENERGY_DERIVATIVE
from ._provenance import PROVENANCE_KEYS

INFERENCE_DATA_FILE = "inference_data.nc"
SUMMARY_FILE = "summary.json"


@dataclasses.dataclass(frozen=True, eq=False)
class SamplingResult:
    r"""One run over a ladder: per-rung estimates with errors, and the InferenceData.

    Free energies are $F(n_k) - F(n_1)$, absolute when the first rung is $n_1 = 0$
    (`free_energy_is_absolute`). `free_energy_err` combines the propagated MCSE
    (`free_energy_mcse`) and the quadrature error estimate
    (`free_energy_discretization_err`); see `thermodynamic_integration`.

    `swap_rejection[i]` is the mean rejection probability $r_i$ of neighbour pair
    $(i, i+1)$ over post-warmup steps, `communication_barrier` $\Lambda = \sum_i r_i$
    (Syed et al. 2022), and `round_trip_rate` the completed bottom-top-bottom round trips
    per chain per post-warmup step (NaN without swaps). An equalized schedule with about
    $2\Lambda$ rungs is what non-reversible parallel tempering recommends.
    """

    config: SamplerConfig
    n_ladder: np.ndarray
    inference_data: az.InferenceData
    mean_energy: np.ndarray
    mean_energy_mcse: np.ndarray
    learning_coefficient: np.ndarray
    learning_coefficient_mcse: np.ndarray
    free_energy: np.ndarray
    free_energy_err: np.ndarray
    free_energy_mcse: np.ndarray
    free_energy_discretization_err: np.ndarray
    free_energy_stepping_stone: np.ndarray
    free_energy_stepping_stone_err: np.ndarray
    rhat: np.ndarray
    ess_bulk: np.ndarray
    divergences: np.ndarray
    swap_acceptance: np.ndarray
    round_trips: np.ndarray
    diagnostics: tuple[str, ...]
    swap_rejection: np.ndarray
    communication_barrier: float
    round_trip_rate: float

    @property
    def free_energy_is_absolute(self) -> bool:
        return bool(self.n_ladder[0] == 0.0)

    @property
    def energy(self) -> np.ndarray:
        r"""Draws of $\partial_n T_n$ ($L - L_0$ for linear models), shape (chain, draw, rung):
        the posterior variable `energy_derivative`."""
        return self.inference_data.posterior[ENERGY_DERIVATIVE].values

    @property
    def provenance(self) -> dict[str, str]:
        """efftheory, JAX, NumPyro and ArviZ versions, machine and `created_at` of the run."""
        attrs = self.inference_data.posterior.attrs
        return {key: str(attrs[key]) for key in PROVENANCE_KEYS if key in attrs}

    def summary(self) -> dict:
        """JSON-ready per-rung table plus run-level diagnostics."""
        def listed(values):
            return [None if not np.isfinite(v) else float(v) for v in np.asarray(values)]

        return {
            "config": dataclasses.asdict(self.config),
            "n_ladder": listed(self.n_ladder),
            "mean_energy": listed(self.mean_energy),
            "mean_energy_mcse": listed(self.mean_energy_mcse),
            "learning_coefficient": listed(self.learning_coefficient),
            "learning_coefficient_mcse": listed(self.learning_coefficient_mcse),
            "free_energy": listed(self.free_energy),
            "free_energy_err": listed(self.free_energy_err),
            "free_energy_mcse": listed(self.free_energy_mcse),
            "free_energy_discretization_err": listed(self.free_energy_discretization_err),
            "free_energy_stepping_stone": listed(self.free_energy_stepping_stone),
            "free_energy_stepping_stone_err": listed(self.free_energy_stepping_stone_err),
            "free_energy_is_absolute": self.free_energy_is_absolute,
            "rhat": listed(self.rhat),
            "ess_bulk": listed(self.ess_bulk),
            "divergences": [int(d) for d in self.divergences],
            "swap_acceptance": listed(self.swap_acceptance),
            "round_trips": [int(r) for r in self.round_trips],
            "swap_rejection": listed(self.swap_rejection),
            "communication_barrier": (float(self.communication_barrier)
                                      if np.isfinite(self.communication_barrier) else None),
            "round_trip_rate": (float(self.round_trip_rate)
                                if np.isfinite(self.round_trip_rate) else None),
            "diagnostics": list(self.diagnostics),
            "provenance": self.provenance,
        }

    def save(self, path: str | Path) -> Path:
        """Write `inference_data.nc` (netCDF via h5netcdf) and `summary.json` to a folder,
        each atomically."""
        folder = Path(path)
        with atomic_destination(folder / INFERENCE_DATA_FILE) as temporary:
            self.inference_data.to_netcdf(str(temporary), engine="h5netcdf")
        atomic_write_json(folder / SUMMARY_FILE, self.summary())
        return folder
