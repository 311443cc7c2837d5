"""Bayesian optimisation on scikit-optimize's surrogates: the ``bayesian`` searcher (alias ``skopt``).

Order of suggestions: the problem's starting points (defaults first, see
:class:`~.base.Searcher`), then ``initial_points`` draws from the priors, then
the surrogate model, which works in the shared unit-cube encoding
(:mod:`hpsearch.search.encoding`; fixed and single-valued dimensions left out,
inactive dimensions of a conditional space held at a constant outside the
cube; forbidden proposals are skipped).

Surrogates: ``GP`` (default) is a Gaussian process with skopt's default
kernel (constant x Matern 5/2 with one length scale per column, plus white
noise) on standardised losses; ``RF``/``ET``/``GBRT`` are scikit-optimize's
tree models. The acquisition (``EI``, ``PI``, ``LCB`` or skopt's portfolio
``gp_hedge``) is minimised over a bounded candidate set: random points, local
perturbations of the best evaluations, and two rounds of shrinking
perturbations around the best candidates.

Keeping a suggestion cheap as data grows (measured by
``tests/perf/bench_bayesian.py``): the GP's kernel hyperparameters are
re-optimised by maximum likelihood (warm-started from the previous ones) only
on a schedule, after every observation up to 10 and then each time the data
has grown by 10 %; in between, the posterior is a single Cholesky solve with
the previous hyperparameters. Past ``max_train`` observations (default 300)
the GP is fitted on that many of them: the best half and a fixed random
sample of the rest (:mod:`.training`), so a suggestion costs about the same
at 2,000 observations as at 300, pending configurations included. All model
work happens in :meth:`suggest`; :meth:`observe` only records.

Multi-fidelity (under hyperband or asha, e.g. ``--algo bohb --searcher
bayesian`` or ``--algo asha --searcher bayesian``): as in BOHB, the model is
fitted on the observations of the *largest budget that has at least
``d + 2`` successes* (d = free dimensions, as the ``kde`` searcher counts
them: a categorical choice is one, however many one-hot columns it takes),
and ``random_fraction`` of the proposals (default 1/3 under a multi-fidelity
scheduler, 0 otherwise) are random draws, which keeps exploring while low
budgets mislead; configurations that start at the full budget always come
from the model (:meth:`~.base.Searcher.draw_at_random`). With ``--fidelities
all`` (:mod:`.fidelities`), while no budget has ``d + 2`` successes, the model
is fitted on every budget's observations instead of waiting: their losses as
normal scores of their ranks within their budget, each point given an extra
noise variance ``1 / w - 1`` for its budget's weight ``w`` (its rank agreement
with the largest budget; a budget of weight 0 is left out, and the tree
surrogates, which take no per-point noise, only see that), from as soon as all
budgets together hold ``d + 2`` successes.

Multi-objective problems (the loss is a tuple), two or three objectives
(``mo_acquisition="ehvi"``, the default): a model per objective and the
candidate of largest exact expected hypervolume improvement (:mod:`.ehvi`),
candidates as for one objective with the front's points perturbed. With
``mo_acquisition="parego"``, with four objectives or more, or when no
candidate improves in expectation: ParEGO (Knowles 2006). Before
each model proposal a weight vector is taken (two objectives: a golden-ratio
sequence from a seeded random start) and the model is fitted on the augmented
Chebyshev scalarisation of the losses, normalised per objective by the current
front's range (:mod:`.scalarise`); everything else
(candidates, acquisition, failures, the constant liar) is as for one objective.

Warm start from earlier runs (``hps run --warm-from``): their evaluations are
observations like this run's own, filed under their budgets; they stand in for
as many of the ``initial_points`` random draws (for all of them once some budget
has enough for the model), the ``warm_incumbents`` best are evaluated again
first (:meth:`~.base.Searcher.warm_start`), and the model proposes none of their
configurations itself.

Policies:

* Failed and timed-out evaluations are told to the model as the worst loss
  seen so far among successes at that budget (recomputed at every fit), so the
  model learns to avoid the region without a made-up scale; until a first
  success exists they are only remembered.
* Parallel asks use a constant liar, "CL-mean": every pending suggestion,
  including earlier ones of the same batch, is added to the model with the
  mean observed loss as its value (added to the bounded training set past
  ``max_train``). (skopt's default lie, the best loss, made
  the model propose near-duplicates within a batch in our tests; the mean
  pushes batch members apart.) The lie only depends on the sequence of asks
  and tells, so a replay on resume reproduces it exactly.
* ``gp_hedge`` keeps skopt's gains, measured in standardised units so the
  choice does not depend on the objective's scale.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ...problem import pareto
from ...problem.space import HpProblem
from ...seeding import mix_seed
from ..encoding import EncodedSpace, config_key
from ..options import Option
from ..prior import pibo_weight
from . import ehvi, scalarise
from .base import (
    FIDELITIES_OPTION,
    NOT_READY,
    PRIOR_OPTION,
    RANDOM_FRACTION_OPTION,
    WARM_INCUMBENTS_OPTION,
    Searcher,
    Taken,
    model_budget,
)
from .fidelities import POOLED, budget_scores, budget_weights
from .training import training_subset

__all__ = ["BayesianSearcher", "ESTIMATORS", "ACQ_FUNCS", "MO_ACQUISITIONS", "one_blas_thread"]

ESTIMATORS = ("GP", "RF", "ET", "GBRT")
ACQ_FUNCS = ("gp_hedge", "EI", "PI", "LCB")
MO_ACQUISITIONS = ("ehvi", "parego")

# Candidate set for the acquisition (per suggestion).
_N_RANDOM = 1000
_N_BEST = 5            # best evaluations perturbed locally
_N_PER_BEST = 100
_LOCAL_SCALES = (0.15, 0.05)
_REFINE_SCALES = (0.02, 0.005)
_N_REFINE_TOP = 3
_N_PER_REFINE = 100
_N_FRONT_CENTRES = 20  # several objectives (EHVI): front points perturbed locally

#: default of ``max_train``: the most observations the GP is fitted on.
MAX_TRAIN = 300


# -- surrogates --------------------------------------------------------------------------
class _GP:
    """GP posterior with hyperparameters re-optimised on a schedule (see the module docstring)."""

    def __init__(self, n_cols: int):
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        self.kernel = (ConstantKernel(1.0, (0.01, 1000.0))
                       * Matern(length_scale=np.ones(n_cols), length_scale_bounds=[(0.01, 100.0)] * n_cols,
                                nu=2.5)
                       + WhiteKernel(1e-2, (1e-6, 1.0)))
        self._next_fit = 0
        self._n_restarted = 0

    def fit_hyper(self, X: np.ndarray, y: np.ndarray, seed: int, n: int | None = None,
                  noise: np.ndarray | None = None) -> None:
        """Re-optimise the kernel hyperparameters on ``X, y`` when the schedule says so.

        ``n`` counts the observations the schedule follows (default ``len(y)``;
        more when ``X, y`` is a subset of them); ``noise``: each point's variance
        beyond the kernel's white noise (None: none). Each fit starts from the
        previous hyperparameters; random restarts are added on the first fit
        and whenever the data has doubled since the last fit that had them.
        """
        n = len(y) if n is None else n
        if n < self._next_fit:
            return
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor

        restarts = 0
        if n >= 2 * self._n_restarted:
            restarts, self._n_restarted = 2, max(n, 1)
        alpha = 1e-10 if noise is None else noise + 1e-10
        gpr = GaussianProcessRegressor(kernel=self.kernel, alpha=alpha, normalize_y=False, optimizer=_lbfgs,
                                       n_restarts_optimizer=restarts,
                                       random_state=np.random.RandomState(seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                gpr.fit(X, y)
                self.kernel = gpr.kernel_
            except (np.linalg.LinAlgError, ValueError):
                pass  # keep the previous hyperparameters
        self._next_fit = n + 1 if n < 10 else n + max(1, n // 10)

    def condition(self, X: np.ndarray, y: np.ndarray, noise: np.ndarray | None = None) -> None:
        """The posterior given data (``noise``: each point's extra variance), with the current
        hyperparameters."""
        from scipy.linalg import cho_solve, cholesky, solve_triangular

        signal, white = self.kernel.k1, self.kernel.k2
        self._amp = float(signal.k1.constant_value)
        self._scale = np.asarray(signal.k2.length_scale, dtype=float)
        self._Xs = X / self._scale
        K = self._matern(self._Xs)
        jitter = float(white.noise_level) + 1e-10
        extra = np.diag(noise) if noise is not None else 0.0
        while True:
            try:
                L = cholesky(K + extra + jitter * np.eye(len(X)), lower=True, check_finite=False)
                break
            except np.linalg.LinAlgError:
                jitter *= 100
        self._alpha = cho_solve((L, True), y, check_finite=False)
        # L^-1 once, so that each prediction's variance is a matrix product, not a triangular solve
        self._Linv_T = solve_triangular(L, np.eye(len(X)), lower=True, check_finite=False).T

    def _matern(self, A: np.ndarray, B: np.ndarray | None = None) -> np.ndarray:
        """amplitude x Matern 5/2 between already length-scaled points (what sklearn computes)."""
        from scipy.spatial.distance import cdist

        r = cdist(A, A if B is None else B)
        r *= math.sqrt(5.0)
        k = r * r
        k *= 1.0 / 3.0
        k += r
        k += 1.0
        np.negative(r, out=r)
        np.exp(r, out=r)
        k *= r
        k *= self._amp
        return k

    def predict(self, Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Ks = self._matern(Xc / self._scale, self._Xs)
        mu = Ks @ self._alpha
        V = Ks @ self._Linv_T
        var = self._amp - np.einsum("ij,ij->i", V, V)
        return mu, np.sqrt(np.maximum(var, 1e-12))


class _Trees:
    """scikit-optimize's RF / ET / GBRT surrogates (refit on every conditioning)."""

    def __init__(self, name: str):
        self.name = name
        self._seed = 0

    def fit_hyper(self, X: np.ndarray, y: np.ndarray, seed: int, n: int | None = None,
                  noise: np.ndarray | None = None) -> None:
        self._seed = seed

    def condition(self, X: np.ndarray, y: np.ndarray, noise: np.ndarray | None = None) -> None:
        # trees take no per-point noise: a budget's weight only drops it at 0 (see fidelities)
        from skopt.utils import cook_estimator

        self._est = cook_estimator(self.name, random_state=self._seed % (2**31))
        if self.name != "GBRT":
            self._est.set_params(n_jobs=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._est.fit(X, y)

    def predict(self, Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.name == "GBRT":
            # skopt's own return_std path calls np.in1d, removed in numpy 2.4.
            q = self._est.predict(Xc, return_quantiles=True)  # quantiles 0.16, 0.5, 0.84
            return q[:, 1], np.maximum((q[:, 2] - q[:, 0]) / 2.0, 1e-12)
        mu, sd = self._est.predict(Xc, return_std=True)
        return mu, np.maximum(sd, 1e-12)


def _condition(model: Any, X: np.ndarray, y: np.ndarray, noise: np.ndarray | None) -> None:
    """``model.condition``, given per-point noise only when there is some (``--fidelities all``)."""
    if noise is None:
        model.condition(X, y)
    else:
        model.condition(X, y, noise)


def _lbfgs(obj_func: Any, theta: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, float]:
    """sklearn's default optimiser with an iteration cap (warm starts converge well before it)."""
    from scipy.optimize import minimize

    res = minimize(obj_func, theta, method="L-BFGS-B", jac=True, bounds=bounds, options={"maxiter": 50})
    return res.x, float(res.fun)


def _acquisition(name: str, mu: np.ndarray, sd: np.ndarray, best: float, xi: float,
                 kappa: float) -> np.ndarray:
    """Values to minimise (negated EI / PI, LCB) in standardised units."""
    from scipy.special import ndtr

    if name == "LCB":
        return mu - kappa * sd
    z = (best - xi - mu) / sd
    if name == "PI":
        return -ndtr(z)
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return -((best - xi - mu) * ndtr(z) + sd * pdf)


# -- the searcher ------------------------------------------------------------------------
class BayesianSearcher(Searcher):
    """scikit-optimize surrogates (GP, RF, ET, GBRT) over the shared encoded space.

    Starting points, then ``initial_points`` random draws, then the model; under
    a multi-fidelity scheduler the model is fitted on the largest budget with
    enough observations (see the module docstring).
    """

    name = "bayesian"
    model_based = True
    OPTIONS = (
        Option("initial_points", int, 10,
               "Bayesian: random points after the starting points, before the model is used.", least=0),
        Option("base_estimator", str, "GP", "Bayesian: the surrogate model.", choices=ESTIMATORS),
        Option("acq_func", str, "gp_hedge", "Bayesian: the acquisition function.", choices=ACQ_FUNCS),
        Option("kappa", float, 1.96, "Bayesian: exploration of LCB.", least=0.0),
        Option("xi", float, 0.01, "Bayesian: exploration of EI and PI, in the objective's units.",
               least=0.0),
        Option("max_train", int, MAX_TRAIN,
               "Bayesian: the most observations the Gaussian process is fitted on; past it, the best half "
               "and a fixed random sample of the rest.", least=2),
        Option("mo_acquisition", str, "ehvi",
               "Bayesian, two or three objectives: expected hypervolume improvement with a model per "
               "objective (ehvi) or ParEGO's random scalarisations (parego); more objectives use parego.",
               choices=MO_ACQUISITIONS),
        RANDOM_FRACTION_OPTION,
        WARM_INCUMBENTS_OPTION,
        PRIOR_OPTION,
        FIDELITIES_OPTION,
    )

    def __init__(self, problem: HpProblem, seed: int | None, multi_fidelity: bool = False,
                 **options: Any):
        super().__init__(problem, seed, multi_fidelity, **options)
        o = self.options
        self._random_left = int(o["initial_points"])
        self._enc = EncodedSpace(problem)
        self._least = self._enc.n_groups + 2 if multi_fidelity else 2
        self._estimator = o["base_estimator"]
        self._models: dict[Any, Any] = {}  # budget -> surrogate (its hyperparameters persist)
        self._obs: dict[Any, tuple[list[np.ndarray], list[float | None]]] = {}
        self._keys: dict[Any, list[str]] = {}  # budget -> the observed configurations' keys, in order
        self._asked: set[str] = set()
        self._gains = np.zeros(3)
        self._hedge_prev: np.ndarray | None = None
        self._prepared: dict | None = None
        self._weights: np.ndarray | None = None  # a multi-objective problem: this proposal's ParEGO weights
        self._weight_stream = scalarise.WeightStream(len(problem.objectives))
        m = len(problem.objectives)
        self._ehvi = m > 1 and m <= ehvi.MAX_OBJECTIVES and o["mo_acquisition"] == "ehvi"

    # -- suggest / observe -------------------------------------------------------------
    def suggest(self, n: int = 1, stream: tuple[int, ...] | None = None,
                full_budget: bool = False) -> list[dict]:
        # The matrices are small: BLAS threads only add contention (10x slower on a busy machine).
        with one_blas_thread():
            out = super().suggest(n, stream, full_budget)
        self._asked.update(config_key(c) for c in out)
        return out

    def _begin(self) -> None:
        self._prepared = None

    def results_needed(self) -> int | None:
        # --fidelities all: results at every budget count, so no budget needs d + 2 of its own
        return self._least if self.multi_fidelity and self._enc.n_cols and not self.pooled else None

    def _fitted_on(self) -> Any:
        """The budget the model is fitted on: the largest with ``d + 2`` successes, else
        :data:`~.fidelities.POOLED` (``--fidelities all``: every budget, once they hold ``d + 2``
        successes together), else :data:`NOT_READY`."""
        if not self._enc.n_cols:
            return NOT_READY
        budget = model_budget(self._obs, self._least)
        if budget is NOT_READY and self.pooled:
            n = sum(v is not None for _, ys in self._obs.values() for v in ys)
            return POOLED if n >= self._least else NOT_READY
        return budget

    def _propose(self) -> dict:
        budget = self._fitted_on()
        if self._random_left > 0 or budget is NOT_READY:
            self._random_left = max(self._random_left - 1, 0)
            return self.random_draw(self.rng, Taken(self._asked, self.pending))
        if self.draw_at_random():
            return self.random_draw(self.rng, Taken(self._asked, self.pending))
        if self._ehvi and budget is not POOLED:  # EHVI needs one budget's values; pooled ranks: ParEGO
            found = self._suggest_ehvi(budget)
            if found is not None:
                return found
        if self.problem.multi_objective:  # ParEGO: a scalarisation of its own for every proposal
            self._weights = self._weight_stream.next(self.rng)
            self._prepared = None
        if self._prepared is None or self._prepared["budget"] != budget:
            self._prepared = self._prepare(budget)
        return self._suggest(self._prepared)

    def _learn(self, config: dict, budget: Any, loss: float | tuple[float, ...] | None) -> None:
        X, y = self._obs.setdefault(budget, ([], []))
        X.append(self._enc.encode(config))
        y.append(scalarise.usable(loss))
        self._keys.setdefault(budget, []).append(config_key(config))

    def _warmed(self, configs: list[dict]) -> None:
        # earlier runs' evaluations stand in for the initial random points (all of them once the model
        # has enough to fit at some budget), and are not proposed again
        ready = self._fitted_on() is not NOT_READY
        self._random_left = 0 if ready else max(self._random_left - len(configs), 0)
        self._asked.update(config_key(c) for c in configs)

    # -- model -------------------------------------------------------------------------
    def _model(self, budget: Any) -> Any:
        if budget not in self._models:
            self._models[budget] = (_GP(self._enc.n_cols) if self._estimator == "GP"
                                    else _Trees(self._estimator))
        return self._models[budget]

    def _prepare(self, budget: Any) -> dict:
        """Training data in standardised units, hyperparameters, gp_hedge's gains: once per ask."""
        if budget is POOLED:
            X, yn, noise = self._pooled_data()
            best, std = float(yn.min()), 1.0
        else:
            Xs, ys = self._obs[budget]
            if self._weights is not None:  # multi-objective: this proposal's augmented Chebyshev values
                ys = scalarise.chebyshev(ys, self._weights)
            ok = [y for y in ys if y is not None]
            worst, lowest = max(ok), min(ok)
            y = np.array([worst if v is None else v for v in ys])
            mean, std = float(y.mean()), float(y.std())
            std = std if std > 0 else 1.0
            yn = (y - mean) / std
            X, noise, best = np.array(Xs), None, (lowest - mean) / std
        Xt, yt, nt = X, yn, noise  # what the model is fitted on
        if self._estimator == "GP":
            idx = training_subset(yn, self.options["max_train"], mix_seed(self.seed or 0, -1))
            if idx is not None:
                Xt, yt, nt = X[idx], yn[idx], None if noise is None else noise[idx]
        model = self._model(budget)
        model.fit_hyper(Xt, yt, seed=mix_seed(self.seed or 0, len(yn)), n=len(yn), noise=nt)
        conditioned = False
        if self.options["acq_func"] == "gp_hedge" and self._hedge_prev is not None:
            _condition(model, Xt, yt, nt)
            self._gains -= model.predict(self._hedge_prev)[0]
            conditioned = True
        return {"budget": budget, "model": model, "X": X, "yn": yn, "Xt": Xt, "yt": yt, "nt": nt,
                "best": best, "std": std, "lie": float(np.mean(yn)), "conditioned": conditioned}

    def _pooled_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``--fidelities all``: every budget's points, their losses as normal scores of the ranks
        within their budget, and each point's extra noise variance ``1 / w - 1`` for its budget's
        weight ``w`` (:mod:`.fidelities`; a budget of weight 0 is left out)."""
        weights = budget_weights({b: ys for b, (_, ys) in self._obs.items()}, self._keys)
        rows, scores, noise = [], [], []
        for b, (Xs, ys) in self._obs.items():
            w = weights[b]
            if w <= 0 or all(v is None for v in ys):
                continue
            if self._weights is not None:  # multi-objective: this proposal's augmented Chebyshev values
                ys = scalarise.chebyshev(ys, self._weights)
            rows.extend(Xs)
            scores.append(budget_scores(ys))
            noise.append(np.full(len(ys), 1.0 / w - 1.0))
        return np.array(rows), np.concatenate(scores), np.concatenate(noise)

    def _suggest(self, p: dict) -> dict:
        enc, rng, o, model = self._enc, self.rng, self.options, p["model"]
        pending = [enc.encode(c) for c in self.pending.values()]
        X, yn, noise = p["Xt"], p["yt"], p["nt"]
        if pending:  # constant liar, CL-mean
            X = np.vstack([X, np.array(pending)])
            yn = np.concatenate([yn, np.full(len(pending), p["lie"])])
            noise = None if noise is None else np.concatenate([noise, np.zeros(len(pending))])
        if pending or not p["conditioned"]:
            _condition(model, X, yn, noise)
        xi = o["xi"] / p["std"]
        order = np.argsort(p["yn"], kind="stable")[:_N_BEST]
        cands = np.vstack([enc.random(_N_RANDOM, rng)]
                          + [enc.perturb(p["X"][order], _N_PER_BEST // len(_LOCAL_SCALES), s, rng)
                             for s in _LOCAL_SCALES])
        if self.prior is not None:  # piBO: candidates from the prior too
            cands = np.vstack([cands, self.prior.candidates(rng)])
        mu, sd = model.predict(cands)
        names = ["EI", "PI", "LCB"]
        weigh = self._pibo(cands, mu, sd, p)

        def acquisition(a: str, m: np.ndarray, s: np.ndarray, C: np.ndarray) -> np.ndarray:
            return weigh(a, _acquisition(a, m, s, p["best"], xi, o["kappa"]), C)

        if o["acq_func"] == "gp_hedge":
            firsts = np.array([cands[np.argmin(acquisition(a, mu, sd, cands))] for a in names])
            probs = np.exp(self._gains - self._gains.max())
            chosen = int(rng.choice(3, p=probs / probs.sum()))
            acq = names[chosen]
        else:
            firsts, chosen, acq = None, None, o["acq_func"]
        values = acquisition(acq, mu, sd, cands)
        for scale in _REFINE_SCALES:
            top = cands[np.argsort(values, kind="stable")[:_N_REFINE_TOP]]
            more = enc.perturb(top, _N_PER_REFINE, scale, rng)
            m2, s2 = model.predict(more)
            cands = np.vstack([cands, more])
            values = np.concatenate([values, acquisition(acq, m2, s2, more)])
        found = enc.first_new(cands, np.argsort(values, kind="stable"), Taken(self._asked, self.pending))
        if found is not None:
            config, best_x = found[0], cands[found[1]]
        else:  # the neighbourhood is exhausted (small discrete space) or forbidden
            config = self.problem.sample(rng)
            best_x = enc.encode(config)
        if firsts is not None:
            firsts[chosen] = best_x
            self._hedge_prev = firsts
        return config


    # -- several objectives: expected hypervolume improvement ---------------------------------
    def _suggest_ehvi(self, budget: Any) -> dict | None:
        """A model per objective (standardised, failures as each objective's worst success, pending
        configurations at the mean: CL-mean), candidates as for one objective with the front's points
        perturbed, the one of largest exact EHVI (:mod:`.ehvi`) against the declared reference point
        (or the front's nadir plus a tenth of its range). None when no candidate improves in
        expectation (every prediction far outside the reference box): ParEGO proposes instead."""
        enc, rng, o = self._enc, self.rng, self.options
        Xs, ys = self._obs[budget]
        ok = pareto.points([v for v in ys if v is not None])
        worst = ok.max(axis=0)
        Y = np.array([worst if v is None else v for v in ys], dtype=float)
        X = np.array(Xs)
        mask = pareto.pareto_mask(Y)
        idx = None
        if self._estimator == "GP":
            idx = training_subset(pareto.pareto_rank(Y).astype(float), o["max_train"],
                                  mix_seed(self.seed or 0, -1))
        pending = [enc.encode(c) for c in self.pending.values()]
        models = []
        for j in range(Y.shape[1]):
            mean, std = float(Y[:, j].mean()), float(Y[:, j].std())
            std = std if std > 0 else 1.0
            yn = (Y[:, j] - mean) / std
            Xt, yt = (X, yn) if idx is None else (X[idx], yn[idx])
            model = self._model((budget, j))
            model.fit_hyper(Xt, yt, seed=mix_seed(self.seed or 0, len(yn) + j * 1_000_003), n=len(yn))
            if pending:
                Xt, yt = np.vstack([Xt, np.array(pending)]), np.concatenate([yt, np.zeros(len(pending))])
            model.condition(Xt, yt)
            models.append((model, mean, std))
        ref = ehvi.reference_for(ok, self.problem.reference_losses)
        lower, upper = ehvi.improvement_boxes(Y[mask], ref)

        def score(C: np.ndarray) -> np.ndarray:
            preds = [model.predict(C) for model, _, _ in models]
            mu = np.column_stack([p[0] * std + mean for p, (_, mean, std) in zip(preds, models)])
            sd = np.column_stack([p[1] * std for p, (_, _, std) in zip(preds, models)])
            out = np.zeros(len(C))
            keep = ~ehvi.hopeless(mu, sd, Y[mask])
            out[keep] = ehvi.ehvi(mu[keep], sd[keep], lower, upper)
            return out

        centres = np.flatnonzero(mask)
        if len(centres) > _N_FRONT_CENTRES:
            centres = np.sort(rng.choice(centres, _N_FRONT_CENTRES, replace=False))
        per = max(1, _N_PER_BEST // len(_LOCAL_SCALES))
        cands = np.vstack([enc.random(_N_RANDOM, rng)]
                          + [enc.perturb(X[centres], per, s, rng) for s in _LOCAL_SCALES])
        values = -score(cands)
        for scale in _REFINE_SCALES:
            top = cands[np.argsort(values, kind="stable")[:_N_REFINE_TOP]]
            more = enc.perturb(top, _N_PER_REFINE, scale, rng)
            cands = np.vstack([cands, more])
            values = np.concatenate([values, -score(more)])
        if not values.min() < 0:
            return None
        found = enc.first_new(cands, np.argsort(values, kind="stable"), Taken(self._asked, self.pending))
        return None if found is None else found[0]

    def _pibo(self, cands: np.ndarray, mu: np.ndarray, sd: np.ndarray, p: dict) -> Any:
        """``weigh(acq, values, C)``: the acquisition values of candidates ``C`` (to minimise) times
        piBO's ``prior(x) ** (beta / n)``, or unchanged with the prior off.

        LCB values are first shifted below 0 by their largest value on the first candidates
        (negated EI and PI are <= 0 already), as SMAC's prior-weighted acquisition does.
        """
        if self.prior is None:
            return lambda _a, values, _C: values
        n = len(p["yn"])
        prior = self.prior
        top = float(np.max(_acquisition("LCB", mu, sd, p["best"], 0.0, self.options["kappa"])))

        def weigh(acq: str, values: np.ndarray, C: np.ndarray) -> np.ndarray:
            w = pibo_weight(prior.log_weight(C, n))
            return (np.minimum(values - top, 0.0) if acq == "LCB" else values) * w
        return weigh


_BLAS: Any = None


def one_blas_thread() -> Any:
    global _BLAS
    if _BLAS is None:
        import scipy.linalg  # noqa: F401 - load scipy's BLAS before looking for it
        import sklearn.gaussian_process  # noqa: F401
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")  # numpy's and scipy's OpenBLAS
