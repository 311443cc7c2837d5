"""The encoded space every model-based searcher shares.

Free dimensions (not pinned by ``--fix``, not single-valued) map onto the unit
cube, kind by kind:

* continuous: ``[low, high]`` scaled to [0, 1], on a log scale for log-uniform;
* ordinal integer range: the same scaling, rounded back to an integer on decoding;
* ordinal list: the position in the list (the declared order is kept);
* categorical: one-hot columns (:meth:`EncodedSpace.encode`), or one column
  holding the choice's index in the *compact* form (:meth:`EncodedSpace.compact`)
  that kernel density estimators use.

Everything a searcher needs to know about dimension kinds lives here, so a new
kind of dimension (or conditional dimensions) is handled in one module.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..space import Categorical, Continuous, HpProblem, Ordinal

__all__ = ["EncodedSpace", "position", "config_key"]


class EncodedSpace:
    """Maps configurations of the free dimensions to points of the unit cube and back.

    Attributes:
        groups: ``(kind, dimension, first column, width)`` per encoded dimension,
            kind one of ``real``, ``int``, ``list``, ``cat``.
        n_cols: columns of the one-hot encoding (what the GP models).
        constant: the values of dimensions left out (fixed or single-valued).
    """

    def __init__(self, problem: HpProblem):
        self.problem = problem
        self.constant: dict[str, Any] = dict(problem.fixed)
        self.groups: list[tuple[str, Any, int, int]] = []  # (kind, dim, first column, width)
        col = 0
        for d in problem.dims:
            if d.name in problem.fixed:
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
            col += width
        self.n_cols = col

    @staticmethod
    def _log_bounds(d: Any) -> tuple[float, float]:
        return math.log(d.low), math.log(d.high)

    def encode(self, config: dict) -> np.ndarray:
        x = np.zeros(self.n_cols)
        for kind, d, c, _w in self.groups:
            v = config[d.name]
            if kind in ("real", "int"):
                if d.prior == "log-uniform":
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
        return {d.name: values[d.name] for d in self.problem.dims}

    def _real(self, d: Continuous, u: float) -> float:
        u = min(max(u, 0.0), 1.0)
        if d.prior == "log-uniform":
            lo, hi = self._log_bounds(d)
            v = math.exp(lo + u * (hi - lo))
        else:
            v = d.low + u * (d.high - d.low)
        return float(min(max(v, d.low), d.high))

    def _int(self, d: Ordinal, u: np.ndarray) -> np.ndarray:
        u = np.clip(u, 0.0, 1.0)
        if d.prior == "log-uniform":
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
                if d.prior == "log-uniform":
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
        return Z

    def expand(self, Z: np.ndarray) -> np.ndarray:
        """Compact rows back to one-hot rows, snapped onto values a configuration can take."""
        Z = np.atleast_2d(Z)
        X = np.zeros((len(Z), self.n_cols))
        for g, (kind, _d, c, _w) in enumerate(self.groups):
            if kind == "cat":
                X[np.arange(len(Z)), c + Z[:, g].astype(int)] = 1.0
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
