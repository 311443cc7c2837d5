"""Expected hypervolume improvement (EHVI) of independent Gaussian predictions, exact, for 2 or 3 objectives.

The region that a new point could add to the hypervolume (dominated by the
reference point, not by the current front) is cut into axis-aligned boxes
(:func:`improvement_boxes`): a grid over the first ``m - 1`` objectives on the
front's coordinates, each grid cell a column that stays non-dominated below a
height in the last objective (cells of one row with the same height merged).
The hypervolume improvement of a point ``y`` is then the sum over boxes of
``prod_j max(0, u_j - max(l_j, y_j))``, and with independent Gaussians per
objective its expectation is the same sum of products of one-dimensional
expectations, each in closed form (:func:`ehvi`), so no sampling is needed.
The number of boxes is about ``n + 1`` for two objectives and at most
``(n + 1)^2`` for three (``n`` front points); more objectives are refused.

Losses are minimised (the contract of :mod:`hpsearch.search.base`).
"""
from __future__ import annotations

import math

import numpy as np

from ...problem import pareto

__all__ = ["improvement_boxes", "ehvi", "hvi", "MAX_OBJECTIVES", "reference_for", "hopeless"]

#: the most objectives :func:`improvement_boxes` accepts (the box count grows as n^(m-1)).
MAX_OBJECTIVES = 3

_LOW = -1e300  # stands for -infinity in a box's lower corner (keeps 0 * inf out of the arithmetic)


def _staircase(a: np.ndarray, b: np.ndarray, lows: np.ndarray, top: float) -> np.ndarray:
    """For each ``L`` in ``lows``: the least ``b`` of points with ``a <= L`` (``top`` if none or larger)."""
    if not len(a):
        return np.full(len(lows), top)
    order = np.argsort(a, kind="stable")
    least = np.minimum.accumulate(b[order])
    idx = np.searchsorted(a[order], lows, side="right") - 1
    return np.minimum(np.where(idx >= 0, least[np.maximum(idx, 0)], top), top)


def improvement_boxes(front: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint boxes ``(lower, upper)``, each ``(B, m)``, whose union is where a point improves the
    hypervolume of ``front`` against ``ref`` (lower corners unbounded: ``-1e300``).

    >>> lo, up = improvement_boxes(np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]), np.array([4.0, 4.0]))
    >>> up.tolist()
    [[1.0, 4.0], [2.0, 3.0], [3.0, 2.0], [4.0, 1.0]]
    >>> lo[:, 0].tolist()[1:]
    [1.0, 2.0, 3.0]
    """
    ref = np.asarray(ref, dtype=float)
    m = len(ref)
    if not 2 <= m <= MAX_OBJECTIVES:
        raise ValueError(f"improvement_boxes: 2 to {MAX_OBJECTIVES} objectives, got {m}")
    front = np.asarray(front, dtype=float).reshape(-1, m)
    inside = front[np.all(front < ref, axis=1)]
    if len(inside):
        inside = inside[pareto.pareto_mask(inside)]

    def grid(j: int) -> np.ndarray:
        return np.concatenate([[_LOW], np.unique(inside[:, j]), [ref[j]]])

    if m == 2:
        rows = [((), (), inside)]
    else:
        g0 = grid(0)
        rows = [((g0[i],), (g0[i + 1],), inside[inside[:, 0] <= g0[i]]) for i in range(len(g0) - 1)]
    gc = grid(m - 2)
    lows_c, ups_c = gc[:-1], gc[1:]
    lower, upper = [], []
    for row_low, row_up, pts in rows:
        h = _staircase(pts[:, m - 2], pts[:, m - 1], lows_c, float(ref[m - 1]))
        starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])  # merge neighbours of equal height
        ends = np.r_[starts[1:], len(h)] - 1
        k = len(starts)
        lower.append(np.column_stack([np.full((k, len(row_low)), row_low), lows_c[starts], np.full(k, _LOW)]))
        upper.append(np.column_stack([np.full((k, len(row_up)), row_up), ups_c[ends], h[starts]]))
    return np.vstack(lower), np.vstack(upper)


def ehvi(mu: np.ndarray, sd: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The expected hypervolume improvement of each prediction (``mu``, ``sd``: ``(N, m)``, independent
    Gaussians per objective) over the boxes of :func:`improvement_boxes`.

    Per box and objective, ``E[max(0, u - max(l, Y))] = psi(u) - psi(l)`` with ``psi(v) = E[max(0, v - Y)]
    = (v - mu) Phi(z) + sd phi(z)``, ``z = (v - mu) / sd``; ``psi`` is computed once per distinct corner
    value, and the boxes only gather and multiply.

    >>> lo, up = improvement_boxes(np.array([[1.0, 1.0]]), np.array([2.0, 2.0]))
    >>> round(float(ehvi(np.array([[0.0, 0.0]]), np.full((1, 2), 1e-9), lo, up)[0]), 9)  # certain: 4 - 1
    3.0
    """
    from scipy.special import ndtr

    mu = np.atleast_2d(np.asarray(mu, dtype=float))
    sd = np.maximum(np.atleast_2d(np.asarray(sd, dtype=float)), 1e-12)
    total = np.ones((len(mu), len(lower)))
    for j in range(mu.shape[1]):
        values, inverse = np.unique(np.concatenate([lower[:, j], upper[:, j]]), return_inverse=True)
        finite = values > _LOW
        z = (values[None, finite] - mu[:, j:j + 1]) / sd[:, j:j + 1]
        psi = np.zeros((len(mu), len(values)))
        psi[:, finite] = sd[:, j:j + 1] * (z * ndtr(z) + np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi))
        lo_i, up_i = inverse[:len(lower)], inverse[len(lower):]
        total *= np.maximum(psi[:, up_i] - psi[:, lo_i], 0.0)
    return total.sum(axis=1)


def hopeless(mu: np.ndarray, sd: np.ndarray, front: np.ndarray, k: float = 4.0) -> np.ndarray:
    """True for each prediction whose optimistic corner ``mu - k sd`` is weakly dominated by a front
    point: it improves with probability below ``m * Phi(-k)`` (3e-5 per objective at ``k = 4``), so its
    EHVI need not be computed (the search's cost, at three objectives, is the boxes times the candidates).

    >>> hopeless(np.array([[2.0, 2.0], [0.5, 2.0]]), np.full((2, 2), 0.1), np.array([[1.0, 1.0]])).tolist()
    [True, False]
    """
    corner = np.atleast_2d(mu) - k * np.atleast_2d(sd)
    out = np.zeros(len(corner), dtype=bool)
    for q in np.asarray(front, dtype=float).reshape(-1, corner.shape[1]):
        out |= np.all(q <= corner, axis=1)
    return out


def hvi(points: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The hypervolume improvement of each point (``(N, m)``) over the boxes of :func:`improvement_boxes`.

    >>> lo, up = improvement_boxes(np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]), np.array([4.0, 4.0]))
    >>> hvi(np.array([[1.5, 1.5], [2.0, 2.0], [0.0, 0.0]]), lo, up).tolist()
    [1.25, 0.0, 10.0]
    """
    p = np.atleast_2d(np.asarray(points, dtype=float))
    side = np.maximum(upper[None] - np.maximum(lower[None], p[:, None, :]), 0.0)
    return np.prod(side, axis=2).sum(axis=1)


def reference_for(losses: np.ndarray, declared: tuple[float, ...] | None) -> np.ndarray:
    """The reference point the acquisition measures against: the declared one once some loss lies
    inside it, else the observed front's worst values plus a tenth of its range (1 where flat).

    >>> reference_for(np.array([[0.0, 2.0], [1.0, 0.0]]), None).tolist()
    [1.1, 2.2]
    >>> reference_for(np.array([[0.0, 2.0], [1.0, 0.0]]), (1.5, 1.5)).tolist()
    [1.5, 1.5]
    """
    losses = np.asarray(losses, dtype=float)
    if declared is not None and np.any(np.all(losses < np.asarray(declared, dtype=float), axis=1)):
        return np.asarray(declared, dtype=float)
    front = losses[pareto.pareto_mask(losses)]
    span = np.ptp(front, axis=0)
    return front.max(axis=0) + 0.1 * np.where(span > 0, span, 10.0)
