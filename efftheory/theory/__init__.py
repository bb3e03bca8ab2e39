"""Theory side of efftheory: geometric RLCTs and effective mode-cutoff predictions.

Pure mathematics (exact rationals, numpy float64 and mpmath); never imports the samplers.
"""

from ._effective import LogPowerFit as LogPowerFit
from ._effective import MultiplicityFit as MultiplicityFit
from ._effective import crossover_n as crossover_n
from ._effective import fit_log_power as fit_log_power
from ._effective import fit_multiplicity as fit_multiplicity
from ._effective import free_free_energy as free_free_energy
from ._effective import free_learning_coefficient as free_learning_coefficient
from ._effective import staircase_learning_coefficient as staircase_learning_coefficient
from ._kernel import KernelEigenvalues as KernelEigenvalues
from ._kernel import kernel_eigenvalues as kernel_eigenvalues
from ._rlct import RLCT as RLCT
from ._rlct import asymptotic_free_energy as asymptotic_free_energy
from ._rlct import dln_rlct as dln_rlct
from ._rlct import normal_crossing_rlct as normal_crossing_rlct
from ._rlct import regular_rlct as regular_rlct
from ._rlct import rrr_rlct as rrr_rlct
from ._rlct import sum_rlct as sum_rlct
from ._rlct import tanh_zero_generic_stratum_rlct as tanh_zero_generic_stratum_rlct
from ._rlct import tanh_zero_rlct as tanh_zero_rlct
