r"""A study: one model card across many decades of n, measured and predicted.

`run_study` is the package's main job (``efftheory run <card>``). For one model it

1. computes the prior mode spectrum: the eigenvalues $\mu_j$ of the network's
   Gaussian-process kernel in the mode basis, $\Sigma_{kl} = H s_a^2 E_w[c_k(w) c_l(w)]$
   (see Concepts);
2. samples the tempered posteriors $p_n \propto e^{-n(L - L_0)}\varphi$ over a ladder of $n$
   with replica-exchange NUTS (`efftheory.sample`), checkpointing every chunk;
3. estimates $\hat\lambda(n)$ with its Monte Carlo standard error and $F(n)$ by
   thermodynamic integration;
4. sets beside them the effective prediction (the free theory with the width's rank cap,
   $\lambda_{eff}(n) = \tfrac12\sum_{j\le H} n\mu_j/(1 + n\mu_j)$, and its staircase),
   the *quenched* prior average $\lambda_q(n) = E_{w\sim\varphi}[\tfrac12\sum_j
   x_j/(1 + x_j)]$, $x_j = n s_a^2\,\mathrm{eig}_j G(w)$ (the exact collapsed integrand of
   `CollapsedNetworkModel` averaged over the prior instead of the posterior of $w$; by concavity
   $\lambda_q \le \lambda_{eff}$, Jensen), and the geometric values (global RLCT and the
   generic-stratum value); it fits
   $\hat\lambda \approx \alpha(\log n)^p$ and $\hat\lambda \approx \lambda - (m-1)/\log n$,
   and finds the crossover $n^*$ at which the effective prediction reaches each
   geometric value (the predictions need a two-layer network and a card's known
   values: for any other model, your own included, the summary's ``theory_absent`` and
   the report say which are missing and why; `efftheory.study._absent`);
5. writes everything to the output folder: ``sampling/inference_data.nc``,
   ``summary.json``, ``summary.csv``, ``spectrum.png``, ``learning_coefficient.png``,
   ``free_energy.png`` and ``report.md``.

A study is a pure function of its configuration and seed: rerunning it in the same folder
with the same configuration resumes the sampling checkpoint instead of starting over; with
any other configuration it refuses, naming the differences (``restart=True`` discards the
old run). ``status.json`` says whether the study finished
(`efftheory.study._results_folder`).
"""

from ._config import PRESETS as PRESETS
from ._config import StudyConfig as StudyConfig
from ._config import study_config as study_config
from ._run import run_study as run_study
