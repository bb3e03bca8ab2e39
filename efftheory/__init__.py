"""efftheory: Bayesian free energy and learning coefficients across n.

The effective mode theory of learning against singular learning theory's geometric
invariant, both computed and measured on the same model.
"""

import jax as _jax

# Free energies at n ~ 1e8 need every bit: efftheory is float64 throughout. This runs
# before any submodule creates an array.
_jax.config.update("jax_enable_x64", True)

import warnings as _warnings  # noqa: E402

with _warnings.catch_warnings():
    # NumPyro imports tqdm.auto, which in a Jupyter kernel without ipywidgets warns
    # "IProgress not found" and falls back to a text bar. efftheory's progress works with
    # either bar, so the warning says nothing to its users; this is its first import.
    _warnings.filterwarnings("ignore", message="IProgress not found")
    import tqdm.auto as _tqdm_auto  # noqa: E402, F401

from . import _exact_references as exact  # noqa: F401 (the namespace efftheory.exact)
from . import sampling as sampling
from . import theory as theory
from ._bayes_errors import BayesErrors as BayesErrors
from ._bayes_errors import bayes_errors as bayes_errors
from ._card_model import CardModel as CardModel
from ._card_schema import ModelCardError as ModelCardError
from ._cards import format_model_table as format_model_table
from ._cards import list_models as list_models
from ._cards import load_card as load_card
from ._cards import load_card_model as load_card_model
from ._cards import load_model as load_model
from ._cutoff_models import CollapsedCutoffNetworkModel as CollapsedCutoffNetworkModel
from ._cutoff_models import CutoffNetworkModel as CutoffNetworkModel
from ._cutoff_models import kept_modes as kept_modes
from ._empirical import EmpiricalNetworkModel as EmpiricalNetworkModel
from ._energies import TargetNetwork as TargetNetwork
from ._function_model import FunctionModel as FunctionModel
from ._local import LocalizedModel as LocalizedModel
from ._local import LocalLearningCoefficient as LocalLearningCoefficient
from ._local import local_learning_coefficient as local_learning_coefficient
from ._mode_coordinates import ModeCoordinateModel as ModeCoordinateModel
from ._mode_models import FreeFieldModel as FreeFieldModel
from ._mode_models import ScaleMixtureModel as ScaleMixtureModel
from ._mode_models import prior_mode_statistics as prior_mode_statistics
from ._models import CollapsedNetworkModel as CollapsedNetworkModel
from ._models import DeepLinearModel as DeepLinearModel
from ._models import ModeAmplitudesUnavailable as ModeAmplitudesUnavailable
from ._models import NetworkModel as NetworkModel
from ._models import NonlinearTemperingError as NonlinearTemperingError
from ._networks import DeepLinearNetwork as DeepLinearNetwork
from ._networks import NetworkParameters as NetworkParameters
from ._networks import TwoLayerNetwork as TwoLayerNetwork
from ._numpyro_model import NumPyroModel as NumPyroModel
from ._numpyro_model import NumPyroModelError as NumPyroModelError
from ._partition import PartitionFunction as PartitionFunction
from ._quadrature_choice import QuadratureChoice as QuadratureChoice
from ._quadrature_choice import QuadratureError as QuadratureError
from ._quadrature_choice import choose_num_nodes as choose_num_nodes
from ._registry import register_model as register_model
from ._registry import registered_models as registered_models
from ._registry import unregister_model as unregister_model
from ._sweep import SweepError as SweepError
from ._sweep import SweepResult as SweepResult
from ._sweep import read_sweep as read_sweep
from ._sweep import sweep as sweep
from ._toy_models import MinAbsModel as MinAbsModel
from ._toy_models import NormalCrossingModel as NormalCrossingModel
from ._toy_models import PolynomialMachine as PolynomialMachine
from ._toy_models import RegularModel as RegularModel
from ._wbic import WBIC as WBIC
from ._wbic import wbic as wbic
from .modes import Activation as Activation
from .modes import CircleMeasure as CircleMeasure
from .modes import DecayFit as DecayFit
from .modes import GaussianMeasure as GaussianMeasure
from .modes import InputMeasure as InputMeasure
from .modes import Quadrature as Quadrature
from .modes import UniformMeasure as UniformMeasure
from .modes import coefficient_floor as coefficient_floor
from .modes import fit_decay as fit_decay
from .modes import get_activation as get_activation
from .modes import get_measure as get_measure
from .modes import mode_coefficients as mode_coefficients
from .modes import predicted_decay as predicted_decay
from .sampling import Ladder as Ladder
from .sampling import SamplerSettings as SamplerSettings
from .sampling import SamplingResult as SamplingResult
from .sampling import SamplingWarning as SamplingWarning
from .sampling import geometric_ladder as geometric_ladder
from .sampling import resume as resume
from .sampling import sample as sample
from .sampling import sample_nuts as sample_nuts
from .study import PRESETS as PRESETS
from .study import StudyConfig as StudyConfig
from .study import run_study as run_study
from .study import study_config as study_config

__version__ = "0.1.0"
