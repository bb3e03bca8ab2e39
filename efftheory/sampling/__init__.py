"""Replica-exchange NUTS over inverse-temperature ladders, with estimators of the learning
coefficient and free energy, ArviZ diagnostics, and resumable checkpoints."""

from ._api import load as load
from ._api import resume as resume
from ._api import sample as sample
from ._api import sample_nuts as sample_nuts
from ._config import Ladder as Ladder
from ._config import SamplerConfig as SamplerConfig
from ._config import SamplerSettings as SamplerSettings
from ._config import geometric_ladder as geometric_ladder
from ._diagnostics import RungLabeller as RungLabeller
from ._diagnostics import SamplingWarning as SamplingWarning
from ._estimators import learning_coefficient as learning_coefficient
from ._estimators import stepping_stone as stepping_stone
from ._estimators import thermodynamic_integration as thermodynamic_integration
from ._persistence import RunFolderMismatchError as RunFolderMismatchError
from ._result import SamplingResult as SamplingResult
