"""Functional ANOVA of a fitted regression forest, computed exactly from the trees' partitions.

Hutter, Hoos and Leyton-Brown, "An efficient approach for assessing
hyperparameter importance" (ICML 2014): the leaves of a regression tree cut a
bounded domain into boxes, each with a constant value, so every marginal of the
tree's function (its average over the other dimensions under a product measure)
is a sum over leaves weighted by each box's measure in the dimensions averaged
out. The variance of the marginal of dimension ``i``, divided by the tree's
total variance, is the share of the variance that ``i`` explains alone (its
*main effect*); the variance of the marginal of a pair minus both mains is
the pair's interaction share. Shares are computed per tree and averaged over
the forest (their spread over the trees is the uncertainty), as in the paper.

Here everything is vectorised with numpy over leaves: along each ordered
dimension the tree's split points cut the domain into intervals (*atoms*), a
leaf covers a run of consecutive atoms, and a marginal is a cumulative sum of
the leaves' contributions; a categorical dimension (one-hot columns, split per
choice) or a dimension other dimensions depend on is a set of *levels*, and a
leaf covers a subset of them (a boolean mask).

Conditional dimensions: a dimension inactive in a row holds :data:`INACTIVE`
in every column, which the trees may split on. The function analysed is the
one a configuration gets: a dimension's value matters only where its condition
holds, and the inactive code is never a level of the domain. The domain is cut
into *cells*, one per combination of the parents' level classes (levels that
switch the same children on and off); in each cell the activity of every
dimension is fixed, and a leaf maps to one box per cell it meets.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

__all__ = ["Axis", "Domain", "TreeAnova", "INACTIVE", "MAX_CELLS"]

#: The code of an inactive dimension, in each of its columns (outside every axis's domain).
INACTIVE = -1.0
#: The most activity cells a conditional domain may have.
MAX_CELLS = 4096


@dataclass
class Axis:
    """One dimension of the domain, as the forest's columns encode it.

    Attributes:
        name: the dimension's name.
        columns: its columns in the design matrix (one, or one per choice for a categorical).
        categorical: the columns are one-hot (choice ``k`` is the unit vector ``e_k``).
        n_levels: the number of values (choices, list values, grid points, integers);
            None for a continuous range.
        cdf: for an ordered axis, the measure of the codes ``<= t`` (vectorised, from 0 to 1).
        low, high: the domain in code space: [0, 1] for a continuous range, [-0.5, n - 0.5]
            for levels coded 0 .. n-1.
        parents: axis index -> the parent's levels (a boolean mask) for which this axis is active.
    """

    name: str
    columns: tuple[int, ...]
    categorical: bool = False
    n_levels: int | None = None
    cdf: Callable[[np.ndarray], np.ndarray] | None = None
    low: float = 0.0
    high: float = 1.0
    parents: dict[int, np.ndarray] = field(default_factory=dict)

    def level_weights(self) -> np.ndarray:
        """The measure of each level (levels only)."""
        if self.categorical:
            return np.full(self.n_levels, 1.0 / self.n_levels)
        k = np.arange(self.n_levels, dtype=float)
        return self.cdf(k) - self.cdf(k - 1.0)


class Domain:
    """The product domain of the axes, with the activity cells of its conditions.

    Axes must come parents first. An axis is held as *levels* (a mask per leaf)
    when it is categorical or a parent of another axis, else as *atoms* (an
    interval per leaf).
    """

    def __init__(self, axes: Sequence[Axis]):
        self.axes = list(axes)
        n = len(self.axes)
        parent_ids = sorted({p for a in self.axes for p in a.parents})
        self.masked = [a.categorical or i in parent_ids for i, a in enumerate(self.axes)]
        self.weights = [a.level_weights() if m else None for a, m in zip(self.axes, self.masked)]
        # per parent: its levels grouped by the children they switch on
        classes: list[list[np.ndarray]] = []
        for p in parent_ids:
            conds = [a.parents[p] for a in self.axes if p in a.parents]
            sig = np.stack(conds, axis=1) if conds else np.zeros((self.axes[p].n_levels, 0), bool)
            _, inverse = np.unique(sig, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            classes.append([inverse == c for c in range(inverse.max() + 1)])
        n_cells = int(np.prod([len(c) for c in classes])) if classes else 1
        if n_cells > MAX_CELLS:
            raise ValueError(f"the conditions cut the space into {n_cells} activity cells "
                             f"(at most {MAX_CELLS} are supported)")
        #: per cell: which axes are active, and the parents' level masks
        self.cells: list[tuple[np.ndarray, dict[int, np.ndarray]]] = []
        for combo in itertools.product(*classes):
            masks = dict(zip(parent_ids, combo))
            active = np.ones(n, dtype=bool)
            for i, a in enumerate(self.axes):
                for p, allowed in a.parents.items():
                    active[i] &= active[p] and bool(allowed[masks[p]].all())
            self.cells.append((active, masks))
        self.conditional = bool(parent_ids)


@dataclass
class _Part:
    """One axis of a tree's boxes: atoms and each box's run of atoms, or levels and each box's mask."""

    weights: np.ndarray  # per atom or level: its measure
    lo: np.ndarray | None = None  # first atom of each box (atoms)
    hi: np.ndarray | None = None  # one past the last atom of each box
    edges: np.ndarray | None = None  # atom i is (edges[i], edges[i+1]] in code space
    mask: np.ndarray | None = None  # boxes x levels (levels)

    def take(self, keep: np.ndarray) -> _Part:
        if self.mask is not None:
            return _Part(self.weights, mask=self.mask[keep])
        return _Part(self.weights, self.lo[keep], self.hi[keep], self.edges)

    @property
    def size(self) -> int:
        return len(self.weights)


def _leaf_bounds(tree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each leaf's box ``(lo, hi]`` per column, and its value, from a fitted sklearn tree."""
    t = tree.tree_
    left, right, feature, threshold = t.children_left, t.children_right, t.feature, t.threshold
    lo = np.full((t.node_count, t.n_features), -np.inf)
    hi = np.full((t.node_count, t.n_features), np.inf)
    frontier = np.array([0])
    while frontier.size:
        inner = frontier[left[frontier] >= 0]
        if not inner.size:
            break
        ls, rs, f, th = left[inner], right[inner], feature[inner], threshold[inner]
        lo[ls], hi[ls] = lo[inner], hi[inner]
        lo[rs], hi[rs] = lo[inner], hi[inner]
        hi[ls, f] = th  # x <= threshold goes left
        lo[rs, f] = th
        frontier = np.concatenate([ls, rs])
    leaves = np.flatnonzero(left < 0)
    return lo[leaves], hi[leaves], t.value[leaves, 0, 0].astype(float)


class TreeAnova:
    """The functional ANOVA of one fitted regression tree over a :class:`Domain`."""

    def __init__(self, tree, domain: Domain):
        self.domain = domain
        lo, hi, values = _leaf_bounds(tree)
        parts, inactive = [], []
        for i, a in enumerate(domain.axes):
            cols = list(a.columns)
            inactive.append(np.all((lo[:, cols] < INACTIVE) & (hi[:, cols] >= INACTIVE), axis=1))
            parts.append(self._levels(a, lo[:, cols], hi[:, cols]) if domain.masked[i]
                         else self._atoms(a, lo[:, cols[0]], hi[:, cols[0]]))
        self._boxes(parts, inactive, values)
        self._mains: dict[int, np.ndarray] = {}

    # -- the boxes -------------------------------------------------------------------------
    @staticmethod
    def _atoms(a: Axis, lo: np.ndarray, hi: np.ndarray) -> _Part:
        lc, hc = np.clip(lo, a.low, a.high), np.clip(hi, a.low, a.high)
        edges = np.unique(np.concatenate([[a.low, a.high], lc, hc]))
        weights = np.diff(a.cdf(edges))
        return _Part(weights, np.searchsorted(edges, lc), np.searchsorted(edges, hc), edges)

    @staticmethod
    def _levels(a: Axis, lo: np.ndarray, hi: np.ndarray) -> _Part:
        if a.categorical:
            zero_ok = (lo < 0.0) & (hi >= 0.0)
            one_ok = (lo < 1.0) & (hi >= 1.0)
            zero_bad = ~zero_ok
            others_bad = zero_bad.sum(axis=1, keepdims=True) - zero_bad
            mask = one_ok & (others_bad == 0)
        else:
            k = np.arange(a.n_levels, dtype=float)
            mask = (lo < k) & (hi >= k)
        return _Part(a.level_weights(), mask=mask)

    def _boxes(self, parts: list[_Part], inactive: list[np.ndarray], values: np.ndarray) -> None:
        """Cut each leaf by the activity cells; keep the boxes of positive measure."""
        n_axes = len(parts)
        chunks = []
        for active, masks in self.domain.cells:
            cell_parts, s = [], np.empty((len(values), n_axes))
            for i, part in enumerate(parts):
                cls = masks.get(i)
                if part.mask is not None:
                    m = part.mask if active[i] else np.broadcast_to(inactive[i][:, None], part.mask.shape)
                    if cls is not None:
                        m = m & cls
                    cell_parts.append(_Part(part.weights, mask=m))
                    s[:, i] = m @ part.weights
                elif active[i]:
                    cell_parts.append(part)
                    cum = np.concatenate([[0.0], np.cumsum(part.weights)])
                    s[:, i] = cum[part.hi] - cum[part.lo]
                else:
                    full = np.zeros(len(values), dtype=np.intp)
                    cell_parts.append(_Part(part.weights, full, full + part.size, part.edges))
                    s[:, i] = inactive[i]
            keep = np.flatnonzero(np.prod(s, axis=1) > 0)
            chunks.append(([p.take(keep) for p in cell_parts], s[keep], values[keep],
                           np.broadcast_to(active, (len(keep), n_axes))))
        self.parts = [_concat([c[0][i] for c in chunks]) for i in range(n_axes)]
        self.s = np.concatenate([c[1] for c in chunks])
        self.values = np.concatenate([c[2] for c in chunks])
        self.active = np.concatenate([c[3] for c in chunks])
        self.volume = np.prod(self.s, axis=1)
        self.mean = float(self.values @ self.volume)
        self.variance = max(float((self.values ** 2) @ self.volume) - self.mean ** 2, 0.0)

    # -- marginals and variances -------------------------------------------------------------
    def _contrib(self, axes: Sequence[int], where: np.ndarray | None = None) -> np.ndarray:
        """Each box's value times its measure in the axes not in ``axes`` (0 outside ``where``)."""
        c = self.values * self.volume
        for i in axes:
            c = c / self.s[:, i]
        return c if where is None else np.where(where, c, 0.0)

    def main_marginal(self, i: int, where: np.ndarray | None = None) -> np.ndarray:
        """The marginal of axis ``i`` on each of its atoms or levels (unnormalised with ``where``)."""
        c = self._contrib([i], where)
        part = self.parts[i]
        if part.mask is not None:
            return c @ part.mask
        diff = np.bincount(part.lo, c, part.size + 1) - np.bincount(part.hi, c, part.size + 1)
        return np.cumsum(diff)[:-1]

    def main_variance(self, i: int) -> float:
        """The variance of the marginal of axis ``i`` (its main effect)."""
        if i not in self._mains:
            m = self.main_marginal(i)
            self._mains[i] = max(float(self.parts[i].weights @ (m * m)) - self.mean ** 2, 0.0)
        return self._mains[i]

    def pair_marginal(self, i: int, j: int, where: np.ndarray | None = None) -> np.ndarray:
        """The marginal of axes ``i`` and ``j`` on the grid of their atoms or levels."""
        c = self._contrib([i, j], where)
        m = (self._operator(i, c).T @ self._operator(j, None))
        m = m.toarray() if sparse.issparse(m) else np.asarray(m)
        for axis, k in ((0, i), (1, j)):
            if self.parts[k].mask is None:
                m = np.cumsum(m, axis=axis)
        return m[:self.parts[i].size, :self.parts[j].size]

    def pair_variance(self, i: int, j: int) -> float:
        """The variance the pair ``(i, j)`` explains beyond both main effects."""
        m = self.pair_marginal(i, j)
        total = float(self.parts[i].weights @ (m * m) @ self.parts[j].weights) - self.mean ** 2
        return max(total - self.main_variance(i) - self.main_variance(j), 0.0)

    def _operator(self, i: int, c: np.ndarray | None):
        """Boxes x (atoms + 1) difference matrix (+c at a box's first atom, -c past its last), or
        boxes x levels mask, scaled by ``c`` when given."""
        part = self.parts[i]
        w = np.ones(len(self.values)) if c is None else c
        if part.mask is not None:
            return sparse.csr_array(part.mask * w[:, None])
        n = len(self.values)
        rows = np.concatenate([np.arange(n), np.arange(n)])
        return sparse.csr_array((np.concatenate([w, -w]), (rows, np.concatenate([part.lo, part.hi]))),
                                shape=(n, part.size + 1))

    # -- the marginal at given codes ------------------------------------------------------------
    def where_active(self, axes: Sequence[int]) -> tuple[np.ndarray | None, float]:
        """The boxes where all ``axes`` are active, and that region's measure (None, 1 if always)."""
        if not self.domain.conditional:
            return None, 1.0
        where = np.all(self.active[:, list(axes)], axis=1)
        return where, float(self.volume[where].sum())

    def atom_of(self, i: int, codes: np.ndarray) -> np.ndarray:
        """The atom or level index of each code (levels: the code is the index)."""
        part = self.parts[i]
        if part.mask is not None:
            return np.asarray(codes, dtype=np.intp)
        return np.clip(np.searchsorted(part.edges, codes, side="left") - 1, 0, part.size - 1)


def _concat(parts: list[_Part]) -> _Part:
    first = parts[0]
    if first.mask is not None:
        return _Part(first.weights, mask=np.concatenate([p.mask for p in parts]))
    return _Part(first.weights, np.concatenate([p.lo for p in parts]), np.concatenate([p.hi for p in parts]),
                 first.edges)
