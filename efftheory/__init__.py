"""efftheory: Bayesian free energy and learning coefficients across n.

The effective mode theory of learning against singular learning theory's geometric
invariant, both computed and measured on the same model.
"""

import jax as _jax

# Free energies at n ~ 1e8 need every bit: efftheory is float64 throughout. This runs
# before any submodule creates an array.
_jax.config.update("jax_enable_x64", True)

from . import sampling as sampling
from . import theory as theory
from ._activations import Activation as Activation
from ._activations import get_activation as get_activation
from ._fit import DecayFit as DecayFit
from ._fit import fit_decay as fit_decay
from ._measures import CircleMeasure as CircleMeasure
from ._measures import GaussianMeasure as GaussianMeasure
from ._measures import InputMeasure as InputMeasure
from ._measures import Quadrature as Quadrature
from ._measures import UniformMeasure as UniformMeasure
from ._measures import get_measure as get_measure
from ._modes import coefficient_floor as coefficient_floor
from ._modes import mode_coefficients as mode_coefficients
from ._modes import predicted_decay as predicted_decay
from ._partition import PartitionFunction as PartitionFunction
from ._sweep import SweepError as SweepError
from ._sweep import SweepResult as SweepResult
from ._sweep import read_sweep as read_sweep
from ._sweep import sweep as sweep
from .sampling import SamplingResult as SamplingResult
from .sampling import SamplingWarning as SamplingWarning
from .sampling import geometric_ladder as geometric_ladder
from .sampling import resume as resume
from .sampling import sample as sample
from .sampling import sample_nuts as sample_nuts

__version__ = "0.1.0"
