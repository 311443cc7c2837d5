"""Bayesian optimisation on scikit-optimize's models: ``--algo bayesian`` (alias ``skopt``).

Order of suggestions: the problem's starting points (defaults first), then
``initial_points`` draws from the priors, then the surrogate model. The model
works in a unit-cube encoding of the free dimensions (dimensions pinned with
``--fix`` and single-valued ones are left out):

* continuous: ``[low, high]`` scaled to [0, 1], on a log scale for log-uniform and log-normal;
* ordinal integer range: the same scaling, then rounded back to an integer;
* ordinal list: the position in the list, so the declared order is kept;
* categorical: one-hot columns;
* a dimension inactive in a configuration (a ``when=`` condition not met):
  every one of its columns holds :data:`INACTIVE`, a constant outside the
  cube, so trees can split on it and a GP sees branches far apart. Candidates
  get the same treatment before the model scores them, a proposal is decoded
  through :meth:`HpProblem.complete` (inactive values dropped) and forbidden
  proposals are skipped. Dimensions that ``--fix`` makes never active have no
  column. All of this lives in :func:`impute_inactive` and
  :meth:`_Encoder.decode`, to move into the shared encoding module.

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
the previous hyperparameters. All model work happens in :meth:`ask`;
:meth:`tell` only records.

Policies:

* Failed and timed-out evaluations are told to the model as the worst loss
  seen so far among successes (recomputed at every fit), so the model learns
  to avoid the region without a made-up scale; until a first success exists
  they are only remembered.
* Parallel asks use a constant liar, "CL-mean": every suggestion still
  running, including earlier ones of the same batch, is added to the model
  with the mean observed loss as its value. (skopt's default lie, the best
  loss, made the model propose near-duplicates within a batch in our tests;
  the mean pushes batch members apart.) The lie only depends on the sequence
  of asks and tells, so a replay on resume reproduces it exactly.
* ``gp_hedge`` keeps skopt's gains, measured in standardised units so the
  choice does not depend on the objective's scale.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..space import Categorical, Continuous, HpProblem, Ordinal, same_value
from .base import BackendOptionError, SearchBackend, Suggestion, Told

__all__ = ["BayesianSearch", "INACTIVE", "impute_inactive"]

#: The encoded value of every column of an inactive dimension (outside the unit cube).
INACTIVE = -1.0

ESTIMATORS = ("GP", "RF", "ET", "GBRT")
ACQ_FUNCS = ("gp_hedge", "EI", "PI", "LCB")

# Candidate set for the acquisition (per suggestion).
_N_RANDOM = 1000
_N_BEST = 5            # best evaluations perturbed locally
_N_PER_BEST = 100
_LOCAL_SCALES = (0.15, 0.05)
_REFINE_SCALES = (0.02, 0.005)
_N_REFINE_TOP = 3
_N_PER_REFINE = 100


# -- encoding ----------------------------------------------------------------------------
class _Encoder:
    """Maps configurations of the free dimensions to points of the unit cube and back."""

    def __init__(self, problem: HpProblem):
        self.problem = problem
        self.constant: dict[str, Any] = dict(problem.fixed)
        self.groups: list[tuple[str, Any, int, int]] = []  # (kind, dim, first column, width)
        col = 0
        self.by_name: dict[str, tuple[str, Any, int, int]] = {}
        for d in problem.dims:
            if d.name in problem.fixed or not problem.can_be_active(d.name):
                continue
            if isinstance(d, Continuous):
                kind, width = "real", 1
            elif isinstance(d, Ordinal) and d.is_range:
                kind, width = "int", 1
            elif isinstance(d, Ordinal):
                kind, width = "list", 1
            elif isinstance(d, Categorical):
                kind, width = "cat", len(d.choices)
            else:  # pragma: no cover - a new kind of dimension
                raise TypeError(f"dimension {d.name!r}: unsupported kind {d.kind!r}")
            if (kind == "list" and len(d.values) == 1) or (kind == "cat" and width == 1):
                self.constant[d.name] = d.default
                continue
            self.groups.append((kind, d, col, width))
            self.by_name[d.name] = (kind, d, col, width)
            col += width
        self.n_cols = col
        self.conditional = any(d.parents for _k, d, _c, _w in self.groups)

    @staticmethod
    def _log_bounds(d: Any) -> tuple[float, float]:
        return math.log(d.low), math.log(d.high)

    def encode(self, config: dict) -> np.ndarray:
        x = np.zeros(self.n_cols)
        for kind, d, c, w in self.groups:
            if d.name not in config:  # inactive
                x[c:c + w] = INACTIVE
                continue
            v = config[d.name]
            if kind in ("real", "int"):
                if d.log_scale:
                    lo, hi = self._log_bounds(d)
                    x[c] = (math.log(v) - lo) / (hi - lo)
                else:
                    x[c] = (v - d.low) / (d.high - d.low)
            elif kind == "list":
                x[c] = _position(d.values, v) / (len(d.values) - 1)
            else:
                x[c + _position(d.choices, v)] = 1.0
        return x

    def decode(self, x: np.ndarray) -> dict:
        values = dict(self.constant)
        for kind, d, c, w in self.groups:
            u = float(x[c])
            if kind == "real":
                values[d.name] = self._real(d, u)
            elif kind == "int":
                values[d.name] = self._int(d, np.array([u]))[0].item()
            elif kind == "list":
                values[d.name] = d.values[int(round(min(max(u, 0.0), 1.0) * (len(d.values) - 1)))]
            else:
                values[d.name] = d.choices[int(np.argmax(x[c:c + w]))]
            if d.step is not None:
                values[d.name] = d.nearest(values[d.name])
        return self.problem.complete(values)

    def _real(self, d: Continuous, u: float) -> float:
        u = min(max(u, 0.0), 1.0)
        if d.log_scale:
            lo, hi = self._log_bounds(d)
            v = math.exp(lo + u * (hi - lo))
        else:
            v = d.low + u * (d.high - d.low)
        return float(min(max(v, d.low), d.high))

    def _int(self, d: Ordinal, u: np.ndarray) -> np.ndarray:
        u = np.clip(u, 0.0, 1.0)
        if d.log_scale:
            lo, hi = self._log_bounds(d)
            v = np.rint(np.exp(lo + u * (hi - lo)))
        else:
            v = np.rint(d.low + u * (d.high - d.low))
        return np.clip(v, d.low, d.high).astype(np.int64)

    def snap(self, X: np.ndarray) -> np.ndarray:
        """Candidates moved onto values a configuration can take (in place), clipped to the cube."""
        np.clip(X, 0.0, 1.0, out=X)
        for kind, d, c, w in self.groups:
            if kind == "int":
                v = self._int(d, X[:, c])
                if d.log_scale:
                    lo, hi = self._log_bounds(d)
                    X[:, c] = (np.log(v) - lo) / (hi - lo)
                else:
                    X[:, c] = (v - d.low) / (d.high - d.low)
            elif kind == "list":
                k = len(d.values) - 1
                X[:, c] = np.rint(X[:, c] * k) / k
            elif kind == "cat":
                idx = np.argmax(X[:, c:c + w], axis=1)
                X[:, c:c + w] = 0.0
                X[np.arange(len(X)), c + idx] = 1.0
        if self.conditional:
            impute_inactive(self, X)
        return X

    def random(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """``m`` points drawn from the priors (uniform in the encoding; categorical weights kept)."""
        X = rng.random((m, self.n_cols))
        for kind, d, c, w in self.groups:
            if kind == "cat":
                idx = rng.choice(w, size=m, p=d.weights) if d.weights else rng.integers(0, w, size=m)
                X[:, c:c + w] = 0.0
                X[np.arange(m), c + idx] = 1.0
        return self.snap(X)

    def perturb(self, centres: np.ndarray, m: int, scale: float, rng: np.random.Generator) -> np.ndarray:
        """``m`` Gaussian perturbations of each centre; each categorical changes with prob. 1/#groups."""
        X = np.repeat(centres, m, axis=0)
        if self.conditional:  # an inactive column restarts anywhere if a perturbation activates it
            off = X == INACTIVE
            X[off] = rng.random(int(off.sum()))
        X = X + rng.normal(0.0, scale, size=X.shape)
        p = 1.0 / max(len(self.groups), 1)
        for kind, _d, c, w in self.groups:
            if kind == "cat":
                old = np.argmax(np.repeat(centres[:, c:c + w], m, axis=0), axis=1)
                flip = rng.random(len(X)) < p
                idx = np.where(flip, rng.integers(0, w, size=len(X)), old)
                X[:, c:c + w] = 0.0
                X[np.arange(len(X)), c + idx] = 1.0
        return self.snap(X)


def impute_inactive(enc: _Encoder, X: np.ndarray) -> np.ndarray:
    """Set every column of a dimension inactive in a row of ``X`` to :data:`INACTIVE` (in place).

    Activity is evaluated top-down on the encoded rows, as
    :meth:`HpProblem.active` does on configurations: a dimension is active
    when each parent is active and its (snapped) value is one the condition
    lists. Parents pinned by ``--fix`` or single-valued are constants.
    """
    m = len(X)
    active: dict[str, np.ndarray] = {}
    for d in enc.problem.order:
        a = np.ones(m, dtype=bool)
        for p, allowed in d.parents.items():
            a &= active.get(p, np.zeros(m, dtype=bool)) & _takes(enc, p, allowed, X)
        active[d.name] = a
    for _kind, d, c, w in enc.groups:
        off = ~active[d.name]
        if off.any():
            X[off, c:c + w] = INACTIVE
    return X


def _takes(enc: _Encoder, name: str, allowed: list, X: np.ndarray) -> np.ndarray:
    """Rows of ``X`` where dimension ``name`` takes one of ``allowed``."""
    if name in enc.constant:
        return np.full(len(X), any(same_value(enc.constant[name], v) for v in allowed))
    if name not in enc.by_name:  # never active under --fix
        return np.zeros(len(X), dtype=bool)
    kind, d, c, w = enc.by_name[name]
    if kind == "cat":
        return np.isin(np.argmax(X[:, c:c + w], axis=1), [_position(d.choices, v) for v in allowed])
    if kind == "list":
        idx = np.rint(np.clip(X[:, c], 0.0, 1.0) * (len(d.values) - 1))
        return np.isin(idx, [_position(d.values, v) for v in allowed])
    return np.isin(enc._int(d, X[:, c]), [int(v) for v in allowed])  # an integer range


def _position(values: list, v: Any) -> int:
    r = repr(v)
    for i, x in enumerate(values):
        if repr(x) == r:
            return i
    for i, x in enumerate(values):  # 64.0 for 64
        if not isinstance(x, (str, bool)) and not isinstance(v, (str, bool)) and x == v:
            return i
    raise ValueError(f"{v!r} is not one of {values}")


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

    def fit_hyper(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        """Re-optimise the kernel hyperparameters when the schedule says so.

        Each fit starts from the previous hyperparameters; random restarts are
        added on the first fit and whenever the data has doubled since the last
        fit that had them.
        """
        n = len(y)
        if n < self._next_fit:
            return
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor

        restarts = 0
        if n >= 2 * self._n_restarted:
            restarts, self._n_restarted = 2, max(n, 1)
        gpr = GaussianProcessRegressor(kernel=self.kernel, normalize_y=False, optimizer=_lbfgs,
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

    def condition(self, X: np.ndarray, y: np.ndarray) -> None:
        """The posterior given data, with the current hyperparameters."""
        from scipy.linalg import cho_solve, cholesky, solve_triangular

        signal, white = self.kernel.k1, self.kernel.k2
        self._amp = float(signal.k1.constant_value)
        self._scale = np.asarray(signal.k2.length_scale, dtype=float)
        self._Xs = X / self._scale
        K = self._matern(self._Xs)
        jitter = float(white.noise_level) + 1e-10
        while True:
            try:
                L = cholesky(K + jitter * np.eye(len(X)), lower=True, check_finite=False)
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

    def fit_hyper(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        self._seed = seed

    def condition(self, X: np.ndarray, y: np.ndarray) -> None:
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


# -- the backend -------------------------------------------------------------------------
class BayesianSearch(SearchBackend):
    """Starting points, then ``initial_points`` random draws, then a surrogate model.

    Options:
        initial_points: random points after the starting points (>= 0).
        base_estimator: ``GP``, ``RF``, ``ET`` or ``GBRT``.
        acq_func: ``gp_hedge``, ``EI``, ``PI`` or ``LCB``.
        kappa: LCB's exploration weight (>= 0).
        xi: EI's and PI's improvement margin, in the objective's units (>= 0).
    """

    name = "bayesian"
    OPTIONS = {"initial_points": 10, "base_estimator": "GP", "acq_func": "gp_hedge",
               "kappa": 1.96, "xi": 0.01}

    def __init__(self, problem: HpProblem, seed: int, **options: Any):
        super().__init__(problem, seed, **options)
        o = self.options
        o["base_estimator"] = _choice("--base-estimator", o["base_estimator"], ESTIMATORS)
        o["acq_func"] = _choice("--acq-func", o["acq_func"], ACQ_FUNCS)
        ip = o["initial_points"]
        if isinstance(ip, bool) or not isinstance(ip, (int, np.integer)) or ip < 0:
            raise BackendOptionError(f"--initial-points must be an integer >= 0, got {ip!r}")
        for flag, key in (("--kappa", "kappa"), ("--xi", "xi")):
            v = o[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise BackendOptionError(f"{flag} must be a finite number >= 0, got {v!r}")
        self._starts = list(problem.starting_points)
        self._random_left = int(ip)
        self._enc = _Encoder(problem)
        self._model = _GP(self._enc.n_cols) if o["base_estimator"] == "GP" else _Trees(o["base_estimator"])
        self._X: list[np.ndarray] = []   # every told evaluation, encoded
        self._y: list[float | None] = []  # its loss, None if it failed
        self._pending: dict[int, np.ndarray] = {}  # config_id -> encoded, asked and not told
        self._asked: set[str] = set()
        self._gains = np.zeros(3)
        self._hedge_prev: np.ndarray | None = None

    # -- ask / tell --------------------------------------------------------------------
    def ask(self, n: int) -> list[Suggestion]:
        # The matrices are small: BLAS threads only add contention (10x slower on a busy machine).
        with _one_blas_thread():
            return self._ask(n)

    def _ask(self, n: int) -> list[Suggestion]:
        out = []
        prepared = None
        resource = self.problem.resource
        for _ in range(n):
            if self._starts:
                config = self._starts.pop(0)
            elif self._random_left > 0 or not self._model_ready():
                self._random_left = max(self._random_left - 1, 0)
                config = self.problem.sample(self.rng)
            else:
                if prepared is None:
                    prepared = self._prepare()
                config = self._suggest(prepared)
            config = self.problem.check(config)
            cid = self.new_config_id()
            self._pending[cid] = self._enc.encode(config)
            self._asked.add(_key(config))
            budget = config[resource.name] if resource is not None else None
            out.append(Suggestion(config=config, config_id=cid, budget=budget))
        return out

    def tell(self, result: Told) -> None:
        x = self._pending.pop(result.suggestion.config_id, None)
        if x is None:
            x = self._enc.encode(result.suggestion.config)
        ok = result.status == "done" and result.loss is not None and math.isfinite(result.loss)
        self._X.append(x)
        self._y.append(float(result.loss) if ok else None)

    # -- model -------------------------------------------------------------------------
    def _model_ready(self) -> bool:
        if self._enc.n_cols == 0:
            return False
        return sum(y is not None for y in self._y) >= 2

    def _prepare(self) -> dict:
        """Training data in standardised units, hyperparameters, gp_hedge's gains: once per ask."""
        ok = [y for y in self._y if y is not None]
        worst, best = max(ok), min(ok)
        y = np.array([worst if v is None else v for v in self._y])
        mean, std = float(y.mean()), float(y.std())
        std = std if std > 0 else 1.0
        yn = (y - mean) / std
        X = np.array(self._X)
        self._model.fit_hyper(X, yn, seed=_mix(self.seed, len(yn)))
        conditioned = False
        if self.options["acq_func"] == "gp_hedge" and self._hedge_prev is not None:
            self._model.condition(X, yn)
            self._gains -= self._model.predict(self._hedge_prev)[0]
            conditioned = True
        return {"X": X, "yn": yn, "best": (best - mean) / std, "std": std, "lie": float(np.mean(yn)),
                "conditioned": conditioned}

    def _suggest(self, p: dict) -> dict:
        enc, rng, o = self._enc, self.rng, self.options
        pending = list(self._pending.values())
        X, yn = p["X"], p["yn"]
        if pending:  # constant liar, CL-mean
            X = np.vstack([X, np.array(pending)])
            yn = np.concatenate([yn, np.full(len(pending), p["lie"])])
        if pending or not p["conditioned"]:
            self._model.condition(X, yn)
        xi = o["xi"] / p["std"]
        order = np.argsort(p["yn"], kind="stable")[:_N_BEST]
        cands = np.vstack([enc.random(_N_RANDOM, rng)]
                          + [enc.perturb(p["X"][order], _N_PER_BEST // len(_LOCAL_SCALES), s, rng)
                             for s in _LOCAL_SCALES])
        mu, sd = self._model.predict(cands)
        names = ["EI", "PI", "LCB"]
        if o["acq_func"] == "gp_hedge":
            firsts = np.array([cands[np.argmin(_acquisition(a, mu, sd, p["best"], xi, o["kappa"]))]
                               for a in names])
            probs = np.exp(self._gains - self._gains.max())
            chosen = int(rng.choice(3, p=probs / probs.sum()))
            acq = names[chosen]
        else:
            firsts, chosen, acq = None, None, o["acq_func"]
        values = _acquisition(acq, mu, sd, p["best"], xi, o["kappa"])
        for scale in _REFINE_SCALES:
            top = cands[np.argsort(values, kind="stable")[:_N_REFINE_TOP]]
            more = enc.perturb(top, _N_PER_REFINE, scale, rng)
            m2, s2 = self._model.predict(more)
            cands = np.vstack([cands, more])
            values = np.concatenate([values, _acquisition(acq, m2, s2, p["best"], xi, o["kappa"])])
        config = None
        for i in np.argsort(values, kind="stable")[:50]:
            c = enc.decode(cands[i])
            if _key(c) not in self._asked and not self.problem.is_forbidden(c):
                config, best_x = c, cands[i]
                break
        if config is None:  # the neighbourhood is exhausted (small discrete space)
            config = self.problem.sample(rng)
            best_x = enc.encode(config)
        if firsts is not None:
            firsts[chosen] = best_x
            self._hedge_prev = firsts
        return config


_BLAS: Any = None


def _one_blas_thread() -> Any:
    global _BLAS
    if _BLAS is None:
        import scipy.linalg  # noqa: F401 - load scipy's BLAS before looking for it
        import sklearn.gaussian_process  # noqa: F401
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")  # numpy's and scipy's OpenBLAS


def _choice(flag: str, value: Any, allowed: tuple[str, ...]) -> str:
    for a in allowed:
        if isinstance(value, str) and value.lower() == a.lower():
            return a
    raise BackendOptionError(f"{flag}: expected one of {', '.join(allowed)}, got {value!r}")


def _key(config: dict) -> str:
    return repr(sorted(config.items()))


def _mix(seed: int, n: int) -> int:
    """A seed for step ``n`` of a run with ``seed`` (stable across processes)."""
    z = ((seed or 0) * 0x9E3779B97F4A7C15 + n * 0xBF58476D1CE4E5B9 + 1) & ((1 << 64) - 1)
    z ^= z >> 31
    return int(z % (2**31 - 1))
