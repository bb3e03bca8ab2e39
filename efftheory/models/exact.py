"""Exact references for validating samplers: `free_energy(model, n)` and
`learning_coefficient(model, n)`, vectorized over an array of `n`.

Where no exact answer exists they raise `ExactReferenceUnavailable` with the reason.
See `efftheory.theory._exact` for the methods and their accuracy, and
`efftheory.models._exact_references` for which models have them.
"""

from ._exact_references import ExactReferenceUnavailable as ExactReferenceUnavailable
from ._exact_references import free_energy as free_energy
from ._exact_references import has_exact_reference as has_exact_reference
from ._exact_references import learning_coefficient as learning_coefficient

__all__ = ["ExactReferenceUnavailable", "free_energy", "has_exact_reference",
           "learning_coefficient"]
