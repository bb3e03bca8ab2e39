"""Rungs × chains split over several devices: same draws as on one device.

XLA fixes the number of host devices when it starts, so the two-device checks run in a
subprocess with `--xla_force_host_platform_device_count=2` (CPU devices standing in for
accelerators; the code path, a `Mesh` over chains, is the one used on GPUs).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import pytest

from efftheory.sampling._devices import chain_mesh

_CHILD = textwrap.dedent("""
    import sys, warnings
    sys.path.insert(0, {tests!r})
    warnings.simplefilter("ignore")
    import jax
    import numpy as np
    from test_sampling import SMALL, SMALL_LADDER, SMALL_RUN
    from efftheory.sampling import _devices, resume, sample

    assert len(jax.local_devices()) == 2, jax.local_devices()
    assert _devices.chain_mesh(None, 3) is None  # 3 chains do not split over 2 devices
    assert _devices.chain_mesh(None, 4).devices.size == 2
    run = dict(SMALL_RUN, chains=4)
    one = sample(SMALL, SMALL_LADDER, devices=1, **run)
    two = sample(SMALL, SMALL_LADDER, devices=None, **run)  # automatic: both devices
    again = sample(SMALL, SMALL_LADDER, devices=2, **run)
    np.testing.assert_array_equal(again.energy, two.energy)  # same devices: bit for bit

    class Interrupt(Exception):
        pass

    def interrupt(chunk_index):
        if chunk_index == 3:
            raise Interrupt

    try:
        sample(SMALL, SMALL_LADDER, devices=1, checkpoint_dir={folder!r},
               on_checkpoint=interrupt, **run)
    except Interrupt:
        pass
    resumed = resume({folder!r}, SMALL, progress=False, devices=2)

    # Not bit for bit: the partitioned program works on 2 chains per device instead of 4,
    # and XLA's CPU backend fuses and vectorizes (FMA contraction, vectorized exp/log) per
    # shape, so a few quantities (first NUTS's accept_prob) differ in the last ulp; step
    # size adaptation and trajectories carry those ulps along without amplifying them much
    # over a short run. Discrete outcomes (tree depths, swaps, divergences) agree exactly.
    exact = {{"diverging", "n_steps", "tree_depth", "replica", "swap_attempted",
              "swap_accepted"}}
    for other in (two, resumed):
        for group in ("posterior", "sample_stats"):
            for name, values in getattr(one.inference_data, group).items():
                got = getattr(other.inference_data, group)[name].values
                if name in exact:
                    np.testing.assert_array_equal(got, values.values, err_msg=name)
                else:
                    np.testing.assert_allclose(got, values.values, rtol=1e-9, atol=1e-11,
                                               err_msg=name)
        np.testing.assert_array_equal(other.round_trips, one.round_trips)
    np.testing.assert_allclose(two.learning_coefficient, one.learning_coefficient,
                               rtol=1e-9, atol=1e-12)
    print("OK")
""")


def test_two_devices_match_one(tmp_path):
    child = _CHILD.format(tests=str(Path(__file__).parent),
                          folder=str(tmp_path / "checkpoint"))
    env = {**os.environ, "CI": "1",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "JAX_PLATFORMS": "cpu"}
    completed = subprocess.run([sys.executable, "-c", child], env=env, timeout=600,
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().endswith("OK")


def test_device_choice_is_validated():
    assert chain_mesh(None, 1) is None  # one chain: nothing to split
    assert chain_mesh(1, 3) is None
    device = jax.local_devices()[0]
    with pytest.raises(ValueError, match="chains=3 cannot be split evenly over 2"):
        chain_mesh([device, device], 3)
    with pytest.raises(ValueError, match="devices=0"):
        chain_mesh(0, 4)
    with pytest.raises(TypeError, match="jax.Device"):
        chain_mesh(["gpu0"], 4)
