"""Replica-exchange NUTS against exact answers (tolerances from the MCSE), fixed seeds."""

import datetime
import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import efftheory
from efftheory.models._partition import standard_normal_log_prior
from efftheory.sampling import (
    RunFolderMismatchError,
    RungLabeller,
    SamplingResult,
    SamplingWarning,
    _tempering,
    geometric_ladder,
    load,
    resume,
    sample,
    sample_nuts,
)

ignore_sampling_warnings = pytest.mark.filterwarnings(
    "ignore::efftheory.sampling.SamplingWarning")


class FreeTheory(efftheory.PartitionFunction):
    r"""$L = \frac12|u|^2$, $u \sim N(0, \mathrm{diag}\,\mu)$:
    $F(n) = \frac12\sum_k\log(1 + n\mu_k)$, $\lambda(n) = \frac12\sum_k n\mu_k/(1 + n\mu_k)$."""

    prior_variance: jax.Array
    num_params: int = eqx.field(static=True)
    loss_minimum: float = eqx.field(static=True, default=0.0)

    def population_loss(self, position):
        return 0.5 * jnp.sum(position**2)

    def log_prior(self, position):
        return standard_normal_log_prior(position, jnp.sqrt(self.prior_variance))

    def sample_prior(self, key):
        return jnp.sqrt(self.prior_variance) * jax.random.normal(key, (self.num_params,))

    def exact_learning_coefficient(self, n):
        x = np.asarray(n)[..., None] * np.asarray(self.prior_variance)
        return 0.5 * np.sum(x / (1 + x), axis=-1)

    def exact_free_energy(self, n):
        x = np.asarray(n)[..., None] * np.asarray(self.prior_variance)
        return 0.5 * np.sum(np.log1p(x), axis=-1)


class NormalCrossing(efftheory.PartitionFunction):
    r"""$L = w_1^2 w_2^2$ with $N(0, 1)$ priors: $Z(n) = E_{w_1}[(1 + 2n w_1^2)^{-1/2}]$."""

    num_params: int = eqx.field(static=True, default=2)
    loss_minimum: float = eqx.field(static=True, default=0.0)

    def population_loss(self, position):
        return position[0] ** 2 * position[1] ** 2

    def log_prior(self, position):
        return standard_normal_log_prior(position)

    def sample_prior(self, key):
        return jax.random.normal(key, (2,))


class NonFinite(FreeTheory):
    def population_loss(self, position):
        return jnp.log(position[0] - 1e9)  # NaN on the whole prior support


def _over_w1(integrand):
    """$E_{w_1 \\sim N(0,1)}[g(w_1)]$ for even g, integrated in $s = \\log w_1$."""
    def in_log(s):
        w = np.exp(s)
        return 2 * integrand(w) * np.exp(-w**2 / 2) / np.sqrt(2 * np.pi) * w
    value, _ = integrate.quad(in_log, -40, 5, limit=500, epsabs=0, epsrel=1e-12)
    return value


def crossing_exact(n):
    r"""$F(n) = -\log Z(n)$ and $\lambda(n) = n\,E[w_1^2(1+2nw_1^2)^{-3/2}]/Z(n)$."""
    z = _over_w1(lambda w: (1 + 2 * n * w**2) ** -0.5)
    dz = _over_w1(lambda w: w**2 * (1 + 2 * n * w**2) ** -1.5)
    return -np.log(z), n * dz / z


MU20 = np.exp(-np.pi * np.sqrt(np.arange(1, 21)))
FREE20 = FreeTheory(prior_variance=jnp.asarray(MU20), num_params=20)
SMALL = FreeTheory(prior_variance=jnp.asarray([1.0, 0.1, 0.01]), num_params=3)
# One configuration shared by the fast tests on SMALL, so they share one compile.
SMALL_RUN = dict(chains=2, warmup=20, draws=40, chunk_size=10, seed=3, progress=False)
SMALL_LADDER = [0.0, 1.0, 10.0]


def _within(estimate, exact, error, relative=0.0):
    tolerance = np.maximum(3 * error, relative * np.abs(exact))
    return np.abs(estimate - exact) <= tolerance


# ---------------------------------------------------------------------------- ladders


def test_geometric_ladder():
    ladder = geometric_ladder(1e1, 1e8, 8)
    np.testing.assert_allclose(np.diff(np.log10(ladder)), 1.0, rtol=1e-12)
    assert ladder[0] == 1e1 and ladder[-1] == 1e8
    with_prior = geometric_ladder(1.0, 100.0, 4, include_prior=True)
    np.testing.assert_allclose(with_prior, [0.0, 1.0, 10.0, 100.0])
    with pytest.raises(ValueError, match="n_min"):
        geometric_ladder(0.0, 10.0, 3)
    with pytest.raises(ValueError, match="num_rungs"):
        geometric_ladder(1.0, 10.0, 1)


# ---------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("ladder", "kwargs", "match"),
    [
        ([-1.0, 1.0], {}, "n >= 0"),
        ([10.0, 1.0], {}, "sorted"),
        ([1.0, 1.0], {}, "duplicate"),
        ([1.0], {"draws": 0}, "draws"),
        ([1.0], {"warmup": -1}, "warmup"),
        ([1.0], {"chains": 0}, "chains"),
        ([1.0, 2.0], {"swap_every": 0}, "swap_every"),
        ([1.0, np.inf], {}, "finite"),
        ([1.0, 2.0], {"adapt_ladder": True}, "at least 3"),
        ([1.0], {"target_accept_prob": 1.5}, "target_accept_prob"),
        ([1.0], {"on_checkpoint": print}, "on_checkpoint is called after each chunk's"),
    ],
)
def test_invalid_configuration_names_the_parameter(ladder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        sample(SMALL, ladder, **{**SMALL_RUN, **kwargs})


def test_non_finite_model_is_refused_before_sampling():
    model = NonFinite(prior_variance=jnp.ones(2), num_params=2)
    with pytest.raises(ValueError, match="model.energy is nan"):
        sample(model, [1.0], **SMALL_RUN)


def test_model_type_is_checked():
    with pytest.raises(TypeError, match="PartitionFunction"):
        sample(lambda x: x, [1.0])


def test_sample_nuts_takes_one_n():
    with pytest.raises(ValueError, match="one n"):
        sample_nuts(SMALL, [1.0, 2.0])


# ------------------------------------------------------------- kernel invariants


@pytest.fixture(scope="module")
def small_result() -> SamplingResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        return sample(SMALL, SMALL_LADDER, **SMALL_RUN)


def test_result_shapes_and_inference_data(small_result):
    data = small_result.inference_data
    assert data.posterior["energy_derivative"].dims == ("chain", "draw", "rung")
    assert data.posterior["energy_derivative"].shape == (2, 40, 3)
    assert data.posterior["position"].shape == (2, 40, 3, 3)
    np.testing.assert_array_equal(data.posterior["inverse_temperature"], SMALL_LADDER)
    np.testing.assert_array_equal(data.posterior["rung"], SMALL_LADDER)  # rungs named by n
    for name in ("diverging", "tree_depth", "n_steps", "step_size", "lp", "energy",
                 "acceptance_rate", "swap_accepted", "swap_accept_prob", "replica"):
        assert name in data.sample_stats
    assert data.sample_stats["swap_accepted"].dims == ("chain", "draw", "pair")
    assert small_result.learning_coefficient[0] == 0.0
    assert small_result.free_energy[0] == 0.0 and small_result.free_energy_is_absolute
    # Even-odd scheme: each pair is attempted every other step.
    attempted = data.sample_stats["swap_attempted"].values
    np.testing.assert_array_equal(attempted[:, 0::2, 0], True)
    np.testing.assert_array_equal(attempted[:, 1::2, 0], False)
    np.testing.assert_array_equal(attempted[:, 1::2, 1], True)


# arviz 0.23's energy plot calls matplotlib's normalize_kwargs the way 3.11 deprecates.
@pytest.mark.filterwarnings("ignore:Passing a dict or None as alias_mapping")
def test_arviz_diagnostics_read_the_run_with_rungs_labelled_by_n(small_result):
    """ArviZ's conventions: `az.summary` rows name n, `az.bfmi` and `az.plot_energy` find
    the Hamiltonian `energy` stat (one rung at a time), and `lp` is minus U_n."""
    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = small_result.inference_data
    table = az.summary(data, var_names=["energy_derivative"], kind="diagnostics")
    assert list(table.index) == [f"energy_derivative[{n}]" for n in SMALL_LADDER]
    labeller = RungLabeller()
    table = az.summary(data, var_names=["energy_derivative"], kind="diagnostics",
                       labeller=labeller)
    assert list(table.index) == ["energy_derivative[n=0]", "energy_derivative[n=1]",
                                 "energy_derivative[n=10]"]
    assert labeller.make_label_flat("position", {"rung": 15.848931924611133, "param": 2},
                                    {"rung": 2, "param": 2}) == "position[n=15.85, 2]"
    assert labeller.dim_coord_to_str("rung", 1e8, 0) == "n=1e+08"
    axes = az.plot_trace(data, var_names=["energy_derivative"], compact=False,
                         labeller=labeller)
    assert [ax.get_title() for ax in axes[:, 0]] == [
        "energy_derivative\nn=0", "energy_derivative\nn=1", "energy_derivative\nn=10"]
    plt.close(axes[0, 0].figure)
    for index, n in enumerate(SMALL_LADDER):
        rung = data.sel(rung=n)
        assert rung.sample_stats["energy"].dims == ("chain", "draw")
        bfmi = az.bfmi(rung)
        assert bfmi.shape == (2,) and np.all(np.isfinite(bfmi)) and np.all(bfmi > 0)
        np.testing.assert_array_equal(rung.posterior["energy_derivative"],
                                      small_result.energy[..., index])
    ax = az.plot_energy(data.isel(rung=-1))
    plt.close(ax.figure)
    # The Hamiltonian is U_n plus a kinetic energy >= 0.
    stats = data.sample_stats
    assert np.all(stats["energy"].values >= -stats["lp"].values - 1e-9)


def test_results_record_their_provenance(small_result, tmp_path):
    provenance = small_result.provenance
    for key in ("efftheory_version", "jax_version", "platform", "machine", "created_at"):
        assert provenance[key], key
    assert provenance["jax_version"] == jax.__version__
    datetime.datetime.fromisoformat(provenance["created_at"])
    folder = small_result.save(tmp_path / "run")
    assert json.loads((folder / "summary.json").read_text())["provenance"] == provenance
    loaded = load(folder)
    assert loaded.provenance == provenance
    for group in ("posterior", "sample_stats"):
        saved, read = getattr(small_result.inference_data, group), getattr(
            loaded.inference_data, group)
        assert set(read.data_vars) == set(saved.data_vars)
        assert set(read.coords) == set(saved.coords)
        for name, values in saved.items():
            np.testing.assert_array_equal(read[name].values, values.values, err_msg=name)
        np.testing.assert_array_equal(read["rung"].values, saved["rung"].values)


def test_swaps_permute_replicas_and_keep_state_consistent():
    """After swaps, each rung's (z, U_n(z), grad U_n(z)) agree and replicas are permuted."""
    config = dict(SMALL_RUN)
    settings = _tempering.KernelSettings(
        num_warmup=0, max_tree_depth=10, target_accept_prob=0.8, dense_mass=False,
        swaps_enabled=True, swap_every=1, store_positions=True)
    ladder = jnp.asarray([0.0, 0.5, 1.0, 2.0])
    state, _, _ = _tempering.initialize(SMALL, settings, ladder, config["chains"],
                                        jax.random.PRNGKey(0))
    state, records = _tempering.run_chunk(SMALL, settings, state, jax.random.PRNGKey(1),
                                          jnp.asarray(True), 30)
    assert records.swap_accepted.sum() > 0
    replica = np.asarray(state.replica)
    np.testing.assert_array_equal(np.sort(replica, axis=0), np.arange(4)[:, None] * [1, 1])
    assert np.any(replica != np.arange(4)[:, None])
    potential, gradient = jax.vmap(jax.vmap(jax.value_and_grad(SMALL.potential_energy),
                                            (0, None)), (0, 0))(state.hmc.z, ladder)
    np.testing.assert_allclose(state.hmc.potential_energy, potential, rtol=1e-12)
    np.testing.assert_allclose(state.hmc.z_grad, gradient, rtol=1e-12)
    np.testing.assert_array_equal(records.energy[-1],
                                  jax.vmap(jax.vmap(SMALL.energy))(state.hmc.z))


@ignore_sampling_warnings
def test_independent_rungs_and_single_n():
    independent = sample(SMALL, SMALL_LADDER, swap=False, **SMALL_RUN)
    assert not independent.inference_data.sample_stats["swap_attempted"].values.any()
    assert np.all(np.isnan(independent.swap_acceptance))
    single = sample_nuts(SMALL, 10.0, **SMALL_RUN)
    assert single.inference_data.posterior["energy_derivative"].shape == (2, 40, 1)


@ignore_sampling_warnings
def test_adaptive_ladder_keeps_ends_and_order():
    ladder = [1.0, 1.5, 2.0, 1e3]
    result = sample(SMALL, ladder, adapt_ladder=True, **SMALL_RUN)
    assert result.n_ladder[0] == 1.0 and result.n_ladder[-1] == 1e3
    assert np.all(np.diff(result.n_ladder) > 0)
    assert not np.allclose(result.n_ladder, ladder)  # the crowded low end spreads out
    np.testing.assert_array_equal(result.inference_data.posterior.attrs["n_ladder_initial"],
                                  ladder)


# ---------------------------------------------------------------------- diagnostics


def test_short_runs_warn_with_the_fix():
    with pytest.warns(SamplingWarning) as caught:
        result = sample(SMALL, SMALL_LADDER, **SMALL_RUN)
    messages = [str(warning.message) for warning in caught]
    assert messages == list(result.diagnostics)
    assert any("bulk ESS" in m and "rung 0 (n=0)" in m and "increase draws" in m
               for m in messages)


@ignore_sampling_warnings
def test_poor_swaps_are_reported():
    result = sample(SMALL, [1e-3, 1.0, 1e6], **SMALL_RUN)
    assert result.swap_acceptance[1] < 0.1
    assert any("insert rungs" in message for message in result.diagnostics)


# ---------------------------------------------------------------------- persistence


def test_save_and_load(small_result, tmp_path):
    folder = small_result.save(tmp_path / "run")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["n_ladder"] == SMALL_LADDER
    loaded = load(folder)
    np.testing.assert_array_equal(loaded.energy, small_result.energy)
    np.testing.assert_array_equal(loaded.learning_coefficient,
                                  small_result.learning_coefficient)
    np.testing.assert_array_equal(loaded.round_trips, small_result.round_trips)
    assert loaded.config == small_result.config
    # the communication barrier is the summed rejection of the recorded swap proposals
    rejection = 1 - small_result.inference_data.sample_stats["swap_accept_prob"].values
    assert small_result.communication_barrier == pytest.approx(rejection.mean((0, 1)).sum())
    assert 0 < small_result.communication_barrier < len(SMALL_LADDER) - 1
    assert summary["communication_barrier"] == pytest.approx(loaded.communication_barrier)
    assert small_result.round_trip_rate == pytest.approx(
        small_result.round_trips.sum() / small_result.energy.shape[0]
        / small_result.energy.shape[1])


def test_load_reads_results_saved_with_the_old_names(small_result, tmp_path):
    """Results saved before the ArviZ names (posterior `energy`, raw NumPyro stats, integer
    rung labels) load with the current names and the same estimators."""
    import arviz as az

    data = small_result.inference_data
    old = {"num_steps": "n_steps", "accept_prob": "acceptance_rate"}
    posterior = data.posterior.rename_vars({"energy_derivative": "energy"}).assign_coords(
        rung=np.arange(3)).assign_attrs(energy="L - L0")
    stats = (data.sample_stats.drop_vars(["energy", "lp"])
             .assign(potential_energy=-data.sample_stats["lp"])
             .rename_vars({new: name for name, new in old.items()})
             .assign_coords(rung=np.arange(3)).assign_attrs(energy="L - L0"))
    folder = tmp_path / "old"
    folder.mkdir()
    az.InferenceData(posterior=posterior, sample_stats=stats).to_netcdf(
        str(folder / "inference_data.nc"), engine="h5netcdf")
    loaded = load(folder)
    np.testing.assert_array_equal(loaded.energy, small_result.energy)
    np.testing.assert_array_equal(loaded.inference_data.posterior["rung"], SMALL_LADDER)
    np.testing.assert_array_equal(loaded.inference_data.sample_stats["lp"],
                                  data.sample_stats["lp"])
    assert "n_steps" in loaded.inference_data.sample_stats
    np.testing.assert_array_equal(loaded.learning_coefficient,
                                  small_result.learning_coefficient)


_CHILD = textwrap.dedent("""
    import os, signal, sys, warnings
    sys.path.insert(0, {tests!r})
    warnings.simplefilter("ignore")
    from test_sampling import SMALL, SMALL_LADDER, SMALL_RUN
    from efftheory.sampling import sample

    def kill_after(chunk_index):
        if chunk_index == {kill_at}:
            os.kill(os.getpid(), signal.SIGKILL)

    sample(SMALL, SMALL_LADDER, checkpoint_dir={folder!r}, on_checkpoint=kill_after,
           **SMALL_RUN)
""")


def test_resume_after_sigkill_is_bitwise(small_result, tmp_path):
    """A run SIGKILLed after its 2nd sampling chunk, resumed, equals the uninterrupted run."""
    folder = tmp_path / "checkpoint"
    kill_at = 3  # chunks 0-1 warmup, 2-5 sampling
    child = _CHILD.format(tests=str(Path(__file__).parent), kill_at=kill_at,
                          folder=str(folder))
    env = {**os.environ, "CI": "1"}
    completed = subprocess.run([sys.executable, "-c", child], env=env, timeout=300,
                               capture_output=True, text=True)
    assert completed.returncode == -signal.SIGKILL, completed.stderr[-2000:]
    with np.load(folder / "state.npz") as state:
        assert int(state["next_chunk"]) == kill_at + 1
    assert not (folder / f"chunk_{kill_at + 1:05d}.npz").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        resumed = resume(folder, SMALL, progress=False)
    for group in ("posterior", "sample_stats"):
        for name, values in getattr(small_result.inference_data, group).items():
            np.testing.assert_array_equal(
                getattr(resumed.inference_data, group)[name].values, values.values,
                err_msg=f"{group}.{name}")
    np.testing.assert_array_equal(resumed.round_trips, small_result.round_trips)


def test_checkpoint_dir_is_not_overwritten(tmp_path):
    folder = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        sample(SMALL, SMALL_LADDER, checkpoint_dir=folder, **SMALL_RUN)
        with pytest.raises(FileExistsError, match="resume"):
            sample(SMALL, SMALL_LADDER, checkpoint_dir=folder, **SMALL_RUN)
        finished = resume(folder, SMALL)  # nothing left to run: returns the result
        again = sample(SMALL, SMALL_LADDER, checkpoint_dir=folder, if_exists="resume",
                       **SMALL_RUN)
    assert finished.energy.shape == (2, 40, 3)
    np.testing.assert_array_equal(again.energy, finished.energy)


def test_checkpoint_dir_with_other_settings_refuses(tmp_path):
    """Issue 16.1 at the layer that owns the checkpoint: no caller resumes a different run."""
    folder = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        sample(SMALL, SMALL_LADDER, checkpoint_dir=folder, **SMALL_RUN)
    stored = {path.name: path.read_bytes() for path in folder.iterdir()}
    other_model = FreeTheory(prior_variance=jnp.asarray([1.0, 0.1, 0.02]), num_params=3)
    for if_exists in ("refuse", "resume"):
        with pytest.raises(RunFolderMismatchError, match="seed: 3 -> 4") as refusal:
            sample(SMALL, SMALL_LADDER, checkpoint_dir=folder, if_exists=if_exists,
                   **{**SMALL_RUN, "seed": 4})
        assert "if_exists='restart'" in str(refusal.value)
        with pytest.raises(RunFolderMismatchError, match="fingerprint"):
            sample(other_model, SMALL_LADDER, checkpoint_dir=folder, if_exists=if_exists,
                   **SMALL_RUN)
    with pytest.raises(RunFolderMismatchError, match="fingerprint"):
        resume(folder, other_model)
    with pytest.raises(ValueError, match="not built from a card"):
        resume(folder)  # a Python model is data-less: it must be passed back in
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == stored
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="notes.txt"):
        sample(SMALL, SMALL_LADDER, checkpoint_dir=mine, **SMALL_RUN)


def test_no_device_assumptions():
    """The sampler must run unchanged on CPU and GPU: no device names or host pulls."""
    source = "".join(path.read_text() for path in
                     (Path(efftheory.__file__).parent / "sampling").glob("*.py"))
    for forbidden in ('"cpu"', "'cpu'", '"gpu"', "'gpu'", "jax.devices(", "device_put(",
                      "efftheory.theory", "from ..theory"):
        assert forbidden not in source
    tempering = (Path(efftheory.__file__).parent / "sampling" / "_tempering.py").read_text()
    assert "numpy as np" not in tempering and "device_get" not in tempering


@pytest.mark.slow  # a smoke run; kept out of the default suite for CI's time budget
def test_benchmark_script_smoke(tmp_path):
    script = Path(__file__).parents[1] / "experiments" / "benchmark_tempering.py"
    completed = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "--draws", "8", "--warmup", "8",
         "--chains", "2", "--rungs", "3", "--n-max", "10", "--width", "2"],
        env={**os.environ, "CI": "1"}, timeout=300, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-2000:]
    table = json.loads((tmp_path / "benchmark_tempering.json").read_text())
    assert len(table["replica_exchange"]["learning_coefficient"]) == 3
    assert (tmp_path / "independent" / "inference_data.nc").exists()


# ------------------------------------------------------------ validation vs exact


def _check_free_theory(model, ladder, result):
    exact_lambda = model.exact_learning_coefficient(ladder)
    ok = _within(result.learning_coefficient, exact_lambda,
                 result.learning_coefficient_mcse, relative=0.02)
    assert ok.all(), np.c_[ladder, exact_lambda, result.learning_coefficient,
                           result.learning_coefficient_mcse][~ok]
    exact_free = model.exact_free_energy(ladder) - model.exact_free_energy(ladder[0])
    ok = _within(result.free_energy, exact_free, result.free_energy_err)
    assert ok.all(), np.c_[ladder, exact_free, result.free_energy, result.free_energy_err]


@ignore_sampling_warnings
def test_free_theory_fast():
    """K=20 free theory over n in [0, 1e4]: lambda within max(3 MCSE, 2%), F by TI."""
    ladder = geometric_ladder(1e-1, 1e4, 11, include_prior=True)
    result = sample(FREE20, ladder, chains=2, warmup=200, draws=400, chunk_size=200, seed=1,
                    progress=False, store_positions=False)
    assert "position" not in result.inference_data.posterior
    _check_free_theory(FREE20, ladder, result)


@pytest.mark.slow
@ignore_sampling_warnings
def test_free_theory_full_ladder():
    """K=20, mu_k = exp(-pi sqrt k), prior rung plus n in [1e-1, 1e8]."""
    ladder = geometric_ladder(1e-1, 1e8, 28, include_prior=True)
    result = sample(FREE20, ladder, chains=4, warmup=1000, draws=2000, chunk_size=500,
                    seed=0, progress=False, store_positions=False)
    _report("free theory", ladder, FREE20.exact_learning_coefficient(ladder),
            FREE20.exact_free_energy(ladder), result)
    assert (ladder >= 1e1).sum() >= 15
    _check_free_theory(FREE20, ladder, result)


@pytest.mark.slow
@ignore_sampling_warnings
def test_normal_crossing():
    r"""$L = w_1^2 w_2^2$: lambda within 3 MCSE at n = 1e2, 1e4, 1e6; F by TI within err."""
    ladder = geometric_ladder(1e-2, 1e6, 34, include_prior=True)  # 4 rungs per decade
    # Small steps for the thin arms of the cross (|w_1| large at large n).
    result = sample(NormalCrossing(), ladder, chains=4, warmup=1000, draws=4000,
                    chunk_size=500, seed=0, progress=False, target_accept_prob=0.95,
                    store_positions=False)
    exact = np.array([crossing_exact(n) if n > 0 else (0.0, 0.0) for n in ladder])
    _report("normal crossing", ladder, exact[:, 1], exact[:, 0], result)
    for n in (1e2, 1e4, 1e6):
        rung = int(np.argmin(np.abs(ladder - n)))
        assert ladder[rung] == pytest.approx(n)
        assert _within(result.learning_coefficient[rung], exact[rung, 1],
                       result.learning_coefficient_mcse[rung])
    assert _within(result.free_energy, exact[:, 0], result.free_energy_err).all()


def _report(name, ladder, exact_lambda, exact_free, result):
    print(f"\n{name}: n, lambda exact, lambda hat, mcse, z | F exact, F TI, err | F SS, err")
    for row in zip(ladder, exact_lambda, result.learning_coefficient,
                   result.learning_coefficient_mcse, exact_free, result.free_energy,
                   result.free_energy_err, result.free_energy_stepping_stone,
                   result.free_energy_stepping_stone_err, strict=True):
        n, lam, lam_hat, se, free, free_hat, err, ss, ss_err = row
        z = (lam_hat - lam) / se if se > 0 else 0.0
        print(f"{n:10.3g} {lam:8.4f} {lam_hat:8.4f} {se:7.4f} {z:+5.2f} | {free:9.4f} "
              f"{free_hat:9.4f} {err:7.4f} | {ss:9.4f} {ss_err:7.4f}")
    print(f"swap acceptance {np.round(result.swap_acceptance, 2).tolist()}")
    print(f"round trips {result.round_trips.tolist()}, divergences "
          f"{result.divergences.tolist()}, max rhat {np.nanmax(result.rhat):.3f}, "
          f"min ess {np.nanmin(result.ess_bulk):.0f}")
