"""Multi-objective losses for the model searchers: ParEGO's scalarisation and MOTPE's good/bad split.

A multi-objective loss is a tuple of floats, one per objective, each minimised
(the contract in :mod:`hpsearch.search.base`); a single-objective loss stays a
float and none of this applies to it.

* ``bayesian`` (ParEGO, Knowles, IEEE TEC 2006): before each model proposal a
  weight vector is taken (:class:`WeightStream`: for two objectives a
  golden-ratio sequence from a random start drawn from the searcher's seeded
  generator, else a uniform draw on the simplex), every observed loss is
  normalised per objective and reduced to the augmented Chebyshev value
  ``max_j(w_j z_j) + rho * sum_j(w_j z_j)`` (:func:`chebyshev`), and the
  single-objective model proposes for that value. Each proposal aims at a
  different part of the front.
* ``kde`` (multi-objective TPE, Ozaki et al., GECCO 2020 / JAIR 2022): the
  observations are split into "good" and "bad" by non-dominated rank instead
  of a loss quantile; the rank that straddles the boundary is cut by each
  point's hypervolume contribution within that rank, largest first
  (:func:`good_first`).

Ranks come from :func:`hpsearch.problem.pareto.pareto_rank`; the
contributions from moocore (the library :mod:`hpsearch.problem.pareto` uses).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...problem import pareto

__all__ = ["is_vector", "usable", "draw_weights", "WeightStream", "chebyshev", "good_first", "RHO"]

#: ParEGO's augmentation: a small pull towards the sum, so weakly dominated points score worse.
RHO = 0.05


def is_vector(loss: Any) -> bool:
    """True for a multi-objective loss (a tuple or list of floats).

    >>> is_vector((1.0, 2.0)), is_vector(1.0), is_vector(None)
    (True, False, False)
    """
    return isinstance(loss, (tuple, list, np.ndarray))


def usable(loss: Any) -> Any:
    """``loss`` as the model records it: a float or a tuple of floats, or None when missing or not finite.

    >>> usable(0.5), usable((1, 2)), usable((1.0, float("nan"))), usable(None)
    (0.5, (1.0, 2.0), None, None)
    """
    if loss is None:
        return None
    if is_vector(loss):
        values = tuple(float(v) for v in loss)
        return values if all(math.isfinite(v) for v in values) else None
    value = float(loss)
    return value if math.isfinite(value) else None


def draw_weights(rng: np.random.Generator, m: int) -> np.ndarray:
    """A weight vector drawn uniformly on the ``m``-simplex (one draw of ``m`` exponentials)."""
    w = rng.exponential(size=m)
    return w / w.sum()


_GOLDEN = (math.sqrt(5) - 1) / 2


class WeightStream:
    """ParEGO's weight vectors, one per proposal: for two objectives a golden-ratio (Kronecker)
    sequence from a random start, so that successive proposals aim at evenly spread parts of the
    front rather than where chance puts them; for more objectives, uniform draws on the simplex.

    >>> ws = WeightStream(2)
    >>> [w.round(3).tolist() for w in (ws.next(np.random.default_rng(0)) for _ in range(3))]
    [[0.637, 0.363], [0.255, 0.745], [0.873, 0.127]]
    """

    def __init__(self, m: int):
        self.m = m
        self.k = 0
        self.start: float | None = None

    def next(self, rng: np.random.Generator) -> np.ndarray:
        """The next proposal's weights (random draws come from ``rng``, the searcher's seeded stream)."""
        if self.m != 2:
            return draw_weights(rng, self.m)
        if self.start is None:
            self.start = float(rng.random())
        u = (self.start + self.k * _GOLDEN) % 1.0
        self.k += 1
        return np.array([u, 1.0 - u])


def chebyshev(losses: Sequence[Any], weights: np.ndarray, rho: float = RHO) -> list[float | None]:
    """The augmented Chebyshev value of each loss (None stays None).

    Each objective is normalised so that the current front spans [0, 1] (0: the best value seen,
    1: the front's worst); beyond 1 the scale is logarithmic (``1 + log z``), so that the model
    spends its resolution on the front's region rather than on how bad the worst points are
    (measured: a lower regret on ``tests/perf/bench_mo.py``'s zdt than Knowles's plain observed range).

    >>> chebyshev([(0.0, 10.0), (1.0, 0.0), None, (0.5, 5.0)], np.array([0.5, 0.5]), rho=0.0)
    [0.5, 0.5, None, 0.25]
    >>> chebyshev([(0.0, 1.0), (1.0, 0.0), (math.e, math.e)], np.array([0.5, 0.5]), rho=0.0)
    [0.5, 0.5, 1.0]
    """
    ok = [v for v in losses if v is not None]
    if not ok:
        return [None for _ in losses]
    a = pareto.points(ok)
    low = a.min(axis=0)
    span = a[pareto.pareto_mask(a)].max(axis=0) - low
    z = (a - low) / np.where(span > 0, span, 1.0)
    z = np.where(z > 1, 1 + np.log(np.maximum(z, 1)), z) * weights
    values = iter((z.max(axis=1) + rho * z.sum(axis=1)).tolist())
    return [None if v is None else next(values) for v in losses]


def good_first(losses: Sequence[Any]) -> np.ndarray:
    """Indices best first for MOTPE's split: by non-dominated rank, within a rank by hypervolume
    contribution (largest first, the reference point one range beyond the rank's nadir), then by index;
    None (failures) last.

    >>> good_first([(2, 2), None, (1, 3), (3, 1), (2.5, 2.5)]).tolist()
    [2, 3, 0, 4, 1]
    """
    ok = [i for i, v in enumerate(losses) if v is not None]
    failed = [i for i, v in enumerate(losses) if v is None]
    if not ok:
        return np.array(failed, dtype=int)
    a = pareto.points([losses[i] for i in ok])
    ranks = pareto.pareto_rank(a)
    contrib = np.zeros(len(a))
    if a.shape[1] > 1:
        import moocore

        for r in np.unique(ranks):
            idx = np.flatnonzero(ranks == r)
            if len(idx) > 1:
                front = a[idx]
                ref = front.max(axis=0) + np.maximum(np.ptp(front, axis=0), 1e-12)
                contrib[idx] = moocore.hv_contributions(front, ref=ref)
    else:
        contrib = -a[:, 0]
    best = sorted(range(len(ok)), key=lambda i: (ranks[i], -contrib[i], i))
    return np.array([ok[i] for i in best] + failed, dtype=int)
