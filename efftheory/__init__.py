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

from . import sampling as sampling
from . import theory as theory
from .models import CardModel as CardModel
from .models import CollapsedCutoffNetworkModel as CollapsedCutoffNetworkModel
from .models import CollapsedNetworkModel as CollapsedNetworkModel
from .models import CutoffNetworkModel as CutoffNetworkModel
from .models import DeepLinearModel as DeepLinearModel
from .models import DeepLinearNetwork as DeepLinearNetwork
from .models import EmpiricalNetworkModel as EmpiricalNetworkModel
from .models import FreeFieldModel as FreeFieldModel
from .models import FunctionModel as FunctionModel
from .models import MinAbsModel as MinAbsModel
from .models import ModeAmplitudesUnavailable as ModeAmplitudesUnavailable
from .models import ModeCoordinateModel as ModeCoordinateModel
from .models import ModelCardError as ModelCardError
from .models import NetworkModel as NetworkModel
from .models import NetworkParameters as NetworkParameters
from .models import NonlinearTemperingError as NonlinearTemperingError
from .models import NormalCrossingModel as NormalCrossingModel
from .models import NumPyroModel as NumPyroModel
from .models import NumPyroModelError as NumPyroModelError
from .models import PartitionFunction as PartitionFunction
from .models import PolynomialMachine as PolynomialMachine
from .models import QuadratureChoice as QuadratureChoice
from .models import QuadratureError as QuadratureError
from .models import RegularModel as RegularModel
from .models import ScaleMixtureModel as ScaleMixtureModel
from .models import TargetNetwork as TargetNetwork
from .models import TwoLayerNetwork as TwoLayerNetwork
from .models import choose_num_nodes as choose_num_nodes
from .models import exact as exact
from .models import format_model_table as format_model_table
from .models import kept_modes as kept_modes
from .models import list_models as list_models
from .models import load_card as load_card
from .models import load_card_model as load_card_model
from .models import load_model as load_model
from .models import prior_mode_statistics as prior_mode_statistics
from .models import register_model as register_model
from .models import registered_models as registered_models
from .models import unregister_model as unregister_model
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
from .sampling._bayes_errors import BayesErrors as BayesErrors
from .sampling._bayes_errors import bayes_errors as bayes_errors
from .sampling._local import LocalizedModel as LocalizedModel
from .sampling._local import LocalLearningCoefficient as LocalLearningCoefficient
from .sampling._local import local_learning_coefficient as local_learning_coefficient
from .sampling._wbic import WBIC as WBIC
from .sampling._wbic import wbic as wbic
from .study import PRESETS as PRESETS
from .study import StudyConfig as StudyConfig
from .study import run_study as run_study
from .study import study_config as study_config
from .sweeps import SweepError as SweepError
from .sweeps import SweepResult as SweepResult
from .sweeps import read_sweep as read_sweep
from .sweeps import sweep as sweep

__version__ = "0.1.0"
