r"""WBIC: the free energy from one posterior at inverse temperature $1/\log n$.

Watanabe's widely applicable Bayesian information criterion for $n$ data points is the
posterior mean of $n$ times the loss at inverse temperature $\beta = 1/\log n$, i.e. at the
tempered sample size $n/\log n$:

$$\mathrm{WBIC}(n) = n\,E_{n/\log n}[L], \qquad
E_{n'}[\,\cdot\,] = \frac{\int \cdot\; e^{-n'(L - L_0)}\varphi}{\int e^{-n'(L - L_0)}\varphi}.$$

It estimates the free energy $F^{abs}(n) = -\log\int e^{-nL}\varphi$: both have the
expansion $nL(\theta_0) + \lambda\log n + \dots$ — for $F^{abs}$ with
$-(m-1)\log\log n + O_p(1)$ after it, for WBIC with $U_n\sqrt{\lambda\log n/2} + O_p(1)$,
where $U_n$ is a random variable of mean $\to 0$ for regular models but not in general
(S. Watanabe 2013, *A widely applicable Bayesian information criterion*, JMLR 14:867-897,
the definition of WBIC and its main theorem; T. Imai 2019, *On the overestimation of
widely applicable Bayesian information criterion*, arXiv:1908.10572, for the $O_p(1)$ bias
through the singular fluctuation).

efftheory's free energy is measured from $nL_0$: $F(n) = -\log\int e^{-n(L - L_0)}\varphi
= F^{abs}(n) - nL_0$. Subtracting the same $nL_0$ from WBIC,

$$\mathrm{WBIC}(n) - nL_0 = n\,E_{n/\log n}[L - L_0] = \log n\cdot\hat\lambda(n/\log n),$$

which is what `WBIC.free_energy` holds and what is compared with the ladder's $F(n)$
(thermodynamic integration, `SamplingResult.free_energy`). For the empirical network model
$L_0 = L_N(\theta_0)$, so this is Watanabe's normalized WBIC, WBIC $- nS_n$; and since
efftheory's losses drop the Gaussian likelihood's constant, Watanabe's WBIC of the model
$y \sim N(f_\theta(x), 1)$ is `WBIC.wbic` $+ \tfrac n2\log 2\pi$.

For the Gaussian $L = \tfrac c2|\theta|^2$, $\varphi = N(0, s^2 I_d)$, both are exact:
$\mathrm{WBIC} - nL_0 = \tfrac d2\,nc/(nc/\log n + s^{-2})$ and
$F(n) = \tfrac d2\log(1 + ncs^2)$; with $cs^2 = 1$ they differ by
$-\tfrac d2(\log n)^2/n + O((\log n)^3/n^2)$ (`tests/test_wbic.py`).
"""

import dataclasses
import math

import numpy as np

from ..models._card_model import CardModel
from ..models._models import NonlinearTemperingError
from ..models._partition import PartitionFunction
from ._api import sample
from ._local import tempering_ladder
from ._result import SamplingResult


@dataclasses.dataclass(frozen=True, eq=False)
class WBIC:
    r"""WBIC at $n$ and the ladder's $F(n)$ from the same run, with errors and diagnostics.

    `wbic` $= n\,E_{n/\log n}[L]$ (Watanabe's definition with the model's loss);
    `free_energy` $=$ `wbic` $- nL_0 = n\,E_{n/\log n}[L - L_0]$, the WBIC estimate of
    efftheory's $F(n)$; `ladder_free_energy` is $F(n)$ by thermodynamic integration over
    the run's ladder (absolute: the ladder starts at the prior), `ladder_free_energy_err`
    its error (MCSE and discretization). `rhat`, `ess_bulk` and `divergences` are those of
    the rung at $n/\log n$ (`rung`); `sampling` is the whole run.
    """

    n: float
    sampled_n: float
    wbic: float
    wbic_mcse: float
    free_energy: float
    free_energy_mcse: float
    ladder_free_energy: float
    ladder_free_energy_err: float
    loss_minimum: float
    rhat: float
    ess_bulk: float
    divergences: int
    rung: int
    sampling: SamplingResult

    @property
    def difference(self) -> float:
        """`free_energy` − `ladder_free_energy`: WBIC's error as an estimate of $F(n)$."""
        return self.free_energy - self.ladder_free_energy

    @property
    def difference_err(self) -> float:
        """The standard error of `difference` (the two errors in quadrature; they come from
        different rungs of one run, treated as independent as `SamplingResult` does)."""
        return math.hypot(self.free_energy_mcse, self.ladder_free_energy_err)

    @property
    def diagnostics(self) -> tuple[str, ...]:
        """The run's failed diagnostic checks (every rung), as `SamplingResult` reports them."""
        return self.sampling.diagnostics

    def summary(self) -> dict:
        """JSON-ready: the estimates, their errors and the WBIC rung's diagnostics."""
        fields = ("n", "sampled_n", "wbic", "wbic_mcse", "free_energy", "free_energy_mcse",
                  "ladder_free_energy", "ladder_free_energy_err", "loss_minimum", "rhat",
                  "ess_bulk")
        summary = {name: _number(getattr(self, name)) for name in fields}
        return {**summary, "difference": _number(self.difference),
                "difference_err": _number(self.difference_err),
                "divergences": self.divergences, "rung": self.rung,
                "n_ladder": [float(n) for n in self.sampling.n_ladder],
                "diagnostics": list(self.diagnostics)}


def wbic(
    model: PartitionFunction | CardModel,
    n: float | None = None,
    *,
    chains: int = 4,
    warmup: int = 1000,
    draws: int = 1000,
    seed: int = 0,
    rungs_per_decade: float = 2.0,
    progress: bool | None = None,
    **sampler_settings,
) -> WBIC:
    r"""WBIC $= n\,E_{n/\log n}[L]$ and the ladder's $F(n)$, from one replica-exchange run.

    Samples a ladder from the prior ($n = 0$) through $n/\log n$ and $n$ (both rungs
    exactly; `rungs_per_decade` rungs per decade between them, see
    `efftheory.sampling._local.tempering_ladder`) with `efftheory.sample`, and returns a `WBIC`:
    the criterion at $n/\log n$ with its MCSE, $\log n\cdot\hat\lambda(n/\log n)$ as the
    estimate of $F(n)$ (see the module docstring for how the two relate and why they part
    on singular models), and $F(n)$ by thermodynamic integration over the same ladder. `n`
    defaults to the model's `data_size` (an `EmpiricalNetworkModel`: $n = N$ is the
    Bayesian posterior of its data set) and must exceed $e$, so that $n/\log n < n$.
    Other keyword arguments go to `efftheory.sample` (``max_tree_depth``,
    ``target_accept_prob``, ``dense_mass``, ``store_positions``, ...); a `CardModel` is
    sampled as `efftheory.sample` samples it (a ``checkpoint_dir`` records its card).

    (S. Watanabe 2013, *A widely applicable Bayesian information criterion*, JMLR
    14:867-897.)
    """
    sampled = model  # a CardModel goes to `sample` whole, so a run folder records its card
    if isinstance(model, CardModel):
        model = model.model
    if not isinstance(model, PartitionFunction):
        raise TypeError(f"model must be an efftheory.PartitionFunction, got "
                        f"{type(model).__name__}; wrap plain JAX functions in "
                        "efftheory.FunctionModel(loss, log_prior, sample_prior, num_params).")
    if not model.linear_in_inverse_temperature:
        raise NonlinearTemperingError(
            f"WBIC is n times the mean loss at n/log n, but {type(model).__name__} is not "
            "tempered as n(L - L0) (e.g. the collapsed readout has no loss of its position): "
            "build the raw-weight model (the card's default form).")
    n = _check_n(model, n)
    if sampler_settings.get("adapt_ladder"):
        raise ValueError("adapt_ladder=True moves the interior rungs, so n/log n would no "
                         "longer be sampled exactly; leave adapt_ladder off for WBIC.")
    sampled_n = n / math.log(n)
    ladder = tempering_ladder(np.array([sampled_n, n]), rungs_per_decade)
    result = sample(sampled, ladder, chains=chains, warmup=warmup, draws=draws, seed=seed,
                    progress=progress, **sampler_settings)
    rung, top = (int(np.searchsorted(result.n_ladder, value)) for value in (sampled_n, n))
    assert result.n_ladder[rung] == sampled_n and result.n_ladder[top] == n, result.n_ladder
    free_energy = n * float(result.mean_energy[rung])
    free_energy_mcse = n * float(result.mean_energy_mcse[rung])
    return WBIC(
        n=n,
        sampled_n=sampled_n,
        wbic=free_energy + n * float(model.loss_minimum),
        wbic_mcse=free_energy_mcse,
        free_energy=free_energy,
        free_energy_mcse=free_energy_mcse,
        ladder_free_energy=float(result.free_energy[top]),
        ladder_free_energy_err=float(result.free_energy_err[top]),
        loss_minimum=float(model.loss_minimum),
        rhat=float(result.rhat[rung]),
        ess_bulk=float(result.ess_bulk[rung]),
        divergences=int(result.divergences[rung]),
        rung=rung,
        sampling=result,
    )


def _check_n(model: PartitionFunction, n) -> float:
    if n is None:
        n = getattr(model, "data_size", None)
        if n is None:
            raise ValueError(f"n is required: {type(model).__name__} has no data set whose "
                             "size would be the default; pass wbic(model, n).")
    if isinstance(n, bool) or not isinstance(n, int | float | np.integer | np.floating):
        raise ValueError(f"n must be a number (a sample size), got {n!r}.")
    if not (math.isfinite(n) and n > math.e):
        raise ValueError(f"n must be finite and above e = 2.718... (WBIC samples at n/log n, "
                         f"below n only when log n > 1), got n = {n!r}.")
    return float(n)


def _number(value) -> float | None:
    return float(value) if np.isfinite(value) else None

