"""The Pareto front's maths, the one place it is computed: front, ranks, crowding, order, hypervolume.

Every function takes *losses*: one value per evaluation, each either a float
(a single objective) or a tuple of floats (:meth:`HpProblem.to_losses` form,
every objective to be minimised). A point *dominates* another when it is no
worse in every objective and better in at least one. Non-dominated sorting and
the hypervolume come from `moocore <https://multi-objective.github.io/moocore/>`_.

Ties: equal points never dominate each other, so every copy of a front point is
on the front and shares its rank; for a single objective the front is every
evaluation with the best value.

The store's history, the reports and the searchers, schedulers and pruners all
rank through :func:`order` and flag the front through :func:`pareto_mask`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import moocore
import numpy as np

__all__ = ["points", "pareto_mask", "pareto_rank", "crowding_distance", "order", "hypervolume",
           "hypervolume_curve", "reference_point", "REFERENCE_OFFSET"]

#: The fraction of each objective's range added to the nadir by :func:`reference_point`.
REFERENCE_OFFSET = 0.01


def points(losses: Sequence[Any] | np.ndarray) -> np.ndarray:
    """``losses`` as an ``(n, m)`` float array (scalars become one column).

    >>> points([1.0, 2.0]).shape, points([(1, 2), (3, 4), (5, 6)]).shape, points([]).shape
    ((2, 1), (3, 2), (0, 1))
    """
    a = np.asarray(losses, dtype=float)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"losses must be floats or tuples of floats, got an array of shape {a.shape}")
    return a


def pareto_mask(losses: Sequence[Any] | np.ndarray) -> np.ndarray:
    """True for each non-dominated point; every copy of a front point is True.

    >>> pareto_mask([(1, 2), (2, 1), (1, 2), (2, 2), (0.5, 3)]).tolist()
    [True, True, True, False, True]
    >>> pareto_mask([3.0, 1.0, 1.0, 2.0]).tolist()
    [False, True, True, False]
    >>> pareto_mask([]).tolist()
    []
    """
    a = points(losses)
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    if a.shape[1] == 1:
        return a[:, 0] == a[:, 0].min()
    return np.asarray(moocore.is_nondominated(a, keep_weakly=True), dtype=bool)


def pareto_rank(losses: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Non-dominated sorting: 0 for the front, 1 for the front of the rest, ...; copies share a rank.

    >>> pareto_rank([(1, 2), (2, 1), (2, 2), (1, 2), (3, 3)]).tolist()
    [0, 0, 1, 0, 2]
    >>> pareto_rank([2.0, 1.0, 2.0, 5.0]).tolist()
    [1, 0, 1, 2]
    """
    a = points(losses)
    if len(a) == 0:
        return np.zeros(0, dtype=int)
    if a.shape[1] == 1:
        return np.unique(a[:, 0], return_inverse=True)[1].astype(int).reshape(-1)
    return np.asarray(moocore.pareto_rank(a), dtype=int)


def crowding_distance(losses: Sequence[Any] | np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each point within the set (taken as one front).

    For each objective the distinct values are sorted; the smallest and largest
    (the boundary points) get infinity, the others the gap between their
    neighbours over the objective's range; a point's distance is the sum over
    the objectives. Copies of a point share its distance.

    >>> crowding_distance([(0, 4), (1, 2), (2, 1), (4, 0), (1, 2)]).tolist()
    [inf, 1.25, 1.25, inf, 1.25]
    >>> crowding_distance([(1, 1), (1, 1)]).tolist()
    [inf, inf]
    """
    a = points(losses)
    n, m = a.shape
    out = np.zeros(n)
    for j in range(m):
        values, inverse = np.unique(a[:, j], return_inverse=True)
        inverse = inverse.reshape(-1)
        gap = np.full(len(values), np.inf)
        span = values[-1] - values[0] if len(values) else 0.0
        if len(values) > 2 and span > 0:
            gap[1:-1] = (values[2:] - values[:-2]) / span
        out += gap[inverse]
    return out


def order(losses: Sequence[Any] | np.ndarray) -> list[int]:
    """Indices best first: the ranking every scheduler, pruner and report uses.

    Scalars: by value, then index. Tuples: by :func:`pareto_rank`, then
    :func:`crowding_distance` within the rank, largest first (boundary points
    first, so that keeping the head keeps the front spread), then index.

    >>> order([3.0, 1.0, 2.0, 1.0])
    [1, 3, 2, 0]
    >>> order([(2, 2), (1, 3), (3, 1), (2, 1.5), (4, 4)])
    [1, 2, 3, 0, 4]
    """
    a = points(losses)
    n = len(a)
    if a.shape[1] == 1:
        return sorted(range(n), key=lambda i: (a[i, 0], i))
    ranks = pareto_rank(a)
    crowd = np.zeros(n)
    for r in np.unique(ranks):
        idx = np.flatnonzero(ranks == r)
        crowd[idx] = crowding_distance(a[idx])
    return sorted(range(n), key=lambda i: (ranks[i], -crowd[i], i))


def hypervolume(losses: Sequence[Any] | np.ndarray, reference: Sequence[float]) -> float:
    """The volume dominated by the points and bounded by ``reference`` (all objectives minimised).

    A point that is not strictly better than the reference in every objective adds nothing.

    >>> hypervolume([(1, 2), (2, 1)], (3, 3))
    3.0
    >>> hypervolume([(1, 2), (2, 1), (1, 2), (2.5, 2.5)], (3, 3))
    3.0
    >>> hypervolume([(4, 0)], (3, 3)), hypervolume([], (3, 3))
    (0.0, 0.0)
    >>> hypervolume([2.0, 0.5], (3.0,))
    2.5
    """
    a = points(losses)
    ref = np.asarray(reference, dtype=float).reshape(-1)
    if len(a) == 0:
        return 0.0
    if a.shape[1] != len(ref):
        raise ValueError(f"the reference point has {len(ref)} objectives, the points {a.shape[1]}")
    if a.shape[1] == 1:
        return float(max(ref[0] - a[:, 0].min(), 0.0))
    return float(moocore.hypervolume(a, ref=ref))


def hypervolume_curve(losses: Sequence[Any], reference: Sequence[float]) -> list[float]:
    """The hypervolume of the first ``i + 1`` points, for each ``i``; a None point adds nothing.

    >>> hypervolume_curve([(2, 2), None, (1, 2), (2.5, 2.5), (2, 1)], (3, 3))
    [1.0, 1.0, 2.0, 2.0, 3.0]
    """
    out: list[float] = []
    front: list[Any] = []
    hv = 0.0
    for p in losses:
        if p is not None and not any(_weakly_dominates(q, p) for q in front):
            front = [q for q in front if not _weakly_dominates(p, q)] + [p]
            hv = hypervolume(front, reference)
        out.append(hv)
    return out


def _weakly_dominates(p: Any, q: Any) -> bool:
    """``p`` is no worse than ``q`` in every objective."""
    return bool(np.all(np.asarray(p, dtype=float) <= np.asarray(q, dtype=float)))


def reference_point(losses: Sequence[Any] | np.ndarray,
                    offset: float = REFERENCE_OFFSET) -> tuple[float, ...]:
    """The reference point used when none is declared: the nadir of ``losses``, pushed out a little.

    The nadir is each objective's worst (largest) loss over every point given;
    each coordinate is then moved by ``offset`` times the objective's range
    (or ``offset`` times ``max(|nadir|, 1)`` when all points agree), so that
    points on the nadir still count.

    >>> reference_point([(0, 4), (2, 1), (1, 1)])
    (2.02, 4.03)
    >>> reference_point([(1, 5), (1, 5)])
    (1.01, 5.05)
    """
    a = points(losses)
    if len(a) == 0:
        raise ValueError("a reference point needs at least one point")
    nadir, best = a.max(axis=0), a.min(axis=0)
    span = nadir - best
    step = np.where(span > 0, span, np.maximum(np.abs(nadir), 1.0)) * offset
    return tuple(float(round(v, 12)) for v in nadir + step)
