r"""Replica-exchange NUTS over a ladder of inverse temperatures, one compile for all rungs.

Every rung $n_r$ and chain $c$ holds a NumPyro `HMCState` for the tempered potential
$U_n(\theta) = n(L(\theta) - L_0) - \log\varphi(\theta)$; the kernels are vmapped over
rungs × chains with $n$ a traced `model_args` entry, so changing the ladder never recompiles.
After warmup (per-rung step size and mass matrix adaptation, NumPyro's windowed scheme),
every `swap_every` steps neighbouring rungs $(r, r+1)$ of the same chain propose to exchange
positions, pairs of alternating parity (deterministic even-odd scheme: Lingenheil et al.
2009, *Efficiency of exchange schemes in replica exchange*, Chem. Phys. Lett. 478, 80;
Syed et al. 2022, *Non-reversible parallel tempering*, JRSS B 84, 321), accepted with

$$\alpha = \min\{1, \exp[(n_r - n_{r+1})(E_r - E_{r+1})]\}, \qquad E = L - L_0$$

(the prior factors cancel). For a model that is not linear in $n$ (see
`PartitionFunction.linear_in_inverse_temperature`) the general rule
$\alpha = \min\{1, \exp[T_{n_r}(\theta_r) + T_{n_{r+1}}(\theta_{r+1})
- T_{n_r}(\theta_{r+1}) - T_{n_{r+1}}(\theta_r)]\}$ is used, with $T_n$ the tempered energy.
Only positions move: each rung keeps its adapted step size and mass matrix, and its
potential energy and gradient are recomputed at the arriving position. The recorded
"energy" is $\partial_n T_n$ at the rung's $n$ ($= L - L_0$ for linear models).
"""

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.sharding import Mesh
from numpyro.infer.hmc import HMCState, hmc

from .._types import (
    BoolScalar,
    IntScalar,
    Key,
    PairChainBool,
    PairChainFloat,
    PairChainInt,
    ReplicaChainInt,
    RungChainBool,
    RungChainFloat,
    RungChainInt,
    RungChainPositions,
    RungVector,
)
from ..models._partition import PartitionFunction
from ._devices import constrain_chains

# Round-trip bookkeeping: the end of the ladder a replica visited last.
_UNLABELLED, _CAME_FROM_BOTTOM, _CAME_FROM_TOP = 0, 1, 2


class KernelSettings(NamedTuple):
    """The static (hashable) part of the configuration that shapes the compiled kernels."""

    num_warmup: int
    max_tree_depth: int
    target_accept_prob: float
    dense_mass: bool
    swaps_enabled: bool
    swap_every: int
    store_positions: bool


class TemperingState(NamedTuple):
    """Sampler state; leading axes (rung, chain) unless named otherwise."""

    hmc: HMCState
    inverse_temperature: RungVector
    replica: RungChainInt  # which replica occupies each rung
    replica_last_end: ReplicaChainInt  # 0 none, 1 bottom, 2 top
    round_trips: ReplicaChainInt
    swap_attempts: PairChainInt
    swap_accepts: PairChainInt
    sampling_step: IntScalar  # post-warmup steps taken


class StepRecord(NamedTuple):
    """What one step reports, per rung and chain (positions only if stored)."""

    energy: RungChainFloat
    position: RungChainPositions | None
    potential_energy: RungChainFloat
    hamiltonian: RungChainFloat  # NUTS total energy U_n + kinetic; ArviZ's `energy` stat
    diverging: RungChainBool
    num_steps: RungChainInt
    step_size: RungChainFloat
    accept_prob: RungChainFloat
    replica: RungChainInt
    swap_accept_prob: PairChainFloat
    swap_attempted: PairChainBool
    swap_accepted: PairChainBool


def _nuts_kernels(model: PartitionFunction, settings: KernelSettings):
    """NumPyro's functional NUTS for `model`, with `n` the only model argument."""

    def potential_fn_gen(inverse_temperature):
        return lambda position: model.potential_energy(position, inverse_temperature)

    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_fn_gen, algo="NUTS")

    def init_one(position, inverse_temperature, key):
        return init_kernel(
            position,
            settings.num_warmup,
            dense_mass=settings.dense_mass,
            target_accept_prob=settings.target_accept_prob,
            max_tree_depth=settings.max_tree_depth,
            model_args=(inverse_temperature,),
            rng_key=key,
        )

    # `sample_kernel` reads the warmup schedule that `init_kernel` stores in its closure;
    # tracing `init_kernel` abstractly sets it without computing anything.
    jax.eval_shape(
        init_one,
        jax.ShapeDtypeStruct((model.num_params,), jnp.float64),
        jax.ShapeDtypeStruct((), jnp.float64),
        jax.ShapeDtypeStruct((2,), jnp.uint32),
    )

    def sample_one(state, inverse_temperature):
        return sample_kernel(state, model_args=(inverse_temperature,))

    return init_one, sample_one


def _over_rungs_and_chains(fn, per_rung_args: int = 1):
    """vmap `fn(per_chain..., n)` over chains (n shared), then rungs (n per rung)."""
    over_chains = jax.vmap(fn, in_axes=(0,) * per_rung_args + (None,))
    return jax.vmap(over_chains, in_axes=(0,) * per_rung_args + (0,))


def _potential_and_gradient(model, positions, inverse_temperature):
    def one(position, n):
        return jax.value_and_grad(model.potential_energy)(position, n)

    return _over_rungs_and_chains(one)(positions, inverse_temperature)


def _energies(model, positions, inverse_temperature):
    r"""$\partial_n T_n$ at every rung × chain (the energy $L - L_0$ for linear models)."""
    return _over_rungs_and_chains(model.energy_derivative)(positions, inverse_temperature)


def _swap_log_ratio(model, positions, inverse_temperature, energies):
    """Log acceptance ratio of every neighbour pair (r, r + 1), shape (pair, chain)."""
    n = inverse_temperature
    if model.linear_in_inverse_temperature:
        return (n[:-1] - n[1:])[:, None] * (energies[:-1] - energies[1:])
    tempered = _over_rungs_and_chains(model.tempered_energy)
    own = tempered(positions, n)
    upper_at_lower = tempered(positions[1:], n[:-1])
    lower_at_upper = tempered(positions[:-1], n[1:])
    return own[:-1] + own[1:] - upper_at_lower - lower_at_upper


@eqx.filter_jit
def initialize(
    model: PartitionFunction,
    settings: KernelSettings,
    inverse_temperature: RungVector,
    num_chains: int,
    key: Key,
    mesh: Mesh | None = None,
) -> tuple[TemperingState, RungChainFloat, RungChainFloat]:
    """Prior draws for every rung × chain, NUTS states on them, and their E and U_n.

    With a `mesh` (see `_devices.chain_mesh`) the state comes out split over chains.
    """
    num_rungs = inverse_temperature.shape[0]
    prior_key, nuts_key = jax.random.split(key)
    prior_keys = jax.random.split(prior_key, num_rungs * num_chains)
    positions = jax.vmap(model.sample_prior)(prior_keys)
    positions = positions.reshape(num_rungs, num_chains, model.num_params)
    nuts_keys = jax.random.split(nuts_key, num_rungs * num_chains).reshape(
        num_rungs, num_chains, 2)
    init_one, _ = _nuts_kernels(model, settings)
    hmc_state = jax.vmap(jax.vmap(init_one, in_axes=(0, None, 0)), in_axes=(0, 0, 0))(
        positions, inverse_temperature, nuts_keys)
    replica = jnp.broadcast_to(jnp.arange(num_rungs)[:, None], (num_rungs, num_chains))
    zeros_pairs = jnp.zeros((max(num_rungs - 1, 0), num_chains), dtype=jnp.int64)
    state = TemperingState(
        hmc=hmc_state,
        inverse_temperature=inverse_temperature,
        replica=replica,
        replica_last_end=jnp.zeros((num_rungs, num_chains), dtype=jnp.int64),
        round_trips=jnp.zeros((num_rungs, num_chains), dtype=jnp.int64),
        swap_attempts=zeros_pairs,
        swap_accepts=zeros_pairs,
        sampling_step=jnp.array(0, dtype=jnp.int64),
    )
    state = constrain_chains(state, mesh)
    return (state, _energies(model, positions, inverse_temperature),
            hmc_state.potential_energy)


def _swap_positions(model, settings, state, hmc_state, energies, sampling, key):
    """One even-odd round of neighbour exchanges (a no-op when none is due or accepted)."""
    n = state.inverse_temperature
    num_rungs, num_chains = energies.shape
    log_ratio = _swap_log_ratio(model, hmc_state.z, n, energies)
    accept_prob = jnp.exp(jnp.minimum(log_ratio, 0.0))
    due = sampling & (state.sampling_step % settings.swap_every == 0)
    round_index = state.sampling_step // settings.swap_every
    pair = jnp.arange(num_rungs - 1)[:, None]
    attempted = due & (pair % 2 == round_index % 2) & jnp.ones((1, num_chains), dtype=bool)
    uniform = jax.random.uniform(key, (num_rungs - 1, num_chains), dtype=jnp.float64)
    accepted = attempted & (jnp.log(uniform) < log_ratio)
    # Active pairs are disjoint, so "up" and "down" moves compose into a permutation.
    moves_up = jnp.pad(accepted, ((0, 1), (0, 0)))
    moves_down = jnp.pad(accepted, ((1, 0), (0, 0)))
    source = jnp.arange(num_rungs)[:, None] + moves_up.astype(int) - moves_down.astype(int)
    moved = moves_up | moves_down

    def permute(x):
        index = source.reshape(source.shape + (1,) * (x.ndim - 2))
        return jnp.take_along_axis(x, index, axis=0)

    new_position = permute(hmc_state.z)
    potential, gradient = _potential_and_gradient(model, new_position, n)
    potential = jnp.where(moved, potential, hmc_state.potential_energy)
    gradient = jnp.where(moved[..., None], gradient, hmc_state.z_grad)
    hamiltonian = hmc_state.energy + potential - hmc_state.potential_energy
    hmc_state = hmc_state._replace(
        z=new_position, potential_energy=potential, z_grad=gradient, energy=hamiltonian)
    replica = permute(state.replica)

    # Round trips (bottom -> top -> bottom) per replica, counted only after warmup.
    chain = jnp.arange(num_chains)
    bottom, top = replica[0], replica[-1]
    last_end = state.replica_last_end
    completed = (last_end[bottom, chain] == _CAME_FROM_TOP) & sampling
    round_trips = state.round_trips.at[bottom, chain].add(completed.astype(jnp.int64))
    last_end = jnp.where(
        sampling, last_end.at[bottom, chain].set(_CAME_FROM_BOTTOM), last_end)
    last_end = jnp.where(sampling, last_end.at[top, chain].set(_CAME_FROM_TOP), last_end)
    state = state._replace(
        replica=replica,
        replica_last_end=last_end,
        round_trips=round_trips,
        swap_attempts=state.swap_attempts + attempted,
        swap_accepts=state.swap_accepts + accepted,
    )
    energies = (permute(energies) if model.linear_in_inverse_temperature
                else _energies(model, new_position, n))
    return state, hmc_state, energies, (accept_prob, attempted, accepted)


@eqx.filter_jit
def run_chunk(
    model: PartitionFunction,
    settings: KernelSettings,
    state: TemperingState,
    key: Key,
    sampling: BoolScalar,
    num_steps: int,
    mesh: Mesh | None = None,
) -> tuple[TemperingState, StepRecord]:
    """`num_steps` NUTS steps (plus swaps when `sampling`) in one `lax.scan`.

    With a `mesh`, the carried state and the records stay split over chains; swaps act
    along the rung axis within each chain, so they never leave a device.
    """
    _, sample_one = _nuts_kernels(model, settings)
    step_all = _over_rungs_and_chains(sample_one)
    num_rungs, num_chains = state.replica.shape

    def step(state, step_key):
        hmc_state = step_all(state.hmc, state.inverse_temperature)
        energies = _energies(model, hmc_state.z, state.inverse_temperature)
        if settings.swaps_enabled:
            state, hmc_state, energies, swap_info = _swap_positions(
                model, settings, state, hmc_state, energies, sampling, step_key)
        else:
            no_pairs = jnp.zeros((max(num_rungs - 1, 0), num_chains), dtype=bool)
            swap_info = (no_pairs.astype(jnp.float64), no_pairs, no_pairs)
        state = state._replace(hmc=hmc_state,
                               sampling_step=state.sampling_step + sampling.astype(jnp.int64))
        record = StepRecord(
            energy=energies,
            position=hmc_state.z if settings.store_positions else None,
            potential_energy=hmc_state.potential_energy,
            hamiltonian=hmc_state.energy,
            diverging=hmc_state.diverging,
            num_steps=hmc_state.num_steps,
            step_size=hmc_state.adapt_state.step_size,
            accept_prob=hmc_state.accept_prob,
            replica=state.replica,
            swap_accept_prob=swap_info[0],
            swap_attempted=swap_info[1],
            swap_accepted=swap_info[2],
        )
        return constrain_chains(state, mesh), record

    state, records = jax.lax.scan(step, constrain_chains(state, mesh),
                                  jax.random.split(key, num_steps))
    return state, constrain_chains(records, mesh, chain_axis=2)


@eqx.filter_jit
def set_inverse_temperature(
    model: PartitionFunction, state: TemperingState, inverse_temperature: RungVector
) -> TemperingState:
    """Move the ladder (during warmup) keeping z, U_n(z) and its gradient consistent."""
    hmc_state = state.hmc
    potential, gradient = _potential_and_gradient(model, hmc_state.z, inverse_temperature)
    hamiltonian = hmc_state.energy + potential - hmc_state.potential_energy
    hmc_state = hmc_state._replace(potential_energy=potential, z_grad=gradient,
                                   energy=hamiltonian)
    return state._replace(hmc=hmc_state, inverse_temperature=inverse_temperature)
