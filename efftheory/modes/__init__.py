"""The inputs of every model: input measures and their quadrature, activations, the mode
coefficients $c_k$ of an activation in a measure's orthonormal basis, and their spectra and
decay fits. Imports only the base modules (`efftheory._types`, `efftheory._io`, ...)."""

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
