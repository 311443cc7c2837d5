"""Which hyperparameters mattered: functional-ANOVA importance of a run (``hps importance``).

The share of the objective's variance that each hyperparameter (and each pair)
explains, by functional ANOVA over a random-forest surrogate of the run's
successful evaluations (Hutter, Hoos and Leyton-Brown, ICML 2014), computed
exactly from the trees' partitions (:mod:`hpsearch.reporting.fanova`) with
scikit-learn's :class:`~sklearn.ensemble.RandomForestRegressor`.

The domain is the stored search space, each dimension on its own scale and
weighted as a search samples it uniformly:

* a continuous range: uniform on ``[low, high]``, on a log scale for the
  log-uniform and log-normal priors (a normal prior is a search's preference,
  not the space: it weighs nothing here);
* an integer range, a range with a ``step``, an ordered list: its values, each
  equally likely, except on a log scale, where each value weighs the
  log-width up to the next (what the log-uniform prior gives it);
* a categorical: its choices, each equally likely, split one choice at a time.

Dimensions fixed by ``--fix`` or with one value are left out; so is the
resource of a multi-fidelity run (each budget is analysed on its own). A
conditional dimension counts only where its condition holds: being inactive is
not one of its levels. The forest is fitted to the loss (the objective in the
minimise sense); shares do not depend on the sign, and marginals are given in
the objective's own units.

Example, on a run of ``y = 2 x1 + x2`` (x3 plays no part):

    >>> import tempfile
    >>> from types import SimpleNamespace as Sub
    >>> import numpy as np
    >>> from hpsearch.store import RunStore
    >>> from hpsearch.trial import TrialResult
    >>> space = {"direction": "minimize", "dims": [
    ...     {"name": n, "kind": "continuous", "low": 0.0, "high": 1.0, "prior": "uniform"}
    ...     for n in ("x1", "x2", "x3")]}
    >>> store = RunStore.create(tempfile.mkdtemp() + "/run", {"space": space}, ["x1", "x2", "x3"])
    >>> X = np.random.default_rng(0).random((300, 3))
    >>> store.add_trials(list(range(300)), [Sub(config=dict(zip(("x1", "x2", "x3"), map(float, x))),
    ...     config_id=i, budget=None, previous_budget=None, bracket=None, rung=None, info={})
    ...     for i, x in enumerate(X)], ask_seq=0, ask_n=300)
    >>> for i, x in enumerate(X):
    ...     _ = store.finish_trial(TrialResult(i, "done", objective=2 * x[0] + x[1]), tell_seq=i + 1)
    >>> imp = importance_of_store(store, seed=0)
    >>> imp.ranking
    ('x1', 'x2', 'x3')
    >>> [round(imp.shares[n], 1) for n in imp.ranking]  # exact: 0.8, 0.2, 0
    [0.8, 0.2, 0.0]
    >>> store.close()
"""
from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import UsageError
from ..problem.dimensions import same_value
from ..problem.objective import to_loss, values_of
from ..store import RunHistory, RunStore
from ..trial import Status
from .fanova import INACTIVE, Axis, Domain, TreeAnova

__all__ = ["importance", "importance_by_budget", "importance_of_store", "importance_of", "Importance",
           "Marginal", "NotEnoughEvaluations", "ImportanceUnavailable", "min_evaluations", "importance_rows",
           "objectives_asked",
           "N_TREES", "MAX_SAMPLES"]

#: Trees in the forest (Optuna's fANOVA uses 64, the fanova package 16).
N_TREES = 32
#: Each tree fits a bootstrap sample of at most this many evaluations.
MAX_SAMPLES = 4096
#: Points on the grid of a continuous marginal (and at most on a long list of values).
GRID = 101


class ImportanceUnavailable(Exception):
    """The importance of this run cannot be computed (the message says why, in one line)."""


class NotEnoughEvaluations(ImportanceUnavailable):
    """Fewer successful evaluations than the method needs (at every budget, or at the one asked)."""


def min_evaluations(n_dims: int) -> int:
    """The successful evaluations importance needs: two per dimension, at least 10."""
    return max(10, 2 * n_dims)


# -- the domain of a stored space -------------------------------------------------------------
@dataclass
class _Dim:
    """One free dimension: its axis, and how its values map to codes and back."""

    name: str
    spec: dict
    axis: Axis
    encode: Callable[[Any], Any]  # value -> code (one column), or the choice index (categorical)
    value: Callable[[int | float], Any]  # code -> value
    log_scale: bool = False
    encode_many: Callable[[np.ndarray], np.ndarray] | None = None  # numbers -> codes, for a range

    @property
    def categorical(self) -> bool:
        return self.axis.categorical

    def grid(self) -> np.ndarray:
        """The codes a marginal is drawn at."""
        a = self.axis
        if a.n_levels is None:
            return np.linspace(0.0, 1.0, GRID)
        if a.n_levels <= GRID:
            return np.arange(a.n_levels, dtype=float)
        return np.unique(np.rint(np.linspace(0, a.n_levels - 1, GRID)))


def _position(values: Sequence, v: Any) -> int:
    for i, x in enumerate(values):
        if same_value(x, v):
            return i
    raise KeyError(v)


def _ordered_cdf(n: int, log_values: Callable[[np.ndarray], np.ndarray] | None):
    """The measure of the codes ``<= t`` of ``n`` levels coded 0..n-1: equal weights, or each level
    its log-width up to the next (``log_values(k)`` is the log of level k's value, k = 0..n)."""
    if log_values is None:
        return lambda t: np.clip(np.floor(np.asarray(t, dtype=float)) + 1.0, 0.0, n) / n
    lo = log_values(np.array([0.0]))[0]
    span = log_values(np.array([float(n)]))[0] - lo

    def cdf(t):
        k = np.clip(np.floor(np.asarray(t, dtype=float)) + 1.0, 0.0, n)
        return (log_values(k) - lo) / span

    return cdf


def _make_dim(spec: dict, columns: tuple[int, ...]) -> _Dim:
    kind, name = spec.get("kind"), spec["name"]
    if kind == "categorical":
        choices = list(spec["choices"])
        axis = Axis(name, columns, categorical=True, n_levels=len(choices))
        return _Dim(name, spec, axis, lambda v: _position(choices, v), lambda k: choices[int(k)])
    if "values" in spec:  # an ordered list
        values = list(spec["values"])
        axis = Axis(name, columns, n_levels=len(values), cdf=_ordered_cdf(len(values), None),
                    low=-0.5, high=len(values) - 0.5)
        return _Dim(name, spec, axis, lambda v: float(_position(values, v)), lambda k: values[int(round(k))])
    low, high, prior = spec["low"], spec["high"], spec.get("prior", "uniform")
    log = prior in ("log-uniform", "log-normal")
    integer = kind == "ordinal"
    step = spec.get("step")
    if integer and step is None:
        step = 1
    if step is not None:  # levels low + k * step
        n = int(math.floor((high - low) / step + 1e-9)) + 1

        def level(k, low=low, step=step, integer=integer):
            v = low + int(round(k)) * step
            return int(v) if integer else float(f"{v:.15g}")

        log_values = (lambda k: np.log(low + k * step)) if log else None
        axis = Axis(name, columns, n_levels=n, cdf=_ordered_cdf(n, log_values), low=-0.5, high=n - 0.5)
        return _Dim(name, spec, axis, lambda v: float(min(max(round((v - low) / step), 0), n - 1)), level,
                    log_scale=log, encode_many=lambda v: np.clip(np.rint((v - low) / step), 0, n - 1))
    if log:
        a, b = math.log(low), math.log(high)

        def encode(v):  # a number or an array of them
            return (np.log(v) - a) / (b - a)

        def value(u):
            return float(min(max(math.exp(a + u * (b - a)), low), high))
    else:
        def encode(v):
            return (v - low) / (high - low)

        def value(u):
            return float(low + u * (high - low))
    axis = Axis(name, columns, cdf=lambda t: np.clip(np.asarray(t, dtype=float), 0.0, 1.0))
    return _Dim(name, spec, axis, lambda v: float(min(max(encode(v), 0.0), 1.0)), value, log_scale=log,
                encode_many=lambda v: np.clip(encode(v), 0.0, 1.0))


def _pinned(spec: dict, text: Any) -> Any:
    """The declared value ``--fix name=text`` pins (``text`` itself when no declared value matches)."""
    for v in spec.get("choices", spec.get("values", [])):
        if str(v) == str(text) or same_value(v, text):
            return v
    return text


def _free_dims(space: Mapping, multi_fidelity: bool, fix: Mapping[str, Any] | None = None) -> list[_Dim]:
    """The dimensions a forest splits on, parents first, with their conditions resolved.

    Left out: fixed (in the space, or by ``fix``: the run's ``--fix``) and one-valued dimensions
    (their conditions are decided), the resource of a multi-fidelity run, and dimensions the
    fixed values make never active.
    """
    specs = {d["name"]: d for d in space.get("dims", [])}
    constant = dict(space.get("fixed") or {})
    for name, text in (fix or {}).items():
        if name in specs:
            constant[name] = _pinned(specs[name], text)
    for name, d in specs.items():
        if name in constant:
            continue
        if len(d.get("values", d.get("choices", [None, None]))) == 1:
            constant[name] = (d.get("values") or d.get("choices"))[0]
        elif d.get("resource") and multi_fidelity:
            constant[name] = None
    order: list[str] = []

    def visit(name: str, seen: tuple = ()) -> None:
        if name in order or name in seen or name not in specs:
            return
        for p in (specs[name].get("when") or {}):
            visit(p, seen + (name,))
        order.append(name)

    for name in specs:
        visit(name)
    possible: dict[str, bool] = {}
    dims: list[_Dim] = []
    index: dict[str, int] = {}
    col = 0
    for name in order:
        spec = specs[name]
        when = spec.get("when") or {}
        ok = True
        live: dict[str, list] = {}
        for p, allowed in when.items():
            allowed = list(allowed) if isinstance(allowed, (list, tuple)) else [allowed]
            if not possible.get(p, False):
                ok = False
            elif p in constant:
                ok &= any(same_value(constant[p], v) for v in allowed)
            else:
                live[p] = allowed
        possible[name] = ok
        if not ok or name in constant:
            continue
        width = len(spec["choices"]) if spec.get("kind") == "categorical" else 1
        dim = _make_dim(spec, tuple(range(col, col + width)))
        for p, allowed in live.items():
            parent = dims[index[p]]
            mask = np.zeros(parent.axis.n_levels, dtype=bool)
            for v in allowed:
                try:
                    mask[int(parent.encode(v))] = True
                except (KeyError, TypeError, ValueError):
                    pass
            dim.axis.parents[index[p]] = mask
        index[name] = len(dims)
        dims.append(dim)
        col += width
    return dims


def _design(dims: list[_Dim], configs: Iterable[Mapping]) -> tuple[np.ndarray, np.ndarray]:
    """The forest's rows (inactive dimensions at :data:`INACTIVE` in every column) and which
    configurations could be encoded (a value outside the stored space cannot)."""
    configs = list(configs)
    width = sum(len(d.axis.columns) for d in dims)
    X = np.zeros((len(configs), width))
    ok = np.ones(len(configs), dtype=bool)
    for d in dims:
        cols = d.axis.columns
        values = [c.get(d.name) for c in configs]
        off = np.array([v is None for v in values], dtype=bool)
        X[off, cols[0]:cols[-1] + 1] = INACTIVE
        on = np.flatnonzero(~off)
        numbers = d.encode_many is not None and all(
            isinstance(values[i], (int, float)) and not isinstance(values[i], bool) for i in on)
        if numbers:
            with np.errstate(invalid="ignore", divide="ignore"):
                codes = d.encode_many(np.array([values[i] for i in on], dtype=float))
            ok[on[~np.isfinite(codes)]] = False
            X[on, cols[0]] = np.nan_to_num(codes)
            continue
        for i in on:
            try:
                code = d.encode(values[i])
            except (KeyError, TypeError, ValueError):
                ok[i] = False
                continue
            if d.categorical:
                X[i, cols[0] + code] = 1.0
            else:
                X[i, cols[0]] = code
    return X, ok


# -- the results ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Marginal:
    """The predicted objective against one or two hyperparameters, averaged over the others.

    Attributes:
        names: the one or two hyperparameters.
        values: per hyperparameter, the values on the grid (a continuous range: 101 points).
        mean: the forest's prediction (the mean over its trees), shape ``len(values[0])``
            or ``(len(values[0]), len(values[1]))``.
        spread: its standard deviation over the trees (same shape).
        categorical: per hyperparameter, whether it is categorical.
        log_scale: per hyperparameter, whether it is on a log scale.
        active_share: where the hyperparameters are conditional, the measure of the part of the
            space where they are all active (the marginal is averaged over that part); else 1.
    """

    names: tuple[str, ...]
    values: tuple[list, ...]
    mean: np.ndarray
    spread: np.ndarray
    categorical: tuple[bool, ...]
    log_scale: tuple[bool, ...]
    active_share: float = 1.0


@dataclass(frozen=True, eq=False)
class Importance:
    """The functional-ANOVA importance of one run at one budget.

    Attributes:
        budget: the budget level analysed (None for a run without budgets).
        n_evaluations: the successful evaluations the forest was fitted to.
        ranking: the hyperparameters, most important first.
        shares: hyperparameter -> the share of the variance it explains alone (mean over trees).
        spread: hyperparameter -> the standard deviation of that share over the trees.
        pairs: ``(a, b)`` -> the share the pair explains beyond both main effects (with ``pairs``).
        pair_spread: ``(a, b)`` -> its standard deviation over the trees.
        n_trees: the trees whose variance was positive (a constant tree explains nothing; with
            none, every share is 0 and there is no marginal).
        seconds: the time taken (fit and decomposition).
        objective: the objective analysed, for a multi-objective run (None otherwise).
    """

    budget: float | None
    n_evaluations: int
    ranking: tuple[str, ...]
    shares: Mapping[str, float]
    spread: Mapping[str, float]
    pairs: Mapping[tuple[str, str], float]
    pair_spread: Mapping[tuple[str, str], float]
    n_trees: int
    seconds: float
    _model: Any = field(default=None, repr=False)
    objective: str | None = None

    @property
    def pair_ranking(self) -> tuple[tuple[str, str], ...]:
        """The pairs, the largest interaction first."""
        return tuple(sorted(self.pairs, key=lambda p: -self.pairs[p]))

    def marginal(self, *names: str) -> Marginal:
        """The marginal predicted objective against one hyperparameter, or a pair of them."""
        if self._model is None or not self.n_trees:
            raise ValueError("no marginal: every evaluation has the same objective")
        return self._model.marginal(names)


class _Model:
    """A fitted forest's per-tree decompositions, and what turns codes back into values."""

    def __init__(self, dims: list[_Dim], trees: list[TreeAnova], sign: float):
        self.dims, self.trees, self.sign = dims, trees, sign
        self.index = {d.name: i for i, d in enumerate(dims)}

    def marginal(self, names: Sequence[str]) -> Marginal:
        if not 1 <= len(names) <= 2 or len(set(names)) != len(names):
            raise ValueError(f"a marginal is of one or two distinct hyperparameters, got {list(names)}")
        unknown = [n for n in names if n not in self.index]
        if unknown:
            raise ValueError(f"no hyperparameter {unknown[0]!r} in the analysis "
                             f"(hyperparameters: {', '.join(self.index)})")
        ids = [self.index[n] for n in names]
        dims = [self.dims[i] for i in ids]
        grids = [d.grid() for d in dims]
        per_tree, shares = [], []
        for t in self.trees:
            where, share = t.where_active(ids)
            if share <= 0:
                continue
            if len(ids) == 1:
                m = t.main_marginal(ids[0], where)[t.atom_of(ids[0], grids[0])]
            else:
                m = t.pair_marginal(ids[0], ids[1], where)
                m = m[np.ix_(t.atom_of(ids[0], grids[0]), t.atom_of(ids[1], grids[1]))]
            per_tree.append(self.sign * m / share)
            shares.append(share)
        if not per_tree:
            raise ValueError(f"{' and '.join(names)} are never active together")
        stack = np.stack(per_tree)
        return Marginal(tuple(names), tuple([d.value(c) for c in g] for d, g in zip(dims, grids)),
                        stack.mean(axis=0), stack.std(axis=0), tuple(d.categorical for d in dims),
                        tuple(d.log_scale for d in dims), float(np.mean(shares)))


def importance_of(space: Mapping, configs: Sequence[Mapping], losses: Sequence[float], *,
                  sign: float = 1.0, budget: float | None = None, pairs: bool | int = False,
                  n_trees: int = N_TREES, seed: int = 0, n_jobs: int | None = -1,
                  multi_fidelity: bool = False, fix: Mapping[str, Any] | None = None) -> Importance:
    """The importance of the hyperparameters of ``space`` from evaluated configurations.

    Args:
        space: a stored search space (:meth:`HpProblem.to_dict <hpsearch.HpProblem.to_dict>`).
        configs: the evaluated configurations.
        losses: their losses (the objective in the minimise sense), finite.
        sign: what turns a loss back into the objective (-1 for a maximised objective).
        budget: the budget level the evaluations are at, reported as is.
        pairs: also the share of each pair of hyperparameters (a number k: of each pair among
            the k most important).
        n_trees: trees in the forest.
        seed: the forest's seed.
        n_jobs: cores for the fit and the decomposition (-1: all).
        multi_fidelity: leave the resource dimension out.
        fix: the run's ``--fix`` (name -> value or its text): those dimensions are left out.

    Raises:
        NotEnoughEvaluations: fewer evaluations than :func:`min_evaluations` asks.
    """
    from sklearn.ensemble import RandomForestRegressor

    start = time.perf_counter()
    dims = _free_dims(space, multi_fidelity, fix)
    if not dims:
        raise NotEnoughEvaluations("the space has no free dimension to rank (every one is fixed)")
    X, ok = _design(dims, configs)
    y = np.asarray(losses, dtype=float)
    keep = ok & np.isfinite(y)
    X, y = X[keep], y[keep]
    need = min_evaluations(len(dims))
    if len(y) < need:
        where = f" at budget {budget:g}" if budget is not None else ""
        raise NotEnoughEvaluations(f"importance needs at least {need} successful evaluations{where} "
                                   f"(2 per dimension, at least 10), got {len(y)}")
    forest = RandomForestRegressor(
        n_estimators=n_trees, max_features=1.0, min_samples_leaf=1, bootstrap=True,
        max_samples=MAX_SAMPLES if len(y) > MAX_SAMPLES else None, n_jobs=n_jobs, random_state=seed,
    ).fit(X, y)
    try:
        domain = Domain([d.axis for d in dims])
    except ValueError as exc:
        raise ImportanceUnavailable(f"importance: {exc}") from None
    workers = (os.cpu_count() or 1) if n_jobs == -1 else max(1, n_jobs or 1)
    if workers > 1:  # numpy releases the GIL on the leaves' arrays
        with ThreadPoolExecutor(min(workers, n_trees)) as pool:
            trees = list(pool.map(lambda est: TreeAnova(est, domain), forest.estimators_))
    else:
        trees = [TreeAnova(est, domain) for est in forest.estimators_]
    trees = [t for t in trees if t.variance > 1e-12 * max(1.0, t.mean ** 2)]
    names = [d.name for d in dims]
    main = np.array([[t.main_variance(i) / t.variance for i in range(len(dims))] for t in trees]) \
        if trees else np.zeros((0, len(dims)))
    shares = dict(zip(names, main.mean(axis=0) if trees else np.zeros(len(dims))))
    spread = dict(zip(names, main.std(axis=0) if trees else np.zeros(len(dims))))
    pair_shares: dict[tuple[str, str], float] = {}
    pair_spread: dict[tuple[str, str], float] = {}
    ranking = tuple(sorted(names, key=lambda n: (-shares[n], names.index(n))))
    if pairs and trees:
        among = [names.index(n) for n in (ranking if pairs is True else ranking[:int(pairs)])]
        for i, j in itertools.combinations(sorted(among), 2):
            v = np.array([t.pair_variance(i, j) / t.variance for t in trees])
            pair_shares[(names[i], names[j])] = float(v.mean())
            pair_spread[(names[i], names[j])] = float(v.std())
    return Importance(budget, int(len(y)), ranking, {n: float(shares[n]) for n in ranking},
                      {n: float(spread[n]) for n in ranking}, pair_shares, pair_spread, len(trees),
                      time.perf_counter() - start, _Model(dims, trees, sign))


# -- from a run -------------------------------------------------------------------------------
def _by_budget(history: RunHistory, objective: str) -> dict[float | None, list[tuple[Any, float]]]:
    """(evaluation, value of ``objective``) of the successful evaluations with a finite value, by budget
    (one group without budgets). The first objective is the objective column; the others are metrics."""
    first = next(iter(history.objectives), None)
    groups: dict[float | None, list] = {}
    for t in history.finished:
        if t.status != Status.DONE:
            continue
        value = t.objective if objective == first else \
            values_of(first, t.objective, t.metrics or {}).get(objective)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        key = float(t.budget) if history.multi_fidelity and t.budget is not None else None
        groups.setdefault(key, []).append((t, float(value)))
    return groups


def objectives_asked(history: RunHistory, objective: str | None, where: str = "the run") -> list[str]:
    """The objectives to analyse: ``None`` the run's first, ``"all"`` each of them, or the one named.

    Raises:
        UsageError: a name the run does not have (the message lists its objectives).
    """
    names = list(history.objectives) or ["objective"]
    if objective is None:
        return names[:1]
    if objective == "all":
        return names
    if objective not in names:
        raise UsageError(f"{where}: --objective: expected one of {', '.join(names)} or all, "
                         f"got {objective!r}")
    return [objective]


def _params(t: Any) -> Mapping:
    return t.params if hasattr(t, "params") else t.trial().params


def importance_by_budget(history: RunHistory, space: Mapping, *, budget: float | str | None = None,
                         where: str = "the run", fix: Mapping[str, Any] | None = None,
                         objective: str | None = None, **options: Any) -> list[Importance]:
    """The importance at each budget level asked (and of each objective asked), from a run's history.

    Args:
        history: the run's history (its finished evaluations).
        space: the run's stored search space.
        budget: None for the largest budget with enough evaluations (a run without budgets:
            all its evaluations), ``"all"`` for every budget with enough, or one budget.
        where: how messages name the run.
        fix: the run's ``--fix`` (its settings' ``fix``): those dimensions are left out.
        objective: a multi-objective run's objective to analyse, ``"all"`` for a block per
            objective (in the declared order, each with its budgets; one with too few successful
            evaluations is left out unless every one has too few), None for the first.
        **options: passed to :func:`importance_of` (``pairs``, ``n_trees``, ``seed``, ``n_jobs``).

    Raises:
        NotEnoughEvaluations: no budget asked has enough successful evaluations.
        UsageError: a budget the run never evaluated at, an objective the run does not have.
    """
    names = objectives_asked(history, objective, where)
    out: list[Importance] = []
    short: NotEnoughEvaluations | None = None
    for name in names:
        direction = history.objectives.get(name, history.direction)
        try:
            results = _importance_at(history, space, name, direction, budget, where, fix, **options)
        except NotEnoughEvaluations as exc:
            if len(names) == 1:
                raise
            short = short or exc  # with every objective asked, one that has too few is left out
            continue
        out += [replace(r, objective=name) if history.multi_objective else r for r in results]
    if not out and short is not None:
        raise short
    return out


def _importance_at(history: RunHistory, space: Mapping, objective: str, direction: str,
                   budget: float | str | None, where: str, fix: Mapping[str, Any] | None,
                   **options: Any) -> list[Importance]:
    groups = _by_budget(history, objective)
    sign = -1.0 if direction == "maximize" else 1.0
    if history.multi_objective:
        where = f"{where}: {objective}"
    n_dims = len(_free_dims(space, history.multi_fidelity, fix))
    need = min_evaluations(n_dims)
    budgets = sorted((b for b in groups if b is not None), reverse=True)
    if budget is None or budget == "all":
        chosen = [b for b in (budgets or list(groups)) if len(groups[b]) >= need]
        if not chosen:
            if not groups:
                got = "none"
            elif budgets:
                most = max(budgets, key=lambda b: len(groups[b]))
                got = f"at most {len(groups[most])} (at budget {most:g})"
            else:
                got = str(len(groups[None]))
            at = " at one budget" if budgets else ""
            raise NotEnoughEvaluations(f"{where}: importance needs at least {need} successful evaluations"
                                       f"{at} (2 per dimension, at least 10), got {got}")
        if budget is None:
            chosen = chosen[:1]
    else:
        try:
            b = float(budget)
        except (TypeError, ValueError):
            raise UsageError(f"--budget: expected a number or 'all', got {budget!r}") from None
        if not budgets:
            raise UsageError(f"{where}: --budget {b:g}: the run has no budgets (not multi-fidelity)")
        match = [x for x in budgets if math.isclose(x, b, rel_tol=1e-9, abs_tol=1e-12)]
        if not match:
            raise UsageError(f"{where}: --budget {b:g}: no successful evaluation at that budget "
                             f"(budgets: {', '.join(f'{x:g}' for x in sorted(budgets))})")
        chosen = match
    out = []
    for b in chosen:
        trials = groups[b]
        try:
            out.append(importance_of(space, [_params(t) for t, _ in trials],
                                     [to_loss(direction, v) for _, v in trials], sign=sign,
                                     budget=b, multi_fidelity=history.multi_fidelity, fix=fix, **options))
        except ImportanceUnavailable as exc:
            raise type(exc)(f"{where}: {exc}") from None
    return out


def importance_of_store(store: RunStore, *, budget: float | None = None, objective: str | None = None,
                        **options: Any) -> Importance:
    """The importance at one budget (default: the largest with enough evaluations) of an open store,
    of one objective (default: the first)."""
    history = RunHistory.from_store(store)
    if objective == "all":
        raise UsageError("objective: one objective's name, not 'all' (use importance_by_budget for all)")
    return importance_by_budget(history, store.space, budget=budget, where=str(store.shown),
                                fix=store.settings.get("fix"), objective=objective, **options)[0]


def importance(run_dir: str | os.PathLike, *, budget: float | None = None, pairs: bool = False,
               n_trees: int = N_TREES, seed: int = 0, objective: str | None = None) -> Importance:
    """Which hyperparameters of a run mattered: the share of variance each explains.

    Args:
        run_dir: a run directory (read only).
        budget: for a multi-fidelity run, the budget level; default the largest with enough
            successful evaluations (:func:`min_evaluations`).
        pairs: also the interaction share of each pair (:attr:`Importance.pairs`).
        n_trees: trees in the forest.
        seed: the forest's seed (the same seed gives the same shares).
        objective: a multi-objective run's objective to analyse (default: the first declared).

    Returns:
        An :class:`Importance`: ``ranking``, ``shares``, ``spread`` (over trees) and
        :meth:`Importance.marginal` for the predicted objective against one or two of them.

    Raises:
        NotEnoughEvaluations: too few successful evaluations (one line saying how many it needs).
        StoreError: ``run_dir`` is not a run directory.
    """
    with RunStore.open(run_dir, readonly=True) as store:
        return importance_of_store(store, budget=budget, pairs=pairs, n_trees=n_trees, seed=seed,
                                   objective=objective)


def importance_rows(results: Sequence[Importance], *, top: int = 0, confidence: bool = False,
                    pairs: bool = False) -> tuple[list[str], list[list[Any]]]:
    """A table of importances: a row per hyperparameter (then per pair), most important first.

    Columns: ``objective`` (a multi-objective run's), ``budget`` (when any result has one), ``rank``,
    ``parameter`` (a pair as ``a:b``), ``share``, ``spread`` (with ``confidence``), ``evaluations``.
    ``top`` keeps the first N of the hyperparameters and of the pairs (0: all).
    """
    with_objective = any(r.objective is not None for r in results)
    with_budget = any(r.budget is not None for r in results)
    head = (["objective"] if with_objective else []) + (["budget"] if with_budget else []) \
        + ["rank", "parameter", "share"] + (["spread"] if confidence else []) + ["evaluations"]
    rows = []
    for r in results:
        mains = r.ranking[:top] if top else r.ranking
        items = [(k, n, r.shares[n], r.spread[n]) for k, n in enumerate(mains, 1)]
        if pairs:
            ranked = r.pair_ranking[:top] if top else r.pair_ranking
            items += [(k, f"{a}:{b}", r.pairs[(a, b)], r.pair_spread[(a, b)])
                      for k, (a, b) in enumerate(ranked, 1)]
        for rank, name, share, sd in items:
            rows.append(([r.objective] if with_objective else []) + ([r.budget] if with_budget else [])
                        + [rank, name, round(share, 4)] + ([round(sd, 4)] if confidence else [])
                        + [r.n_evaluations])
    return head, rows
