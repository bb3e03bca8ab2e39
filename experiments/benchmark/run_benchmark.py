r"""efftheory against the samplers researchers use today, on one tanh network and machine.

On the `learning-zero-small` card (tanh, Gaussian input, learning zero; width `--width`,
default 16) this runs, each method in its own subprocess so that peak memory is its own:

* `replica_exchange`: efftheory's replica-exchange NUTS over a ladder n = 0, 1 ... n_max;
* `independent`: the same ladder with `swap=False` (independent NUTS per rung);
* `single_rung`: `efftheory.sample_nuts` at each target n alone (no ladder): what a
  researcher who wants lambda-hat at one n runs, and the like-for-like counterpart of SGLD,
  which also samples one n per run;
* `reference`: the readout integrated out exactly (`form="collapsed"`, see docs/concepts.md), a
  second estimator of lambda(n) that shares no code path with the raw-weight sampler beyond
  NUTS itself, run longer; used as the reference where no exact curve exists (width > 2).
  Width 1 and 2 use `efftheory.exact.learning_coefficient` instead;
* `smc`: BlackJAX adaptive tempered SMC (HMC moves) from the prior to each target n;
  lambda-hat = n E[L] over the final particles, log Z from the sum of the SMC weight
  increments (`info.log_likelihood_increment`);
* `sgld`: devinterp's SGLD (`devinterp.optim.SGMCMC.sgld`) started at w* = 0 with
  localization gamma = 1 and nbeta = n on the population loss 1/2 sum_j q_j f(x_j)^2 over
  efftheory's own quadrature nodes, so that its stationary law is exactly
  exp(-n L(theta)) N(0, I), efftheory's tempered posterior; lambda-hat is devinterp's
  estimator nbeta (mean loss - initial loss) (`devinterp.slt.llc.compute_llc`).

and then, in-process, the cost of efftheory against width and against the number of rungs,
with the compile time split from the sampling time (a warm re-run of the same call hits
JAX's cache). Writes `<output_dir>/benchmark.json` (everything), one JSON per method, and
`<output_dir>/benchmark.md` (the tables).

    python experiments/benchmark/run_benchmark.py OUTPUT_DIR [--width 16] [--draws 1000]
        [--warmup 500] [--chains 4] [--sgld-draws 5000] [--smc-particles 1000]
        [--methods ...] [--scan-widths 4 16 64 256 1024] [--scan-rungs 4 8 16 32] [--seed 0]

`smc` needs `blackjax`; `sgld` needs `torch` (CPU) and `devinterp` (pyproject extra
`bench`; see docs/benchmarks.md).
"""

import argparse
import functools
import json
import math
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import efftheory as et
from efftheory._io import atomic_write_json, atomic_write_text
from efftheory.sampling import SamplingWarning, geometric_ladder
from efftheory.sampling._devices import describe_machine
from efftheory.sampling._estimators import mean_and_mcse

METHODS = ("replica_exchange", "independent", "single_rung", "reference", "smc", "sgld")
EXTERNAL_METHODS = ("smc", "sgld")
SMC_INTEGRATION_STEPS = 10  # leapfrog steps per HMC move inside SMC
# Step budgets at which the SGLD estimate is also reported (prefixes of the one long run).
SGLD_PREFIXES = (1000, 5000, 20000, 50000, 100000, 200000, 500000, 1000000)


def ladder(args) -> np.ndarray:
    """n = 0, then two rungs per decade from 1 to n_max (so every 10^k is a rung)."""
    rungs = geometric_ladder(1.0, args.n_max, 2 * round(math.log10(args.n_max)) + 1)
    return np.concatenate([[0.0], rungs])


def peak_memory_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def model_for(args, form="raw"):
    return et.load_model("learning-zero-small", width=args.width, n_max=args.n_max, form=form)


def run_efftheory(args, swap: bool, form: str = "raw", scale: float = 1.0) -> dict:
    model = model_for(args, form)
    rungs = ladder(args)
    draws, warmup = int(args.draws * scale), int(args.warmup * scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        start = time.perf_counter()
        result = et.sample(model, rungs, chains=args.chains, draws=draws, warmup=warmup,
                           seed=args.seed, swap=swap, store_positions=False, progress=False)
        seconds = time.perf_counter() - start
    steps = result.inference_data.sample_stats["n_steps"].values  # (chain, draw, rung)
    gradients = float(steps.sum())
    ess = result.ess_bulk
    return {
        "n": rungs.tolist(), "seconds": seconds, "draws": draws, "warmup": warmup,
        "chains": args.chains, "gradient_evaluations_sampling": gradients,
        "learning_coefficient": result.learning_coefficient.tolist(),
        "learning_coefficient_mcse": result.learning_coefficient_mcse.tolist(),
        "ess_bulk": ess.tolist(), "ess_per_second": (ess / seconds).tolist(),
        # Gradients of the whole ladder per effective sample at that rung: the ladder is
        # one computation, so each rung is charged for all of it.
        "gradients_per_effective_sample": (gradients / ess).tolist(),
        "rhat": result.rhat.tolist(), "divergences": result.divergences.tolist(),
        "swap_acceptance": [None if np.isnan(a) else float(a)
                            for a in result.swap_acceptance],
        "free_energy": result.free_energy.tolist(),
    }


def run_single_rung(args) -> dict:
    """NUTS at each target n alone: lambda-hat(n) = n E_n[L] needs no ladder (Watanabe 2009).

    The targets run one after another in this process; n is traced, so only the first
    call compiles. The first target runs twice: `compile_seconds` is the first call's
    excess over the second, and every `seconds` is a warm call (add `compile_seconds` once
    for a cold start).
    """
    model = model_for(args)
    out = {"n": [], "seconds": [], "learning_coefficient": [], "learning_coefficient_mcse": [],
           "ess_bulk": [], "ess_per_second": [], "gradient_evaluations_sampling": [],
           "gradients_per_effective_sample": [], "rhat": [], "divergences": [],
           "draws": args.draws, "warmup": args.warmup, "chains": args.chains}

    def timed(target):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)
            start = time.perf_counter()
            result = et.sample_nuts(model, target, chains=args.chains, draws=args.draws,
                                    warmup=args.warmup, seed=args.seed,
                                    store_positions=False, progress=False)
            return result, time.perf_counter() - start

    cold = timed(args.targets[0])[1]
    for target in args.targets:
        result, seconds = timed(target)
        if target == args.targets[0]:
            out["compile_seconds"] = cold - seconds
        gradients = float(result.inference_data.sample_stats["n_steps"].values.sum())
        ess = float(result.ess_bulk[0])
        out["n"].append(target)
        out["seconds"].append(seconds)
        out["learning_coefficient"].append(float(result.learning_coefficient[0]))
        out["learning_coefficient_mcse"].append(float(result.learning_coefficient_mcse[0]))
        out["ess_bulk"].append(ess)
        out["ess_per_second"].append(ess / seconds)
        out["gradient_evaluations_sampling"].append(gradients)
        out["gradients_per_effective_sample"].append(gradients / ess)
        out["rhat"].append(float(result.rhat[0]))
        out["divergences"].append(int(result.divergences[0]))
        print(f"  single rung n={target:g}: lambda {out['learning_coefficient'][-1]:.3f} +- "
              f"{out['learning_coefficient_mcse'][-1]:.3f} ({seconds:.1f} s)", flush=True)
    return out


def run_smc(args) -> dict:
    """BlackJAX adaptive tempered SMC from the prior to each target n, tuned HMC moves.

    The HMC moves are tuned from the particles as BlackJAX's `inner_kernel_tuning`
    recommends (Buchholz, Chopin and Jacob 2021, section 3.1): after every tempering step
    the inverse mass matrix is the particles' covariance (dense: the readouts are strongly
    correlated) and the step size follows the mean acceptance rate towards 0.65.
    """
    import blackjax
    import jax
    from blackjax.smc.tuning.from_particles import particles_covariance_matrix

    model = model_for(args)
    out = {"n": [], "learning_coefficient": [], "learning_coefficient_se": [],
           "log_evidence": [], "seconds": [], "tempering_steps": [],
           "gradient_evaluations": [], "final_step_size": [], "final_acceptance": [],
           "particles": args.smc_particles, "num_mcmc_steps": args.smc_mcmc_steps,
           "integration_steps": SMC_INTEGRATION_STEPS, "target_ess": 0.5,
           "tuning": "inverse mass = particle covariance; step size *= "
                     "exp(mean acceptance - 0.65), from 0.5"}
    for target in args.targets:
        key = jax.random.key(args.seed)
        init_key, key = jax.random.split(key)
        particles = jax.vmap(model.sample_prior)(
            jax.random.split(init_key, args.smc_particles))
        run = _smc_runner(blackjax, model, target, args.smc_mcmc_steps,
                          particles_covariance_matrix)
        start = time.perf_counter()
        _, state, step_size, acceptance, log_z, count = jax.block_until_ready(
            run(key, particles))
        seconds = time.perf_counter() - start
        energies = jax.vmap(model.energy)(state.particles)
        weights = np.asarray(state.weights)
        mean = float(np.sum(weights * energies))
        spread = float(np.sqrt(np.sum(weights * (np.asarray(energies) - mean) ** 2)))
        out["n"].append(target)
        out["learning_coefficient"].append(target * mean)
        # Naive particle standard error (resampled particles are correlated: optimistic).
        out["learning_coefficient_se"].append(target * spread / math.sqrt(args.smc_particles))
        out["log_evidence"].append(float(log_z))
        out["seconds"].append(seconds)  # includes the compile of this target's loop
        out["tempering_steps"].append(int(count))
        out["gradient_evaluations"].append(
            int(count) * args.smc_particles * args.smc_mcmc_steps * SMC_INTEGRATION_STEPS)
        out["final_step_size"].append(float(step_size))
        out["final_acceptance"].append(float(acceptance))
        print(f"  smc n={target:g}: lambda {target * mean:.3f}, {int(count)} steps, "
              f"acceptance {float(acceptance):.2f} ({seconds:.1f} s)", flush=True)
    return out


def _smc_runner(blackjax, model, target, num_mcmc_steps, covariance):
    """Jitted loop: tuned SMC steps until the tempering parameter reaches 1, summing log Z."""
    import jax
    import jax.numpy as jnp

    def smc_for(step_size, inverse_mass):
        # Leading axis of length 1: one value shared by every particle (BlackJAX rule).
        parameters = {"step_size": step_size[None], "inverse_mass_matrix": inverse_mass[None],
                      "num_integration_steps": jnp.array([SMC_INTEGRATION_STEPS])}
        return blackjax.adaptive_tempered_smc(
            model.log_prior, lambda p: -target * model.energy(p),
            blackjax.hmc.build_kernel(), blackjax.hmc.init, parameters,
            blackjax.smc.resampling.systematic, 0.5, num_mcmc_steps=num_mcmc_steps)

    @jax.jit
    def run(key, particles):
        def cond(carry):
            return carry[1].tempering_param < 1.0

        def body(carry):
            key, state, step_size, _, log_z, count = carry
            key, step_key = jax.random.split(key)
            inverse_mass = covariance(state.particles)
            state, info = smc_for(step_size, inverse_mass).step(step_key, state)
            acceptance = jnp.mean(info.update_info.acceptance_rate)
            step_size = step_size * jnp.exp(acceptance - 0.65)
            return key, state, step_size, acceptance, log_z + info.log_likelihood_increment, \
                count + 1

        state = smc_for(jnp.array(0.5), jnp.eye(model.num_params)).init(particles)
        return jax.lax.while_loop(
            cond, body, (key, state, jnp.array(0.5), jnp.array(0.0), 0.0, 0))

    return run


def run_sgld(args) -> dict:
    """devinterp SGLD at each target n (float64, full batch over the quadrature nodes)."""
    import torch
    from devinterp.optim import SGMCMC

    torch.set_default_dtype(torch.float64)
    torch.manual_seed(args.seed)
    model = model_for(args)
    points = torch.tensor(np.asarray(model.rule.points)[:, 0])
    weights = torch.tensor(np.asarray(model.rule.root_weights) ** 2)  # q_j, sum to 1

    class TanhNetwork(torch.nn.Module):
        def __init__(self, width):
            super().__init__()
            self.readout = torch.nn.Parameter(torch.zeros(width))  # w* = 0
            self.weights = torch.nn.Parameter(torch.zeros(width))

        def forward(self, x):
            return torch.tanh(x[:, None] * self.weights[None, :]) @ self.readout

    def population_loss(network):
        return 0.5 * torch.sum(weights * network(points) ** 2)

    out = {"n": [], "step_size_factor": [], "lr": [], "learning_coefficient": [],
           "learning_coefficient_se": [], "chain_std": [], "ess": [], "seconds": [],
           "gradient_evaluations": [], "chains": args.sgld_chains, "draws": args.sgld_draws,
           "localization": 1.0, "burnin": 0, "prefix_draws": [], "prefix": []}
    prefixes = sorted({d for d in SGLD_PREFIXES if d < args.sgld_draws} | {args.sgld_draws})
    for target in args.targets:
        for factor in args.sgld_step_factors:
            # The step is eps = factor / (n * top Gram eigenvalue ~ H/2 + 1): Euler-Maruyama
            # is stable for eps * curvature < 2; the bias of SGLD grows with eps.
            lr = factor / (target * 0.5 * args.width + 1.0)
            traces = np.empty((args.sgld_chains, args.sgld_draws))
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for chain in range(args.sgld_chains):
                    network = TanhNetwork(args.width)
                    optimizer = SGMCMC.sgld(network.parameters(), lr=lr, nbeta=target,
                                            localization=1.0)
                    init_loss = float(population_loss(network))
                    for step in range(args.sgld_draws):
                        optimizer.zero_grad()
                        loss = population_loss(network)
                        loss.backward()
                        optimizer.step()
                        traces[chain, step] = loss.item()
            seconds = time.perf_counter() - start
            # devinterp.slt.llc.compute_llc: nbeta * (mean over every step - init loss).
            # A run stopped after d steps would have returned the same on traces[:, :d],
            # so the prefixes show how the estimate converges with the step budget.
            prefix = []
            for draws in prefixes:
                value, se, ess = _sgld_estimate(traces[:, :draws], target, init_loss)
                prefix.append({"draws": draws, "learning_coefficient": value,
                               "learning_coefficient_se": se, "ess": ess,
                               "seconds": seconds * draws / args.sgld_draws})
            value, se, ess = prefix[-1]["learning_coefficient"], prefix[-1][
                "learning_coefficient_se"], prefix[-1]["ess"]
            out["n"].append(target)
            out["step_size_factor"].append(factor)
            out["lr"].append(lr)
            out["learning_coefficient"].append(value)
            out["learning_coefficient_se"].append(se)
            out["chain_std"].append(float(np.std(target * (traces.mean(axis=1) - init_loss))))
            out["ess"].append(ess)
            out["seconds"].append(seconds)
            out["gradient_evaluations"].append(args.sgld_chains * args.sgld_draws)
            out["prefix"].append(prefix)
            print(f"  sgld n={target:g} eps*nH/2={factor}: lambda "
                  + ", ".join(f"{p['learning_coefficient']:.3f} ({p['draws']})" for p in prefix)
                  + f" +- {se:.3f} ({seconds:.1f} s)", flush=True)
    out["prefix_draws"] = prefixes
    return out


def _sgld_estimate(traces: np.ndarray, n: float, init_loss: float) -> tuple:
    """devinterp's lambda-hat n (mean loss - initial loss) with efftheory's ESS-based MCSE."""
    value = float(n * (traces.mean() - init_loss))
    if not np.all(np.isfinite(traces)):
        return value, math.nan, math.nan
    _, mcse = mean_and_mcse(traces)  # the same MCSE as for NUTS
    return value, float(n * mcse), float(traces.var() / mcse**2)


def scan_cost(args) -> dict:
    """Time per NUTS step and per gradient against width and rungs; compile split out."""
    out = {"width": [], "rungs": []}

    def timed(width, rungs):
        model = et.load_model("learning-zero-small", width=width, n_max=1e4)
        n_ladder = geometric_ladder(1.0, 1e4, rungs, include_prior=True)
        kwargs = dict(chains=2, draws=args.scan_draws, warmup=args.scan_draws, seed=args.seed,
                      store_positions=False, progress=False, max_tree_depth=6)
        times = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)
            for _ in range(2):  # the second call finds the compiled kernels in JAX's cache
                start = time.perf_counter()
                result = et.sample(model, n_ladder, **kwargs)
                times.append(time.perf_counter() - start)
        steps = 2 * args.scan_draws * 2  # chains x (warmup + draws), all rungs vmapped
        gradients = float(result.inference_data.sample_stats["n_steps"].values.sum()) * 2
        return {"width": width, "rungs": rungs, "quadrature_nodes": model.quadrature.num_nodes,
                "first_call_seconds": times[0], "warm_call_seconds": times[1],
                "compile_seconds": times[0] - times[1],
                "seconds_per_vmapped_step": times[1] / steps,
                "seconds_per_gradient_per_replica": times[1] / gradients}

    for width in args.scan_widths:
        out["width"].append(timed(width, 4))
        print(f"  scan width {width}: {out['width'][-1]}", flush=True)
    for rungs in args.scan_rungs:
        out["rungs"].append(timed(16, rungs))
        print(f"  scan rungs {rungs}: {out['rungs'][-1]}", flush=True)
    return out


def run_method(args) -> None:
    name = args.method
    start = time.perf_counter()
    if name == "replica_exchange":
        payload = run_efftheory(args, swap=True)
    elif name == "independent":
        payload = run_efftheory(args, swap=False)
    elif name == "single_rung":
        payload = run_single_rung(args)
    elif name == "reference":
        if args.width <= 2:
            rungs = ladder(args)[1:]
            payload = {"n": rungs.tolist(), "kind": "exact",
                       "learning_coefficient":
                           np.atleast_1d(et.exact.learning_coefficient(model_for(args), rungs))
                           .tolist(),
                       "learning_coefficient_mcse": [0.0] * len(rungs)}
        else:
            payload = run_efftheory(args, swap=True, form="collapsed",
                                    scale=args.reference_scale)
            payload["kind"] = "collapsed readout, replica-exchange NUTS"
    elif name == "smc":
        payload = run_smc(args)
    elif name == "sgld":
        payload = run_sgld(args)
    elif name == "scan":
        payload = scan_cost(args)
    else:
        raise ValueError(f"unknown method {name!r}; choose from {METHODS + ('scan',)}")
    payload["process_seconds"] = time.perf_counter() - start
    payload["peak_memory_mib"] = peak_memory_mib()
    atomic_write_json(args.output_dir / f"{name}.json", payload)


def _at(payload: dict, n: float, key: str):
    index = int(np.argmin(np.abs(np.log(np.maximum(payload["n"], 1e-300)) - math.log(n))))
    return payload[key][index]


def _row(base: dict, method: str, payload: dict, value: float, se: float, seconds: float,
         ess_per_second: float, gradients_per_ess: float, **extra) -> dict:
    """One summary row: a method's lambda-hat at one target n against the reference."""
    return {**base, **extra, "method": method, "learning_coefficient": value, "se": se,
            "error": value - base["reference"], "seconds": seconds,
            "ess_per_second": ess_per_second, "gradients_per_effective_sample": gradients_per_ess,
            "peak_memory_mib": payload["peak_memory_mib"]}


def summarize(args, results: dict) -> dict:
    reference = results.get("reference")
    rows = []
    for target in args.targets:
        ref = _at(reference, target, "learning_coefficient") if reference else math.nan
        ref_se = _at(reference, target, "learning_coefficient_mcse") if reference else 0.0

        base = {"n": target, "reference": ref, "reference_se": ref_se}
        row = functools.partial(_row, base)

        for name in ("replica_exchange", "independent"):
            if name in results:
                p = results[name]
                rows.append(row(name, p, _at(p, target, "learning_coefficient"),
                                _at(p, target, "learning_coefficient_mcse"), p["seconds"],
                                _at(p, target, "ess_per_second"),
                                _at(p, target, "gradients_per_effective_sample"),
                                rung_n=_at(p, target, "n")))
        if "single_rung" in results:
            p = results["single_rung"]
            i = p["n"].index(target)
            rows.append(row("single_rung", p, p["learning_coefficient"][i],
                            p["learning_coefficient_mcse"][i], p["seconds"][i],
                            p["ess_per_second"][i], p["gradients_per_effective_sample"][i]))
        if "smc" in results:
            p = results["smc"]
            i = p["n"].index(target)
            rows.append(row("blackjax_smc", p, p["learning_coefficient"][i],
                            p["learning_coefficient_se"][i], p["seconds"][i], math.nan,
                            p["gradient_evaluations"][i] / p["particles"]))
        if "sgld" in results:
            p = results["sgld"]
            for i in (i for i, n in enumerate(p["n"]) if n == target):
                ess = p["ess"][i]
                rows.append(row(f"devinterp_sgld (eps*nH/2={p['step_size_factor'][i]})", p,
                                p["learning_coefficient"][i], p["learning_coefficient_se"][i],
                                p["seconds"][i], ess / p["seconds"][i],
                                p["gradient_evaluations"][i] / ess))
    top = args.targets[-1]
    headline = {}
    if "replica_exchange" in results and "independent" in results:
        headline["top_rung_ess_per_second_ratio_re_over_independent"] = (
            _at(results["replica_exchange"], top, "ess_per_second")
            / _at(results["independent"], top, "ess_per_second"))
    for r in rows:
        # A standard error only buys accuracy if the estimate is consistent with the
        # reference (the validation rule); a biased chain's small SE is not a result.
        spread = math.hypot(r["se"], r["reference_se"])
        r["consistent"] = bool(abs(r["error"]) <= max(0.02 * abs(r["reference"]), 3 * spread))
        goal = 0.02 * abs(r["reference"])  # the target standard error: 2% of lambda(n)
        r["seconds_to_goal_se"] = (r["seconds"] * (r["se"] / goal) ** 2 if r["consistent"]
                                   else math.nan)
    # Time to the same standard error: SGLD (one n per run) against efftheory at that n,
    # both single-n NUTS and the whole replica-exchange ladder (which also gives every
    # other rung and F(n)). Only where both are consistent with the reference.
    for target in args.targets:
        at = {r["method"]: r for r in rows if r["n"] == target}
        for method, row in at.items():
            if not method.startswith("devinterp_sgld"):
                continue
            for ours in ("single_rung", "replica_exchange"):
                if ours in at:
                    headline[f"n={target:g}: seconds to SE goal, {method} / {ours}"] = (
                        row["seconds_to_goal_se"] / at[ours]["seconds_to_goal_se"])
    return {"rows": rows, "headline": headline}


def markdown(args, summary: dict, results: dict, command: str, machine: str) -> str:
    def f(value, digits=3):
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        return f"{value:.{digits}g}"

    ref_kind = results.get("reference", {}).get("kind", "none")
    lines = [f"# Benchmark: learning-zero-small, width {args.width}", "",
             f"    {command}", "",
             f"Reference λ(n): {ref_kind}. Machine: {machine}.", "",
             "SE: MCSE from the ESS (NUTS, SGLD); naive particle SE for SMC. `s to SE = 2%`: "
             "wall seconds scaled by (SE / 2% of the reference)², the time that method "
             "would need for that standard error; shown only where λ̂ is consistent with the "
             "reference (|error| ≤ max(2%, 3·SE)), since more draws do not remove bias "
             "(– otherwise, and a ratio involving it is NaN).", "",
             "| n | method | λ̂ ± SE | reference | error | wall s | ESS/s | grads/ESS | "
             "s to SE = 2% | peak MiB |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in summary["rows"]:
        lines.append(
            f"| {r['n']:g} | {r['method']} | {f(r['learning_coefficient'], 4)} ± "
            f"{f(r['se'], 2)} | {f(r['reference'], 4)} ± {f(r['reference_se'], 2)} | "
            f"{f(r['error'], 2)} | {f(r['seconds'])} | {f(r['ess_per_second'])} | "
            f"{f(r['gradients_per_effective_sample'])} | {f(r['seconds_to_goal_se'])} | "
            f"{f(r['peak_memory_mib'], 4)} |")
    if summary["headline"]:
        finite = {k: v for k, v in summary["headline"].items() if math.isfinite(v)}
        lines += ["", "## Headline ratios (this run)", "", "| ratio | value |", "|---|---|"]
        lines += [f"| {key} | {f(value)} |" for key, value in finite.items()]
        if len(finite) < len(summary["headline"]):
            lines += ["", "No ratio for " + "; ".join(
                k for k in summary["headline"] if k not in finite)
                + ": one side's λ̂ is inconsistent with the reference."]
    if "sgld" in results:
        p = results["sgld"]
        lines += ["", "## devinterp SGLD: the estimate against the step budget", "",
                  "devinterp's estimator on the first d steps of each chain (what a run of d "
                  "steps returns); seconds scaled from the full run.", "",
                  "| n | eps·nH/2 | " + " | ".join(f"d = {d}" for d in p["prefix_draws"])
                  + " |", "|---|---|" + "---|" * len(p["prefix_draws"])]
        for n, factor, prefix in zip(p["n"], p["step_size_factor"], p["prefix"], strict=True):
            cells = [f"{q['learning_coefficient']:.3f} ± {f(q['learning_coefficient_se'], 2)} "
                     f"({q['seconds']:.0f} s)" for q in prefix]
            lines.append(f"| {n:g} | {factor:g} | " + " | ".join(cells) + " |")
    if "smc" in results:
        p = results["smc"]
        lines += ["", "## BlackJAX SMC: the tempering runs", "",
                  f"{p['particles']} particles, {p['num_mcmc_steps']} HMC moves of "
                  f"{p['integration_steps']} leapfrog steps per tempering step; tuning: "
                  f"{p['tuning']}.", "",
                  "| n | tempering steps | final step size | final acceptance | log Z | s |",
                  "|---|---|---|---|---|---|"]
        for i, n in enumerate(p["n"]):
            lines.append(f"| {n:g} | {p['tempering_steps'][i]} | "
                         f"{f(p['final_step_size'][i])} | {f(p['final_acceptance'][i], 2)} | "
                         f"{f(p['log_evidence'][i], 4)} | {f(p['seconds'][i])} |")
    if "single_rung" in results:
        lines += ["", f"single_rung: warm times; a cold start adds the compile, "
                  f"{f(results['single_rung']['compile_seconds'])} s, once."]
    if "scan" in results:
        lines += ["", "## Cost against width and rungs (2 chains, max_tree_depth 6, n <= 1e4)",
                  "", "| width | rungs | nodes | first call s | warm call s | compile s | "
                  "s per vmapped step | s per gradient per replica |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in results["scan"]["width"] + results["scan"]["rungs"]:
            lines.append(f"| {r['width']} | {r['rungs']} | {r['quadrature_nodes']} | "
                         f"{f(r['first_call_seconds'])} | {f(r['warm_call_seconds'])} | "
                         f"{f(r['compile_seconds'])} | {f(r['seconds_per_vmapped_step'])} | "
                         f"{f(r['seconds_per_gradient_per_replica'])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--n-max", type=float, default=1e6)
    parser.add_argument("--targets", type=float, nargs="+", default=[1e2, 1e4, 1e6])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--reference-scale", type=float, default=2.0,
                        help="draws and warmup multiplier for the collapsed reference run")
    parser.add_argument("--smc-particles", type=int, default=1000)
    parser.add_argument("--smc-mcmc-steps", type=int, default=5)
    parser.add_argument("--sgld-chains", type=int, default=4)
    parser.add_argument("--sgld-draws", type=int, default=5000)
    parser.add_argument("--sgld-step-factors", type=float, nargs="+", default=[0.1, 0.01])
    parser.add_argument("--methods", nargs="+", default=list(METHODS) + ["scan"])
    parser.add_argument("--scan-widths", type=int, nargs="+", default=[4, 16, 64, 256, 1024])
    parser.add_argument("--scan-rungs", type=int, nargs="+", default=[4, 8, 16, 32],
                        help="ladder sizes, n = 0 included (at least 3)")
    parser.add_argument("--scan-draws", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report-only", action="store_true",
                        help="rebuild benchmark.json and benchmark.md from the method JSONs "
                             "already in OUTPUT_DIR (after editing the report), running nothing")
    parser.add_argument("--method", help=argparse.SUPPRESS)  # internal: one method, in-process
    args = parser.parse_args(argv)
    if min(args.scan_rungs) < 3:
        parser.error(f"--scan-rungs {args.scan_rungs}: every ladder needs at least 3 rungs "
                     "(n = 0 and two geometric rungs from 1 to 1e4).")
    raw_argv = sys.argv[1:] if argv is None else list(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    if args.method:
        run_method(args)
        return {}
    if args.n_max not in args.targets and max(args.targets) > args.n_max:
        raise ValueError(f"--targets {args.targets} exceed --n-max {args.n_max}.")
    results = {}
    for name in args.methods:
        path = args.output_dir / f"{name}.json"
        if not args.report_only:
            start = time.perf_counter()
            subprocess.run([sys.executable, str(Path(__file__).resolve()), *raw_argv,
                            "--method", name], check=True)
            print(f"{name}: {time.perf_counter() - start:.1f} s", flush=True)
        elif not path.exists():
            continue
        results[name] = json.loads(path.read_text())
    if args.report_only:
        saved = args.output_dir / "benchmark.json"
        if not saved.exists():
            raise FileNotFoundError(f"--report-only needs {saved} from a finished run; run "
                                    "the benchmark without --report-only first.")
        previous = json.loads(saved.read_text())
        command, config = previous["command"], previous["config"]
        machine = previous.get("machine") or describe_machine()
    else:
        command = "python experiments/benchmark/run_benchmark.py " + " ".join(raw_argv)
        config = {k: str(v) for k, v in vars(args).items()}
        machine = describe_machine()
    summary = summarize(args, results)
    payload = {"config": config, "results": results,
               "summary": summary, "command": command, "machine": machine}
    atomic_write_json(args.output_dir / "benchmark.json", payload)
    atomic_write_text(args.output_dir / "benchmark.md",
                      markdown(args, summary, results, command, machine))
    return payload


if __name__ == "__main__":
    main()
