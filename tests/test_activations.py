import math

import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import scipy.special

import efftheory as et

REFERENCE = {
    "tanh": np.tanh,
    "sigmoid": scipy.special.expit,
    "softplus": lambda z: np.logaddexp(0.0, z),
    "erf": scipy.special.erf,
    "gelu": lambda z: z * scipy.special.ndtr(z),
    "relu": lambda z: np.maximum(z, 0.0),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_named_activations_match_reference_in_both_precisions(name):
    activation = et.get_activation(name)
    z = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(np.asarray(activation(jnp.asarray(z))), REFERENCE[name](z),
                               rtol=1e-13, atol=1e-15)
    with mpmath.workdps(30):
        values = [float(activation.mp_function(mpmath.mpf(float(v)))) for v in z]
    np.testing.assert_allclose(values, REFERENCE[name](z), rtol=1e-13, atol=1e-15)


def test_singularity_metadata():
    assert et.get_activation("tanh").singularity_distance == pytest.approx(math.pi / 2)
    assert et.get_activation("sigmoid").singularity_distance == pytest.approx(math.pi)
    assert et.get_activation("softplus").singularity_distance == pytest.approx(math.pi)
    assert et.get_activation("erf").singularity_distance == math.inf
    assert et.get_activation("gelu").analyticity == "entire"
    assert et.get_activation("relu").singularity_distance == 0.0
    # tanh really has a pole there: |tanh| blows up approaching i pi/2.
    assert abs(mpmath.tanh(mpmath.mpc(0, math.pi / 2 - 1e-8))) > 1e7


def test_user_callables_are_wrapped_without_claims():
    activation = et.get_activation(lambda z: z**3)
    assert activation.analyticity == "unknown"
    assert math.isnan(activation.singularity_distance)
    assert float(activation(jnp.asarray(2.0))) == 8.0


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match="unknown activation 'swish'.*tanh"):
        et.get_activation("swish")
    with pytest.raises(TypeError, match="activation must be"):
        et.get_activation(3.0)
