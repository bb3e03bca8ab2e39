"""Array type aliases used across efftheory (jaxtyping), kept in one place."""

from typing import TypeAlias

import jax
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

Scalar: TypeAlias = Float[Array, ""]
ScalarLike: TypeAlias = float | Float[Array, ""] | Float[np.ndarray, ""]
Position: TypeAlias = Float[Array, " num_params"]
Key: TypeAlias = PRNGKeyArray

__all__ = ["Array", "Float", "Int", "Key", "Position", "Scalar", "ScalarLike", "jax"]
