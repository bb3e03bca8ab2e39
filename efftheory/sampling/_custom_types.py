"""Shape-annotated array aliases of the sampling engine (jaxtyping), kept in one place.

Axes: `rung` (ladder), `chain`, `draw`, `pair` (neighbouring rungs), `replica`.
"""

from typing import TypeAlias

import numpy as np
from jaxtyping import Array, Bool, Float, Int

RungVector: TypeAlias = Float[Array, " rung"]
RungChainFloat: TypeAlias = Float[Array, "rung chain"]
RungChainInt: TypeAlias = Int[Array, "rung chain"]
RungChainBool: TypeAlias = Bool[Array, "rung chain"]
RungChainPositions: TypeAlias = Float[Array, "rung chain num_params"]
PairChainFloat: TypeAlias = Float[Array, "pair chain"]
PairChainInt: TypeAlias = Int[Array, "pair chain"]
PairChainBool: TypeAlias = Bool[Array, "pair chain"]
ReplicaChainInt: TypeAlias = Int[Array, "replica chain"]
IntScalar: TypeAlias = Int[Array, ""]
BoolScalar: TypeAlias = Bool[Array, ""]
ChainDraws: TypeAlias = Float[np.ndarray, "chain draw"]
ChainDrawRung: TypeAlias = Float[np.ndarray, "chain draw rung"]
