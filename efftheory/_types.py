"""Array type aliases used across efftheory (jaxtyping), kept in one place.

Axes of the sampling engine's arrays: `rung` (ladder), `chain`, `draw`, `pair`
(neighbouring rungs), `replica`.
"""

from typing import TypeAlias

import jax
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

Scalar: TypeAlias = Float[Array, ""]
ScalarLike: TypeAlias = float | Float[Array, ""] | Float[np.ndarray, ""]
Position: TypeAlias = Float[Array, " num_params"]
Key: TypeAlias = PRNGKeyArray

# The sampling engine.
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

__all__ = ["Array", "Bool", "BoolScalar", "ChainDrawRung", "ChainDraws", "Float", "Int",
           "IntScalar", "Key", "PairChainBool", "PairChainFloat", "PairChainInt", "Position",
           "ReplicaChainInt", "RungChainBool", "RungChainFloat", "RungChainInt",
           "RungChainPositions", "RungVector", "Scalar", "ScalarLike", "jax"]
