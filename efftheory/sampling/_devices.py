r"""Spreading rungs × chains over several accelerators: a one-axis `Mesh` over chains.

Every leaf of the tempering state has leading axes (rung, chain) (or (pair, chain)), and
replica exchange only ever moves positions along the rung axis *within* a chain, so splitting
the chain axis across devices keeps each device's chains whole: NUTS steps and neighbour
swaps run locally, and only the tiny round-trip bookkeeping (integer gathers over chains)
crosses devices. The state is pinned to `NamedSharding(mesh, P(None, "chain"))` inside the
jitted kernels with `jax.lax.with_sharding_constraint`; XLA's SPMD partitioner does the rest,
so the same code runs on one CPU, one GPU or eight.

Devices come from the default backend (`jax.local_devices()`), never a named platform.
"""

import os
import platform
from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

CHAIN_AXIS = "chain"

# What `sample(..., devices=...)` accepts: None (automatic), a count, or explicit devices.
DeviceSpec = None | int | Sequence[jax.Device]


def chain_mesh(devices: DeviceSpec, num_chains: int) -> Mesh | None:
    """The mesh that splits `num_chains` chains over `devices`, or None for one device.

    - `None`: the most local devices of the default backend that divide `num_chains`
      (all of them when `num_chains` is a multiple of the device count; one device, and
      no mesh, when only one is present).
    - an `int` k: the first k local devices; `num_chains` must be a multiple of k.
    - a sequence of `jax.Device`: exactly those; `num_chains` must be a multiple of its
      length.
    """
    if devices is None:
        available = jax.local_devices()
        count = max(k for k in range(1, len(available) + 1) if num_chains % k == 0)
        chosen = available[:count]
    elif isinstance(devices, int | np.integer) and not isinstance(devices, bool):
        available = jax.local_devices()
        if not 1 <= devices <= len(available):
            raise ValueError(f"devices={devices} but {len(available)} local device(s) are "
                             f"present ({available[0].platform}); use 1..{len(available)} "
                             "or devices=None.")
        chosen = available[:int(devices)]
    else:
        chosen = list(devices)
        if not chosen or not all(isinstance(d, jax.Device) for d in chosen):
            raise TypeError(f"devices must be None, an int or a sequence of jax.Device, got "
                            f"{devices!r}.")
    if num_chains % len(chosen):
        raise ValueError(f"chains={num_chains} cannot be split evenly over {len(chosen)} "
                         f"devices; use chains a multiple of {len(chosen)} or fewer devices.")
    if len(chosen) == 1:
        return None
    return Mesh(np.asarray(chosen), (CHAIN_AXIS,))


def constrain_chains(tree, mesh: Mesh | None, chain_axis: int = 1):
    """Inside jit: shard every leaf of `tree` with a chain axis along `chain_axis` over the
    mesh, replicate the rest (the ladder, step counters). A no-op without a mesh."""
    if mesh is None:
        return tree
    split = NamedSharding(mesh, PartitionSpec(*(None,) * chain_axis, CHAIN_AXIS))
    whole = NamedSharding(mesh, PartitionSpec())

    def constrain(leaf):
        return jax.lax.with_sharding_constraint(
            leaf, split if leaf.ndim > chain_axis else whole)

    return jax.tree_util.tree_map(constrain, tree)


def describe_machine() -> str:
    """The machine a run used, in words, for reports: CPU cores and JAX's default devices."""
    devices = jax.local_devices()
    kinds = sorted({f"{d.platform} ({d.device_kind})" for d in devices})
    return (f"{os.cpu_count()}-core {platform.machine()} CPU; JAX {jax.__version__} on "
            f"{len(devices)} × {', '.join(kinds)}")
