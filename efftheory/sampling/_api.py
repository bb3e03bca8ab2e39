"""`sample`, `sample_nuts`, `resume`, `load`: run a ladder in chunks and assemble a result."""

from collections.abc import Callable, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from ..models._card_model import CardModel
from ..models._partition import PartitionFunction
from . import _model_record, _persistence
from ._arviz import az
from ._config import SamplerConfig, validate_ladder
from ._devices import DeviceSpec, chain_mesh
from ._diagnostics import (
    ENERGY_DERIVATIVE,
    diagnostic_messages,
    inference_data,
    rhat_and_ess,
    warn_diagnostics,
)
from ._estimators import energy_moments, stepping_stone, thermodynamic_integration
from ._progress import ChunkProgress, progress_mode
from ._provenance import provenance
from ._result import INFERENCE_DATA_FILE, SamplingResult
from ._schedule import communication_barrier, equalized_schedule
from ._tempering import (
    KernelSettings,
    StepRecord,
    TemperingState,
    initialize,
    run_chunk,
    set_inverse_temperature,
)


def sample(
    model: PartitionFunction | CardModel,
    n_ladder: Sequence[float] | np.ndarray,
    *,
    chains: int = 4,
    draws: int = 1000,
    warmup: int = 1000,
    seed: int = 0,
    swap_every: int = 1,
    chunk_size: int | None = None,
    checkpoint_dir: str | Path | None = None,
    if_exists: _persistence.IfExists = "refuse",
    store_positions: bool = True,
    progress: bool | None = None,
    adapt_ladder: bool = False,
    max_tree_depth: int = 10,
    target_accept_prob: float = 0.8,
    dense_mass: bool = False,
    swap: bool = True,
    devices: DeviceSpec = None,
    on_checkpoint: Callable[[int], None] | None = None,
) -> SamplingResult:
    r"""Replica-exchange NUTS on $\exp(-n(L - L_0))\varphi$ at every $n$ of `n_ladder`.

    `chains` independent copies of the whole ladder run side by side (rungs × chains
    vmapped, one compile). Warmup adapts each rung's step size and diagonal (or dense) mass
    matrix without swaps; afterwards neighbours swap positions every `swap_every` steps
    (`swap=False`: independent NUTS per rung). With `adapt_ladder=True`, after each chunk
    of the first half of warmup the interior rungs move to equalize the estimated swap
    rejection rates (non-reversible parallel tempering's schedule, Syed et al. 2022; see
    `efftheory.sampling._schedule`); `result.n_ladder` holds the final ladder. Every
    result reports the communication barrier $\Lambda = \sum_i r_i$ and the round-trip
    rate. Draws come in chunks of `chunk_size` steps (default
    `min(100, warmup or draws)`); with `checkpoint_dir`, each chunk is checkpointed and an
    interrupted run continues with `resume(checkpoint_dir)`, reproducing the uninterrupted
    run bit for bit on the same platform. A `checkpoint_dir` that already holds a run is
    refused (`if_exists="refuse"`), continued only if its configuration and model equal
    these (`"resume"`; any difference raises `RunFolderMismatchError` naming the fields), or
    discarded first (`"restart"`). Diagnostics failing their thresholds raise
    `SamplingWarning`s; divergent transitions are counted, never dropped. `progress`: a bar
    per chunk on a terminal or in Jupyter; when stderr is not a terminal (a file, a pipe), one
    line per chunk on the `efftheory` logger (chunk i/N, warmup or sampling, λ̂ at the top
    rung so far, the lowest swap acceptance, elapsed time); `False` prints nothing.

    `devices` spreads the chains over several accelerators (the chain axis of the state is
    split with a `jax.sharding.Mesh`; swaps stay within a chain, so on one device):
    `None` uses the most local devices of the default backend that divide `chains` (just
    one device when only one is present), an int k the first k local devices, or pass a
    list of `jax.Device`. The draws equal the one-device draws up to rounding (XLA compiles
    the per-device program for its own batch shape, so last-ulp differences appear and
    NUTS carries them along); bitwise reproduction needs the same device count. See
    docs/devices.md for memory and throughput settings.

    `model` is a `PartitionFunction`, or a `CardModel` (`efftheory.load_card_model`): then
    its ``.model`` is sampled and the run folder records the card's name and parameters,
    so `resume(checkpoint_dir)` rebuilds it; a plain model is recorded by fingerprint and
    passed back to `resume`.

    `on_checkpoint(chunk_index)`, with `checkpoint_dir`, is called after each chunk's
    checkpoint is on disk (chunks count from 0, warmup included): to report progress
    elsewhere, or to stop a run at a known point (an exception it raises propagates, and
    `resume` continues from that checkpoint).
    """
    recorded = model  # what the run folder's model.json describes
    if isinstance(model, CardModel):
        model = model.model
    if not isinstance(model, PartitionFunction):
        raise TypeError(f"model must be an efftheory.PartitionFunction, got "
                        f"{type(model).__name__}; wrap a NumPyro model in "
                        "efftheory.NumPyroModel(model_fn, *args) and plain JAX functions in "
                        "efftheory.FunctionModel(loss, log_prior, sample_prior, num_params).")
    if chunk_size is None:
        chunk_size = min(100, max(warmup, 1), max(draws, 1))
    config = SamplerConfig(
        n_ladder=tuple(validate_ladder(n_ladder).tolist()),
        chains=chains, draws=draws, warmup=warmup, seed=seed, swap_every=swap_every,
        chunk_size=chunk_size, store_positions=store_positions, adapt_ladder=adapt_ladder,
        max_tree_depth=max_tree_depth, target_accept_prob=target_accept_prob,
        dense_mass=dense_mass, swap=swap,
    )
    _check_trustworthy(model, config.n_ladder)
    _check_on_checkpoint(on_checkpoint)
    if on_checkpoint is not None and checkpoint_dir is None:
        raise ValueError("on_checkpoint is called after each chunk's checkpoint, and without "
                         "checkpoint_dir there is none: pass checkpoint_dir, or drop "
                         "on_checkpoint.")
    mesh = chain_mesh(devices, config.chains)
    folder = None if checkpoint_dir is None else Path(checkpoint_dir)
    if folder is not None:
        _persistence.open_run_folder(folder, config, recorded, if_exists)
    return _run(model, config, folder, progress, mesh, on_checkpoint)


def _check_trustworthy(model: PartitionFunction, n_ladder) -> None:
    """Refuse rungs above the model's trustworthy n (its energy error is not small there)."""
    limit = model.trustworthy_n
    top = max(n_ladder)
    if top > limit:
        raise ValueError(
            f"n_ladder reaches n={top:g}, above this model's trustworthy n = {limit:.3g}: "
            "beyond it the quadrature and float64 rounding of the kernel G = E[σσᵀ] change "
            "the tempered energy n(L - L0) by more than 1e-3 where the posterior lives "
            "(see model.quadrature), so lambda-hat there would be noise. Lower the top rung "
            "to at most that n."
        )


def _check_on_checkpoint(on_checkpoint) -> None:
    if on_checkpoint is not None and not callable(on_checkpoint):
        raise TypeError(f"on_checkpoint must be None or a function of the chunk index, got "
                        f"{on_checkpoint!r}.")


def sample_nuts(model: PartitionFunction | CardModel, n: float, **kwargs) -> SamplingResult:
    """NUTS at one inverse temperature `n`: a ladder of one rung, no swaps."""
    if np.ndim(n) != 0:
        raise ValueError(f"sample_nuts takes one n, got {n!r}; use sample(model, n_ladder).")
    return sample(model, [float(n)], swap=False, **kwargs)


def resume(path: str | Path, model: PartitionFunction | CardModel | None = None, *,
           progress: bool | None = None, devices: DeviceSpec = None,
           on_checkpoint: Callable[[int], None] | None = None) -> SamplingResult:
    """Continue the run checkpointed in `path` (a `checkpoint_dir`) and return its result.

    A model sampled beside its card (a `CardModel`) is rebuilt from the card name and
    parameters recorded in ``model.json``; any other model must be passed as `model`, and is
    checked against the recorded one (`RunFolderMismatchError` if it differs). Nothing in
    the folder is executed: a pickled model is never loaded. `devices` and `on_checkpoint`
    as in `sample`; a run may resume on a different number of devices.
    """
    folder = Path(path)
    config = _persistence.read_config(folder)
    if model is None:
        model = _model_record.rebuild_model(folder)
    else:
        stored = _model_record.read_model_record(folder)
        differences = [] if stored is None else _model_record.model_differences(
            stored, _model_record.describe_model(model))
        if differences:
            raise _persistence.RunFolderMismatchError(folder, differences)
        if isinstance(model, CardModel):
            model = model.model
    _check_on_checkpoint(on_checkpoint)
    return _run(model, config, folder, progress, chain_mesh(devices, config.chains),
                on_checkpoint)


def load(path: str | Path) -> SamplingResult:
    """A result saved with `SamplingResult.save(path)`, estimators recomputed from draws."""
    data = _with_current_names(
        az.from_netcdf(str(Path(path) / INFERENCE_DATA_FILE), engine="h5netcdf"))
    config = SamplerConfig.from_json(data.posterior.attrs["config"])
    return _assemble(config, data, warn=False)


# Names in results saved before the InferenceData followed ArviZ's conventions.
_LEGACY_STAT_NAMES = {"num_steps": "n_steps", "accept_prob": "acceptance_rate"}


def _with_current_names(data: az.InferenceData) -> az.InferenceData:
    """Rename the variables of an older saved result to the current names."""
    posterior, stats = data.posterior, data.sample_stats
    if ENERGY_DERIVATIVE not in posterior and "energy" in posterior:
        posterior = posterior.rename_vars({"energy": ENERGY_DERIVATIVE})
        formula = posterior.attrs.pop("energy", None)
        if formula is not None:
            posterior.attrs[f"{ENERGY_DERIVATIVE}_formula"] = formula
        if "potential_energy" in stats:
            stats = stats.assign(lp=-stats["potential_energy"]).drop_vars("potential_energy")
        stats = stats.rename_vars({k: v for k, v in _LEGACY_STAT_NAMES.items() if k in stats})
        stats.attrs.pop("energy", None)
        if "inverse_temperature" in posterior.coords:
            ladder = posterior["inverse_temperature"].values
            posterior = posterior.assign_coords(rung=ladder)
            stats = stats.assign_coords(rung=ladder)
        data = az.InferenceData(posterior=posterior, sample_stats=stats)
    return data


def _settings(config: SamplerConfig) -> KernelSettings:
    return KernelSettings(
        num_warmup=config.warmup,
        max_tree_depth=config.max_tree_depth,
        target_accept_prob=config.target_accept_prob,
        dense_mass=config.dense_mass,
        swaps_enabled=config.swaps_enabled,
        swap_every=config.swap_every,
        store_positions=config.store_positions,
    )


def _initial_state(model, config: SamplerConfig, mesh: Mesh | None) -> TemperingState:
    init_key = jax.random.split(jax.random.PRNGKey(config.seed))[0]
    inverse_temperature = jnp.asarray(config.n_ladder, dtype=jnp.float64)
    state, energies, potentials = initialize(
        model, _settings(config), inverse_temperature, config.chains, init_key, mesh)
    energies, potentials = np.asarray(energies), np.asarray(potentials)
    for name, values in (("energy", energies), ("potential_energy", potentials)):
        bad = np.argwhere(~np.isfinite(values))
        if bad.size:
            rung, chain = bad[0]
            raise ValueError(
                f"model.{name} is {values[rung, chain]} at a prior draw (rung {rung}, "
                f"n={config.n_ladder[rung]}, chain {chain}); {bad.shape[0]} of "
                f"{values.size} initial points are non-finite. Make population_loss and "
                "log_prior finite on the prior's support (check sample_prior and loss_minimum).")
    return state


def _run(model, config: SamplerConfig, folder: Path | None, progress: bool | None,
         mesh: Mesh | None = None,
         on_checkpoint: Callable[[int], None] | None = None) -> SamplingResult:
    settings = _settings(config)
    chunk_lengths = config.chunk_lengths()
    num_warmup_chunks = config.num_warmup_chunks()
    chunk_key = jax.random.split(jax.random.PRNGKey(config.seed))[1]
    state = _initial_state(model, config, mesh)
    next_chunk, sampled = 0, []
    if folder is not None:
        next_chunk, state, sampled = _persistence.read_checkpoint(
            folder, state, num_warmup_chunks)
    with ChunkProgress(len(chunk_lengths), next_chunk, progress_mode(progress)) as report:
        for chunk_index in range(next_chunk, len(chunk_lengths)):
            is_sampling = chunk_index >= num_warmup_chunks
            state, records = run_chunk(
                model, settings, state, jax.random.fold_in(chunk_key, chunk_index),
                jnp.asarray(is_sampling), chunk_lengths[chunk_index], mesh)
            records = jax.device_get(records)
            if is_sampling:
                sampled.append(records)
            elif config.adapt_ladder and 2 * (chunk_index + 1) <= num_warmup_chunks:
                ladder = np.asarray(state.inverse_temperature)
                rejection = 1.0 - np.asarray(records.swap_accept_prob).mean(axis=(0, 2))
                state = set_inverse_temperature(
                    model, state, jnp.asarray(equalized_schedule(ladder, rejection)))
            if folder is not None:
                _persistence.write_checkpoint(
                    folder, chunk_index, state, records if is_sampling else None)
                if on_checkpoint is not None:
                    on_checkpoint(chunk_index)
            report.update(chunk_index, "sampling" if is_sampling else "warmup",
                          _progress_info(state, sampled if is_sampling else [records]))
    # A field some chunk lacks (`hamiltonian`, in chunks checkpointed before it existed)
    # is dropped for the whole run.
    records = StepRecord(*(
        None if any(r[i] is None for r in sampled)
        else np.concatenate([r[i] for r in sampled], axis=0)
        for i in range(len(StepRecord._fields))))
    ladder = np.asarray(state.inverse_temperature)
    round_trips = np.asarray(state.round_trips).sum(axis=0)
    attrs = {"config": config.to_json(), "sampler": "efftheory replica-exchange NUTS",
             "n_ladder_initial": np.asarray(config.n_ladder),
             "linear_in_inverse_temperature": int(model.linear_in_inverse_temperature),
             f"{ENERGY_DERIVATIVE}_formula": ("L - L0" if model.linear_in_inverse_temperature
                                               else "dT_n/dn"),
             **provenance()}
    data = inference_data(ladder, records._asdict(), round_trips, attrs)
    return _assemble(config, data, warn=True)


def _progress_info(state: TemperingState, records: list[StepRecord]) -> dict[str, str]:
    """λ̂ = n⟨∂_n T_n⟩ at the top rung over `records` (the sampling draws so far, or the
    warmup chunk just run), and the lowest swap acceptance of any pair after warmup."""
    top_energy = np.concatenate([np.asarray(r.energy[:, -1]) for r in records])
    n_top = float(state.inverse_temperature[-1])
    info = {"n_top": f"{n_top:.4g}", "lambda_top": f"{n_top * top_energy.mean():.4g}"}
    attempts = np.asarray(state.swap_attempts).sum(axis=1)
    if attempts.size and attempts.min() > 0:
        accepted = np.asarray(state.swap_accepts).sum(axis=1)
        info["min_swap_accept"] = f"{(accepted / attempts).min():.2f}"
    else:
        info["min_swap_accept"] = "-"
    return info


def _assemble(config: SamplerConfig, data: az.InferenceData, warn: bool) -> SamplingResult:
    """Estimators and diagnostics from the InferenceData (also used by `load`)."""
    ladder = data.posterior["inverse_temperature"].values
    energy = data.posterior[ENERGY_DERIVATIVE].values  # (chain, draw, rung)
    stats = data.sample_stats
    linear = bool(data.posterior.attrs.get("linear_in_inverse_temperature", 1))
    mean, mean_se, _, _ = energy_moments(energy)
    integration = thermodynamic_integration(ladder, energy, linear=linear)
    stepping, stepping_err = stepping_stone(ladder, energy, linear=linear)
    rhat, ess_bulk = rhat_and_ess(energy)
    divergences = stats["diverging"].values.sum(axis=(0, 1))
    attempted = stats["swap_attempted"].values.sum(axis=(0, 1))
    accepted = stats["swap_accepted"].values.sum(axis=(0, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        swap_acceptance = np.where(attempted > 0, accepted / np.maximum(attempted, 1), np.nan)
    swap_rejection = 1.0 - stats["swap_accept_prob"].values.mean(axis=(0, 1))
    round_trips = np.asarray(stats.attrs["round_trips"]).reshape(-1)
    steps = energy.shape[0] * energy.shape[1]
    messages = diagnostic_messages(ladder, rhat, ess_bulk, divergences, swap_acceptance,
                                   config.swaps_enabled)
    if warn:
        warn_diagnostics(messages)
    return SamplingResult(
        config=config,
        n_ladder=ladder,
        inference_data=data,
        mean_energy=mean,
        mean_energy_mcse=mean_se,
        learning_coefficient=ladder * mean,
        learning_coefficient_mcse=ladder * mean_se,
        free_energy=integration["free_energy"],
        free_energy_err=integration["err"],
        free_energy_mcse=integration["mcse"],
        free_energy_discretization_err=integration["discretization"],
        free_energy_stepping_stone=stepping,
        free_energy_stepping_stone_err=stepping_err,
        rhat=rhat,
        ess_bulk=ess_bulk,
        divergences=divergences,
        swap_acceptance=swap_acceptance,
        round_trips=round_trips,
        diagnostics=tuple(messages),
        swap_rejection=swap_rejection,
        communication_barrier=(communication_barrier(swap_rejection)
                               if config.swaps_enabled and swap_rejection.size else float("nan")),
        round_trip_rate=(float(round_trips.sum() / steps)
                         if config.swaps_enabled and steps else float("nan")),
    )
