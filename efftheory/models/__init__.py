r"""The models: partition functions $Z(n) = \int e^{-nL(w)}\varphi(w)\,dw$ of networks and
toy losses in their raw, collapsed, mode-coordinate and cutoff forms, the loss and its
quadrature, model cards and the registry of user models, and the exact references.
Imports the inputs (`efftheory.modes`), the theory and the base modules, never the samplers."""

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
from ._toy_models import MinAbsModel as MinAbsModel
from ._toy_models import NormalCrossingModel as NormalCrossingModel
from ._toy_models import PolynomialMachine as PolynomialMachine
from ._toy_models import RegularModel as RegularModel
