"""The encoded space every model-based searcher shares.

Free dimensions (not pinned by ``--fix``, not single-valued) map onto the unit
cube, kind by kind:

* continuous: ``[low, high]`` scaled to [0, 1], on a log scale for log-uniform
  and log-normal; decoding snaps onto the ``step`` grid;
* ordinal integer range: the same scaling, rounded back to an integer on decoding;
* ordinal list: the position in the list (the declared order is kept);
* categorical: one-hot columns (:meth:`EncodedSpace.encode`), or one column
  holding the choice's index in the *compact* form (:meth:`EncodedSpace.compact`)
  that kernel density estimators use.

Conditional spaces (``when=``): a dimension that ``--fix`` makes never active
has no column. A dimension inactive in a configuration has every one of its
columns set to the ``inactive`` constant, :data:`INACTIVE` (-1.0, outside the
cube) by default, so trees can split on it and a GP sees the branches far
apart. Candidates get the same treatment before a model scores them
(:func:`impute_inactive`, evaluated top-down on the encoded rows), a
perturbation restarts an inactive column uniformly (in case it becomes
active), a proposal is decoded through :meth:`HpProblem.complete` (inactive
values dropped, the others filled) and :meth:`EncodedSpace.first_new` skips
forbidden proposals.

Everything a searcher needs to know about dimension kinds and conditions
lives here, so a new kind of dimension is handled in one module.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..problem.space import Categorical, Continuous, HpProblem, Ordinal, same_value

__all__ = ["EncodedSpace", "INACTIVE", "impute_inactive", "position", "config_key"]

#: The default encoded value of every column of an inactive dimension (outside the unit cube).
INACTIVE = -1.0


class EncodedSpace:
    """Maps configurations of the free dimensions to points of the unit cube and back.

    Attributes:
        groups: ``(kind, dimension, first column, width)`` per encoded dimension,
            kind one of ``real``, ``int``, ``list``, ``cat``.
        n_cols: columns of the one-hot encoding (what the GP models).
        constant: the values of dimensions left out (fixed or single-valued).
        inactive: the value every column of an inactive dimension holds; any
            constant outside [0, 1] (default :data:`INACTIVE`).
        conditional: True when some encoded dimension has a ``when=`` condition.
    """

    def __init__(self, problem: HpProblem, inactive: float = INACTIVE):
        if 0.0 <= inactive <= 1.0:
            raise ValueError(f"EncodedSpace: inactive must lie outside [0, 1], got {inactive}")
        self.problem = problem
        self.inactive = float(inactive)
        self.constant: dict[str, Any] = dict(problem.fixed)
        self.groups: list[tuple[str, Any, int, int]] = []  # (kind, dim, first column, width)
        self.by_name: dict[str, tuple[str, Any, int, int]] = {}
        col = 0
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
        """One configuration as a row; the columns of a dimension it lacks (inactive) hold ``inactive``."""
        x = np.zeros(self.n_cols)
        for kind, d, c, w in self.groups:
            if d.name not in config:
                x[c:c + w] = self.inactive
                continue
            v = config[d.name]
            if kind in ("real", "int"):
                if d.log_scale:
                    lo, hi = self._log_bounds(d)
                    x[c] = (math.log(v) - lo) / (hi - lo)
                else:
                    x[c] = (v - d.low) / (d.high - d.low)
            elif kind == "list":
                x[c] = position(d.values, v) / (len(d.values) - 1)
            else:
                x[c + position(d.choices, v)] = 1.0
        return x

    def decode(self, x: np.ndarray) -> dict:
        """The configuration a row describes: values on their grids, completed top-down."""
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

    def first_new(self, X: np.ndarray, order: Any, taken: Any, tries: int = 50) -> tuple[dict, int] | None:
        """The first of rows ``X[order]`` (at most ``tries``) whose configuration is neither
        forbidden nor in ``taken`` (a container of :func:`config_key`): ``(config, row)``, or None."""
        for i in list(order)[:tries]:
            c = self.decode(X[i])
            if config_key(c) not in taken and not self.problem.is_forbidden(c):
                return c, int(i)
        return None

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
        X0 = np.repeat(centres, m, axis=0)
        if self.conditional:  # an inactive column restarts anywhere, in case the perturbation activates it
            off = X0 == self.inactive
            X0[off] = rng.random(int(off.sum()))
        X = X0 + rng.normal(0.0, scale, size=X0.shape)
        p = 1.0 / max(len(self.groups), 1)
        for kind, _d, c, w in self.groups:
            if kind == "cat":
                old = np.argmax(X0[:, c:c + w], axis=1)
                flip = rng.random(len(X)) < p
                idx = np.where(flip, rng.integers(0, w, size=len(X)), old)
                X[:, c:c + w] = 0.0
                X[np.arange(len(X)), c + idx] = 1.0
        return self.snap(X)

    # -- the compact form: one column per encoded dimension (categoricals as an index) ----
    @property
    def n_groups(self) -> int:
        return len(self.groups)

    def categorical_sizes(self) -> list[int]:
        """Per compact column: the number of choices of a categorical, 0 for an ordered one."""
        return [w if kind == "cat" else 0 for kind, _d, _c, w in self.groups]

    def compact(self, X: np.ndarray) -> np.ndarray:
        """One-hot rows (n x n_cols) to compact rows (n x n_groups)."""
        X = np.atleast_2d(X)
        Z = np.empty((len(X), len(self.groups)))
        for g, (kind, _d, c, w) in enumerate(self.groups):
            Z[:, g] = np.argmax(X[:, c:c + w], axis=1) if kind == "cat" else X[:, c]
            if kind == "cat" and self.conditional:
                Z[X[:, c] == self.inactive, g] = self.inactive
        return Z

    def expand(self, Z: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Compact rows back to one-hot rows, snapped onto values a configuration can take.

        An ``inactive`` entry restarts uniformly (drawn from ``rng``; the first
        choice or 0 without one): under the row's other values its dimension
        may be active. Entries of dimensions inactive in the row end ``inactive``.
        """
        Z = np.array(np.atleast_2d(Z), dtype=float)
        off = Z == self.inactive
        if off.any():
            Z[off] = rng.random(int(off.sum())) if rng is not None else 0.0
        X = np.zeros((len(Z), self.n_cols))
        for g, (kind, _d, c, w) in enumerate(self.groups):
            if kind == "cat":
                idx = np.where(off[:, g], np.minimum(Z[:, g] * w, w - 1), Z[:, g]).astype(int)
                X[np.arange(len(Z)), c + idx] = 1.0
            else:
                X[:, c] = Z[:, g]
        return self.snap(X)


def position(values: list, v: Any) -> int:
    r = repr(v)
    for i, x in enumerate(values):
        if repr(x) == r:
            return i
    for i, x in enumerate(values):  # 64.0 for 64
        if not isinstance(x, (str, bool)) and not isinstance(v, (str, bool)) and x == v:
            return i
    raise ValueError(f"{v!r} is not one of {values}")


def config_key(config: dict) -> str:
    """A hashable identity of a configuration (its items, sorted)."""
    return repr(sorted(config.items()))


def impute_inactive(enc: EncodedSpace, X: np.ndarray) -> np.ndarray:
    """Set every column of a dimension inactive in a row of ``X`` to ``enc.inactive`` (in place).

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
            X[off, c:c + w] = enc.inactive
    return X


def _takes(enc: EncodedSpace, name: str, allowed: list, X: np.ndarray) -> np.ndarray:
    """Rows of ``X`` where dimension ``name`` takes one of ``allowed``."""
    if name in enc.constant:
        return np.full(len(X), any(same_value(enc.constant[name], v) for v in allowed))
    if name not in enc.by_name:  # never active under --fix
        return np.zeros(len(X), dtype=bool)
    kind, d, c, w = enc.by_name[name]
    if kind == "cat":
        return np.isin(np.argmax(X[:, c:c + w], axis=1), [position(d.choices, v) for v in allowed])
    if kind == "list":
        idx = np.rint(np.clip(X[:, c], 0.0, 1.0) * (len(d.values) - 1))
        return np.isin(idx, [position(d.values, v) for v in allowed])
    return np.isin(enc._int(d, X[:, c]), [int(v) for v in allowed])  # an integer range
