"""Exact references for validating samplers: `free_energy(model, n)` and
`learning_coefficient(model, n)`, vectorized over an array of `n`.

Where no exact answer exists they raise `ExactReferenceUnavailable` with the reason.
See `efftheory.theory._exact` for the methods and their accuracy.
"""

from ._exact import ExactReferenceUnavailable as ExactReferenceUnavailable
from ._exact import free_energy as free_energy
from ._exact import has_exact_reference as has_exact_reference
from ._exact import learning_coefficient as learning_coefficient

__all__ = ["ExactReferenceUnavailable", "free_energy", "has_exact_reference",
           "learning_coefficient"]
