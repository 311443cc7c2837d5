"""BOHB's searcher (Falkner et al., ICML 2018): a tree-Parzen ratio of two kernel density estimates.

The observations of one budget (under a multi-fidelity scheduler: the
largest budget with at least ``d + 2`` of them, d = free dimensions) are
split by loss into the best ``top_fraction`` ("good", at least d + 1 points)
and the rest ("bad"). With ``--fidelities all`` (:mod:`.fidelities`), while
no budget has ``d + 2`` observations, every configuration counts instead, at
the largest budget it was observed at, ranked by its quantile within that
budget, each weighing its budget's rank agreement with the largest budget in
the densities (from as soon as d + 2 successful configurations are known,
whatever their budgets). One product-kernel density is fitted to each, in the
compact form of the shared encoding (:mod:`hpsearch.search.encoding`):
Gaussian kernels on the unit interval for continuous and ordinal dimensions,
Aitchison-Aitken kernels for categorical ones, bandwidths by the normal
reference rule and never below ``min_bandwidth``. ``n_samples`` candidates are
drawn from the good density with its bandwidths widened by
``bandwidth_factor`` and the one maximising ``l(x) / g(x)`` (good over bad
density) is proposed. A ``random_fraction`` of the proposals (default 1/3
under hyperband or asha, as in BOHB, except for configurations that start at
the full budget; 0 under fifo), and every proposal while
no budget has enough observations, are random draws. Failed evaluations rank
last (they fall in the "bad" set).

Multi-objective problems (the loss is a tuple): multi-objective TPE (Ozaki et
al., GECCO 2020 / JAIR 2022). The split ranks the observations by
non-dominated rank, and within the rank that straddles the boundary by
hypervolume contribution (:func:`.scalarise.good_first`), instead of by loss;
the densities and the ratio are the same.

Conditional spaces: an inactive dimension's entry holds the encoding's
``inactive`` constant in the observations and in the candidates alike (a
candidate drawn from a centre where it is inactive restarts it uniformly, and
it is imputed again under the candidate's parents), so the kernels compare
branches as well as values; proposals are decoded through
:meth:`HpProblem.complete` and forbidden ones skipped
(:meth:`EncodedSpace.first_new`).

A proposal costs a few milliseconds whatever the number of observations
(``tests/perf/bench_bayesian.py``); everything is drawn from the run's seeded
generator, so a seed and a sequence of observations give the same proposals.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...problem.space import HpProblem
from ..encoding import EncodedSpace, config_key
from ..options import Option
from . import scalarise
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
from .fidelities import POOLED, budget_weights

__all__ = ["KdeSearcher"]


class KdeSearcher(Searcher):
    """BOHB's kernel-density (TPE-style) searcher; see the module docstring."""

    name = "kde"
    model_based = True
    OPTIONS = (
        Option("top_fraction", float, 0.15, "KDE: the fraction of observations modelled as good.",
               least=0.01, most=0.99),
        Option("bandwidth_factor", float, 3.0, "KDE: widens the good density's bandwidths when sampling.",
               least=0.01),
        Option("min_bandwidth", float, 1e-3, "KDE: the smallest bandwidth (keeps some diversity).",
               least=1e-9, most=1.0),
        Option("n_samples", int, 64, "KDE: candidates drawn from the good density per proposal.", least=1),
        RANDOM_FRACTION_OPTION,
        WARM_INCUMBENTS_OPTION,
        PRIOR_OPTION,
        FIDELITIES_OPTION,
    )

    def __init__(self, problem: HpProblem, seed: int | None, multi_fidelity: bool = False,
                 **options: Any):
        super().__init__(problem, seed, multi_fidelity, **options)
        self._enc = EncodedSpace(problem)
        self._d = self._enc.n_groups
        self._cats = np.array(self._enc.categorical_sizes())
        self._obs: dict[Any, tuple[list[np.ndarray], list[float | None]]] = {}
        self._keys: dict[Any, list[str]] = {}  # budget -> the observed configurations' keys, in order
        self._asked: set[str] = set()

    def suggest(self, n: int = 1, stream: tuple[int, ...] | None = None,
                full_budget: bool = False) -> list[dict]:
        out = super().suggest(n, stream, full_budget)
        self._asked.update(config_key(c) for c in out)
        return out

    def results_needed(self) -> int | None:
        # --fidelities all: results at every budget count, so no budget needs d + 2 of its own
        return self._d + 2 if self._d and not self.pooled else None

    def _learn(self, config: dict, budget: Any, loss: float | tuple[float, ...] | None) -> None:
        Z, y = self._obs.setdefault(budget, ([], []))
        Z.append(self._enc.compact(self._enc.encode(config))[0])
        y.append(scalarise.usable(loss))
        self._keys.setdefault(budget, []).append(config_key(config))

    def _warmed(self, configs: list[dict]) -> None:
        # earlier runs' configurations are not proposed again
        self._asked.update(config_key(c) for c in configs)

    def _fitted_on(self) -> Any:
        """The budget the densities are fitted on: the largest with ``d + 2`` successes, else
        :data:`~.fidelities.POOLED` (``--fidelities all``: every budget, once they hold ``d + 2``
        successful configurations together), else :data:`NOT_READY`."""
        if not self._d:
            return NOT_READY
        budget = model_budget(self._obs, self._d + 2)
        if budget is NOT_READY and self.pooled:  # distinct configurations: the densities count each once
            ok = {k for b, (_, ys) in self._obs.items() for k, v in zip(self._keys[b], ys) if v is not None}
            return POOLED if len(ok) >= self._d + 2 else NOT_READY
        return budget

    def _propose(self) -> dict:
        budget = self._fitted_on()
        taken = Taken(self._asked, self.pending)
        if budget is NOT_READY or self.draw_at_random():
            return self.random_draw(self.rng, taken)
        if budget is POOLED:
            good, w_good, bad, w_bad = self._split_pooled()
            n_seen = sum(len(ys) for _, ys in self._obs.values())
        else:
            (good, bad), w_good, w_bad = self._split(budget), None, None
            n_seen = len(self._obs[budget][1])
        if len(bad) == 0 or len(good) == 0:
            return self.random_draw(self.rng, taken)
        o = self.options
        bw_good, bw_bad = self._bandwidths(good, w_good), self._bandwidths(bad, w_bad)
        cands = self._sample(good, bw_good, o["n_samples"], w_good)
        X = self._enc.expand(cands, self.rng)
        if self.prior is not None:  # piBO: candidates from the prior too
            X = np.vstack([X, self.prior.candidates(self.rng, o["n_samples"])])
            cands = self._enc.compact(X)
        elif self._enc.conditional:  # scored as observed: inactive entries imputed under the sampled parents
            cands = self._enc.compact(X)
        score = self._log_density(cands, good, bw_good, w_good) - self._log_density(cands, bad, bw_bad, w_bad)
        if self.prior is not None:  # piBO: l/g times prior(x) ** (beta / n)
            score = score + self.prior.log_weight(X, n_seen)
        found = self._enc.first_new(X, np.argsort(-score, kind="stable"), taken, tries=len(X))
        if found is not None:
            return found[0]
        return self.random_draw(self.rng, taken)  # every candidate was asked before or forbidden

    # -- the two densities -------------------------------------------------------------
    def _split(self, budget: Any) -> tuple[np.ndarray, np.ndarray]:
        Zs, ys = self._obs[budget]
        if self.problem.multi_objective:  # MOTPE: non-dominated rank, then hypervolume contribution
            order = scalarise.good_first(ys)
        else:
            order = np.argsort(np.array([math.inf if v is None else v for v in ys]), kind="stable")
        n, d = len(ys), self._d
        n_good = max(d + 1, int(self.options["top_fraction"] * n))
        n_bad = max(d + 1, int((1 - self.options["top_fraction"]) * n))
        Z = np.array(Zs)
        return Z[order[:n_good]], Z[order[n_good:n_good + n_bad]]

    def _split_pooled(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``--fidelities all``: every configuration, at the largest budget it was observed at, ranked by
        its quantile within that budget (``(rank - 1/2) / n``, failures last; on ties the larger budget
        first); the best ``top_fraction`` of them (at least d + 1) are good and the rest bad, as
        :meth:`_split` splits one budget's. Each point weighs its budget's rank agreement with the
        largest budget (:func:`~.fidelities.budget_weights`; weight 0 leaves a budget out)."""
        weights = budget_weights({b: ys for b, (_, ys) in self._obs.items()}, self._keys)
        largest = {}  # a configuration counts once, at the largest budget it was observed at
        for b in sorted(self._obs, key=lambda b: math.inf if b is None else float(b)):
            largest.update((k, b) for k in self._keys[b])
        Z, q, w, big = [], [], [], []
        for b, (Zs, ys) in self._obs.items():
            if weights[b] <= 0 or all(v is None for v in ys):
                continue
            if self.problem.multi_objective:
                order = scalarise.good_first(ys)
            else:
                order = np.argsort(np.array([math.inf if v is None else v for v in ys]), kind="stable")
            rank = np.empty(len(ys))
            rank[order] = np.arange(len(ys))
            mine = [i for i, k in enumerate(self._keys[b]) if largest[k] == b]
            Z.extend(Zs[i] for i in mine)
            q.extend((rank[mine] + 0.5) / len(ys))
            w.extend([weights[b]] * len(mine))
            big.extend([-(math.inf if b is None else float(b))] * len(mine))
        order = np.lexsort((np.array(big), np.array(q)))  # by quantile, then the larger budget first
        n_good = max(self._d + 1, int(self.options["top_fraction"] * len(q)))
        Za, wa = np.array(Z).reshape(len(q), self._d), np.array(w)
        good, bad = order[:n_good], order[n_good:]
        return Za[good], wa[good], Za[bad], wa[bad]

    def _bandwidths(self, data: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Normal reference rule per column (weighted: the weighted deviation and Kish's effective
        sample size), clipped to [min_bandwidth, the column's maximum]."""
        n = len(data)
        if weights is not None and n > 1:
            w = weights / weights.sum()
            sd = np.sqrt((w[:, None] * (data - w @ data) ** 2).sum(axis=0))
            bw = 1.06 * sd * (1.0 / (w ** 2).sum()) ** (-1 / 5)
        else:
            bw = 1.06 * data.std(axis=0) * n ** (-1 / 5) if n > 1 else np.ones(self._d)
        most = np.where(self._cats > 0, (self._cats - 1) / np.maximum(self._cats, 1), 1.0)
        return np.clip(bw, self.options["min_bandwidth"], np.maximum(most, self.options["min_bandwidth"]))

    def _sample(self, good: np.ndarray, bw: np.ndarray, m: int, weights: np.ndarray | None = None
                ) -> np.ndarray:
        """``m`` draws from the good density (its points chosen in proportion to ``weights``),
        numeric bandwidths widened by ``bandwidth_factor``."""
        rng = self.rng
        if weights is None:
            centres = good[rng.integers(0, len(good), size=m)]
        else:
            centres = good[rng.choice(len(good), size=m, p=weights / weights.sum())]
        out = centres.copy()
        numeric = self._cats == 0
        if numeric.any():
            scale = np.broadcast_to(bw[numeric] * self.options["bandwidth_factor"], (m, int(numeric.sum())))
            out[:, numeric] = _truncated_normal(centres[:, numeric], scale, rng)
        # several objectives: the uniform prior is one more kernel (as Optuna's TPE): the front spans
        # categories, and the good set of an early front may miss the one that matters
        least = 1.0 / (len(good) + 1) if self.problem.multi_objective else 0.0
        for g in np.flatnonzero(~numeric):
            k = int(self._cats[g])
            redraw = rng.random(m) < max(bw[g], least)
            out[redraw, g] = rng.integers(0, k, size=int(redraw.sum()))
        out[centres == self._enc.inactive] = self._enc.inactive  # restarted by expand()
        return out

    def _log_density(self, X: np.ndarray, data: np.ndarray, bw: np.ndarray,
                     weights: np.ndarray | None = None) -> np.ndarray:
        """log of the product-kernel density (its kernels weighted by ``weights``) at each row of ``X``."""
        diff = X[:, None, :] - data[None, :, :]  # (m, n, d)
        logk = np.empty_like(diff)
        numeric = self._cats == 0
        h = bw[numeric]
        logk[:, :, numeric] = -0.5 * (diff[:, :, numeric] / h) ** 2 - np.log(h * math.sqrt(2 * math.pi))
        for g in np.flatnonzero(~numeric):
            k, lam = int(self._cats[g]), bw[g]
            same = np.abs(diff[:, :, g]) < 0.5
            logk[:, :, g] = np.where(same, math.log(max(1 - lam, 1e-12)), math.log(max(lam / (k - 1), 1e-12)))
        total = logk.sum(axis=2)
        top = total.max(axis=1, keepdims=True)
        if weights is None:
            return (top + np.log(np.exp(total - top).mean(axis=1, keepdims=True)))[:, 0]
        return (top + np.log(np.exp(total - top) @ (weights / weights.sum())[:, None]))[:, 0]


def _truncated_normal(mean: np.ndarray, sd: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Normal draws restricted to [0, 1] (inverse CDF, so one draw per value and reproducible)."""
    from scipy.special import ndtr, ndtri

    lo, hi = ndtr((0.0 - mean) / sd), ndtr((1.0 - mean) / sd)
    u = lo + rng.random(mean.shape) * np.maximum(hi - lo, 1e-300)
    x = mean + sd * ndtri(np.clip(u, 1e-300, 1 - 1e-16))
    return np.clip(np.nan_to_num(x, nan=0.5), 0.0, 1.0)
