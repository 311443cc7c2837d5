"""The search space: dimensions, :class:`HpProblem`, validation and sampling.

A problem folder's ``problem.py`` builds one :class:`HpProblem`::

    >>> from hpsearch import HpProblem
    >>> p = HpProblem(objective="loss", direction="minimize")
    >>> p.add_dim("lr", (1e-4, 1e-1, "log-uniform"), default=1e-2)
    >>> p.add_dim("units", (16, 256), default=64)
    >>> p.add_dim("act", ["relu", "tanh"], default="relu")
    >>> [d.kind for d in p.dims]
    ['continuous', 'ordinal', 'categorical']

Every declaration error is a :class:`SpaceError` whose message names the file
that declared the problem and the dimension, and states the rule that broke.
"""
from __future__ import annotations

import bisect
import itertools
import math
import numbers
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = [
    "SpaceError",
    "Dimension",
    "Continuous",
    "Ordinal",
    "Categorical",
    "HpProblem",
    "Forbidden",
    "PRIORS",
    "LOG_PRIORS",
    "DIRECTIONS",
    "to_loss",
    "rank_key",
]

PRIORS = ("uniform", "log-uniform", "normal", "log-normal")
#: priors whose scale is logarithmic (the Bayesian encoding and the plots use a log axis).
LOG_PRIORS = ("log-uniform", "log-normal")
#: how many draws :meth:`HpProblem.sample` makes before it calls a space effectively empty.
MAX_FORBIDDEN_TRIES = 1000
DIRECTIONS = ("maximize", "minimize")


def to_loss(direction: str, objective: float) -> float:
    """The value search backends minimise: the one place the sign is handled."""
    return -objective if direction == "maximize" else objective


def rank_key(direction: str, multi_fidelity: bool = False):
    """Sort key for finished evaluations, best first.

    For a multi-fidelity search a larger budget ranks first (a low-budget value
    is a noisy preview, not a result), then the objective.
    """

    def key(t: Any) -> tuple:
        budget = -(t.budget or 0) if multi_fidelity else 0
        return (budget, to_loss(direction, t.objective), t.trial_id)

    return key


class SpaceError(ValueError):
    """A search-space declaration or a value that breaks one of its rules."""


def display_path(path: str | os.PathLike | None) -> str:
    """Return ``path`` relative to the working directory when inside it."""
    if not path:
        return "<problem>"
    path = os.fspath(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _fmt(x: Any) -> str:
    return repr(x) if isinstance(x, (str, float)) else str(x)


class Dimension:
    """One named hyperparameter. Subclasses define the kind.

    Attributes:
        name: the key of this dimension in every ``config``.
        default: the value of this dimension in the first starting point.
        resource: True for the multi-fidelity resource (epochs, steps, ...).
        when: the condition as declared (parent name -> allowed values), or None.
        parents: the condition once the problem is validated: parent name -> the
            parent's values (of the parent's type) for which this dimension is active.
    """

    kind = "dimension"
    prior = "-"
    step: Any = None

    def __init__(self, name: str | None = None, default: Any = None, resource: bool = False,
                 when: Mapping[str, Any] | None = None):
        self.name = name
        self.default = default
        self.resource = bool(resource)
        self.when = dict(when) if when is not None else None
        self.parents: dict[str, list] = {}

    # -- declared by subclasses ------------------------------------------------
    def from_unit(self, u: float) -> Any:  # pragma: no cover - abstract
        """The value at quantile ``u`` in [0, 1) of this dimension's prior."""
        raise NotImplementedError

    def check(self, value: Any) -> Any:  # pragma: no cover - abstract
        """Return ``value`` as this dimension's Python type, or raise SpaceError."""
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        """Range or choices, for tables."""
        raise NotImplementedError

    def to_dict(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _default_guess(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------
    @property
    def log_scale(self) -> bool:
        """True when the prior works on a log scale (log-uniform, log-normal)."""
        return self.prior in LOG_PRIORS

    def describe_prior(self) -> str:
        """The prior with its parameters, for tables: ``normal(mu=0.5, sigma=0.1)``."""
        return self.prior

    def describe_condition(self) -> str:
        """The condition as text, ``kernel in ['rbf', 'poly'] and ...``, or ``""``."""
        cond = self.parents or self.when or {}
        return " and ".join(f"{p} in {list(v) if isinstance(v, (list, tuple)) else [v]}"
                            for p, v in cond.items())

    def sample(self, rng: np.random.Generator) -> Any:
        """One draw from the prior."""
        return self.from_unit(float(rng.random()))

    def parse(self, text: str) -> Any:
        """Convert a command-line string (``--fix name=value``) to a valid value."""
        return self.check(_parse_literal(text))

    def nearest(self, value: Any) -> Any:
        """The valid value closest to a number (clipped, rounded, on the step grid); for decoders."""
        return self.check(value)

    def _bind(self, name: str, default: Any, resource: bool) -> None:
        """Finish the declaration once the dimension knows its name."""
        self.name = name
        if default is not None:
            self.default = default
        self.resource = self.resource or resource
        if self.default is None:
            self.default = self._default_guess()
        try:
            self.default = self.check(self.default)
        except SpaceError as exc:
            raise SpaceError(f"default {_fmt(self.default)} is invalid: {exc}") from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.describe()}, default={self.default!r})"


def _parse_literal(text: str) -> Any:
    """Read '3' as int, '0.5' as float, 'true' as True, anything else as str."""
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


class _Range(Dimension):
    """What numeric ranges share: the four priors and the optional ``step`` grid.

    Priors: ``uniform`` and ``log-uniform`` over ``[low, high]``; ``normal``
    (``mu``, ``sigma`` in the value's units) and ``log-normal`` (``log(value)``
    is normal with ``mu``, ``sigma`` in natural-log units, as numpy's and
    Polyaxon's ``lognormal``), both truncated to ``[low, high]``. Without
    ``mu``/``sigma`` a normal prior is centred on the range (on the log scale
    for log-normal) with ``sigma`` a quarter of its width. With ``step`` the
    values are ``low + k * step`` (k = 0, 1, ... up to ``high``): a uniform
    prior makes each grid value equally likely, other priors draw and round to
    the nearest grid value.
    """

    integer = False

    def _init_range(self, low: Any, high: Any, prior: str, mu: Any, sigma: Any, step: Any) -> None:
        if prior not in PRIORS:
            raise SpaceError(f"prior must be one of {', '.join(PRIORS)}, got {prior!r}")
        self.prior = prior
        if not self.low < self.high:
            fmt = "{}" if self.integer else "{:g}"
            raise SpaceError(f"needs low < high, got low={fmt.format(self.low)}, "
                             f"high={fmt.format(self.high)}")
        if prior in LOG_PRIORS and self.low <= 0:
            raise SpaceError(f"{prior} needs low > 0, got low={low!r}")
        # the prior's own scale: [lo, hi) with the integer range widened to high + 1
        top = self.high + 1 if self.integer else self.high
        if prior in LOG_PRIORS:
            self._lo, self._hi = math.log(self.low), math.log(top)
        else:
            self._lo, self._hi = float(self.low), float(top)
        self.mu = self.sigma = None
        if prior in ("normal", "log-normal"):
            a, b = ((math.log(self.low), math.log(self.high)) if prior == "log-normal"
                    else (float(self.low), float(self.high)))
            mu = (a + b) / 2 if mu is None else mu
            sigma = (b - a) / 4 if sigma is None else sigma
            if not _is_number(mu) or not math.isfinite(mu):
                raise SpaceError(f"{prior} needs a finite number mu, got {_fmt(mu)}")
            if not _is_number(sigma) or not math.isfinite(sigma) or sigma <= 0:
                raise SpaceError(f"{prior} needs sigma > 0, got sigma={_fmt(sigma)}")
            centre_value = math.exp(mu) if prior == "log-normal" else mu
            if not self.low <= centre_value <= self.high:
                what = "exp(mu)" if prior == "log-normal" else "mu"
                raise SpaceError(f"{prior} needs {what} within [{self.low:g}, {self.high:g}], "
                                 f"got mu={mu:g}" + (f" (exp(mu)={centre_value:g})" if what != "mu" else ""))
            self.mu, self.sigma = float(mu), float(sigma)
            nd = NormalDist(self.mu, self.sigma)
            self._norm = nd
            self._cdf_lo, self._cdf_hi = nd.cdf(self._lo), nd.cdf(self._hi)
        elif mu is not None or sigma is not None:
            raise SpaceError(f"mu and sigma apply to the normal and log-normal priors, got prior={prior!r}")
        self.step = None
        self._k_max = 0
        if step is not None:
            ok = _is_int(step) if self.integer else _is_number(step)
            if not ok or not math.isfinite(step) or step <= 0:
                kind = "a positive integer" if self.integer else "a positive number"
                raise SpaceError(f"step must be {kind}, got step={_fmt(step)}")
            if step > self.high - self.low:
                raise SpaceError(f"step must be at most high - low = {self.high - self.low:g}, "
                                 f"got step={step:g}")
            self.step = int(step) if self.integer else float(step)
            self._k_max = int(math.floor((self.high - self.low) / self.step + 1e-9))

    def _grid(self, k: int) -> Any:
        v = self.low + k * self.step
        return int(v) if self.integer else float(f"{v:.15g}")

    def _snap(self, v: float) -> Any:
        """``v`` (already within the range) moved to the nearest grid value."""
        k = min(max(int(round((v - self.low) / self.step)), 0), self._k_max)
        return self._grid(k)

    def _quantile(self, u: float) -> float:
        """The prior's quantile ``u`` on its own scale, in [lo, hi]."""
        if self.prior in ("normal", "log-normal"):
            p = self._cdf_lo + u * (self._cdf_hi - self._cdf_lo)
            x = self._norm.inv_cdf(min(max(p, 1e-300), 1 - 1e-16))
            return min(max(x, self._lo), self._hi)
        return self._lo + u * (self._hi - self._lo)

    def _on_grid(self, v: float) -> Any:
        """The grid value equal to ``v`` (within rounding), or None."""
        k = (v - self.low) / self.step
        kr = int(round(k))
        if 0 <= kr <= self._k_max and abs(k - kr) <= 1e-9 * max(1.0, abs(k)):
            return self._grid(kr)
        return None

    def _grid_text(self) -> str:
        return f"{self.low:g} + k*{self.step:g}" if self.step is not None else ""

    def describe_prior(self) -> str:
        if self.mu is not None:
            return f"{self.prior}(mu={self.mu:.4g}, sigma={self.sigma:.4g})"
        return self.prior

    def _range_dict(self) -> dict:
        d = {"kind": self.kind, "low": self.low, "high": self.high, "prior": self.prior}
        if self.mu is not None:
            d.update(mu=self.mu, sigma=self.sigma)
        if self.step is not None:
            d["step"] = self.step
        return d

    def _guess(self) -> Any:
        """The default when none is given: the prior's median, on the grid."""
        if self.prior == "normal":
            v = self.mu
        elif self.prior == "log-normal":
            v = math.exp(self.mu)
        elif self.prior == "log-uniform":
            v = math.sqrt(self.low * self.high)
        else:
            v = (self.low + self.high) / 2
        v = min(max(v, self.low), self.high)
        if self.integer:
            v = int(v) if self.prior == "uniform" else int(round(v))
        return self._snap(v) if self.step is not None else v


class Continuous(_Range):
    """A real range ``[low, high]``: uniform, log-uniform, normal or log-normal, optionally on a grid.

    Examples: ``Continuous(1e-4, 1e-1, prior="log-uniform")``,
    ``Continuous(0.0, 1.0, prior="normal", mu=0.5, sigma=0.1)``,
    ``Continuous(0.0, 0.9, step=0.1)``.
    """

    kind = "continuous"

    def __init__(self, low: float, high: float, prior: str = "uniform", default: Any = None,
                 name: str | None = None, resource: bool = False, *, mu: float | None = None,
                 sigma: float | None = None, step: float | None = None,
                 when: Mapping[str, Any] | None = None):
        super().__init__(name, default, resource, when)
        if not (_is_number(low) and _is_number(high)):
            raise SpaceError(f"a continuous range needs two numbers, got ({_fmt(low)}, {_fmt(high)})")
        if not (math.isfinite(low) and math.isfinite(high)):
            raise SpaceError(f"a continuous range needs finite bounds, got ({low}, {high})")
        self.low, self.high = float(low), float(high)
        self._init_range(low, high, prior, mu, sigma, step)
        if prior == "log-uniform":
            self._loglow, self._loghigh = math.log(self.low), math.log(self.high)

    def from_unit(self, u: float) -> float:
        if self.step is not None and self.prior == "uniform":
            return self._grid(min(int(u * (self._k_max + 1)), self._k_max))
        if self.prior == "log-uniform":
            v = math.exp(self._loglow + u * (self._loghigh - self._loglow))
        elif self.prior == "uniform":
            v = self.low + u * (self.high - self.low)
        else:
            x = self._quantile(u)
            v = math.exp(x) if self.prior == "log-normal" else x
        v = min(self.high, max(self.low, v))
        return self._snap(v) if self.step is not None else v

    def check(self, value: Any) -> float:
        if not _is_number(value):
            raise SpaceError(f"expected a number in [{self.low:g}, {self.high:g}], got {_fmt(value)}")
        v = float(value)
        if not self.low <= v <= self.high:
            raise SpaceError(f"expected a number in [{self.low:g}, {self.high:g}], got {_fmt(value)}")
        if self.step is not None:
            g = self._on_grid(v)
            if g is None:
                raise SpaceError(f"expected a value on the grid {self._grid_text()} within "
                                 f"[{self.low:g}, {self.high:g}], got {_fmt(value)}")
            return g
        return v

    def nearest(self, value: Any) -> float:
        v = min(max(float(value), self.low), self.high)
        return self._snap(v) if self.step is not None else v

    def describe(self) -> str:
        grid = f" step {self.step:g}" if self.step is not None else ""
        return f"[{self.low:g}, {self.high:g}]{grid}"

    def to_dict(self) -> dict:
        return self._range_dict()

    def _default_guess(self) -> float:
        return self._guess()


class Ordinal(_Range):
    """Ordered values: an integer range ``low..high`` or an ordered list.

    Examples: ``Ordinal(1, 9)``, ``Ordinal(16, 1024, prior="log-uniform")``,
    ``Ordinal(16, 512, step=16)``, ``Ordinal(values=[32, 64, 128, 256])``.
    """

    kind = "ordinal"
    integer = True

    def __init__(self, low: int | None = None, high: int | None = None, prior: str = "uniform",
                 default: Any = None, values: Sequence[Any] | None = None,
                 name: str | None = None, resource: bool = False, *, mu: float | None = None,
                 sigma: float | None = None, step: int | None = None,
                 when: Mapping[str, Any] | None = None):
        super().__init__(name, default, resource, when)
        if prior not in PRIORS:
            raise SpaceError(f"prior must be one of {', '.join(PRIORS)}, got {prior!r}")
        self.prior = prior
        self.mu = self.sigma = None
        if values is not None:
            if low is not None or high is not None:
                raise SpaceError("give either an integer range (low, high) or values=[...], not both")
            values = list(values)
            if not values:
                raise SpaceError("needs at least one value, got an empty list")
            if len(set(map(repr, values))) != len(values):
                raise SpaceError(f"values must be distinct, got {values}")
            if prior != "uniform" or mu is not None or sigma is not None:
                raise SpaceError("a list of values takes no prior (each value is equally likely)")
            if step is not None:
                raise SpaceError(f"step applies to ranges, not to a list of values, got step={_fmt(step)}")
            self.values: list | None = values
            self.low = self.high = None
            self._index = {repr(v): i for i, v in enumerate(values)}
        else:
            if not (_is_int(low) and _is_int(high)):
                raise SpaceError(f"an integer range needs two integers, got ({_fmt(low)}, {_fmt(high)})")
            self.low, self.high = int(low), int(high)
            self.values = None
            self._init_range(self.low, self.high, prior, mu, sigma, step)
            if prior == "log-uniform":
                self._loglow, self._loghigh = math.log(self.low), math.log(self.high + 1)

    @property
    def is_range(self) -> bool:
        """True for an integer range, False for a list of values."""
        return self.values is None

    def from_unit(self, u: float) -> Any:
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.step is not None and self.prior == "uniform":
            return self._grid(min(int(u * (self._k_max + 1)), self._k_max))
        if self.prior == "log-uniform":
            v = int(math.exp(self._loglow + u * (self._loghigh - self._loglow)))
        elif self.prior == "uniform":
            v = self.low + int(u * (self.high - self.low + 1))
        else:
            x = self._quantile(u)
            v = int(math.floor(math.exp(x) if self.prior == "log-normal" else x))
        v = min(self.high, max(self.low, v))
        return self._snap(v) if self.step is not None else v

    def check(self, value: Any) -> Any:
        if self.values is not None:
            i = self._index.get(repr(value))
            if i is None and _is_number(value):  # 64.0 for 64, 3 for 3.0
                i = next((j for j, v in enumerate(self.values) if _is_number(v) and v == value), None)
            if i is None:
                raise SpaceError(f"expected one of {self.values}, got {_fmt(value)}")
            return self.values[i]
        if _is_number(value) and float(value).is_integer():
            v = int(value)
            if self.low <= v <= self.high:
                if self.step is not None and self._on_grid(v) is None:
                    raise SpaceError(f"expected a value on the grid {self._grid_text()} within "
                                     f"[{self.low}, {self.high}], got {_fmt(value)}")
                return v
        raise SpaceError(f"expected an integer in [{self.low}, {self.high}], got {_fmt(value)}")

    def nearest(self, value: Any) -> Any:
        if self.values is not None:
            return self.check(value)
        v = min(max(int(round(float(value))), self.low), self.high)
        return self._snap(v) if self.step is not None else v

    def describe(self) -> str:
        if self.values is not None:
            return f"{self.values}"
        grid = f" step {self.step}" if self.step is not None else ""
        return f"[{self.low}, {self.high}]{grid}"

    def to_dict(self) -> dict:
        if self.values is not None:
            return {"kind": self.kind, "values": list(self.values)}
        return self._range_dict()

    def _default_guess(self) -> Any:
        if self.values is not None:
            return self.values[(len(self.values) - 1) // 2]
        if self.prior == "log-uniform" and self.step is None:
            return int(round(math.sqrt(self.low * self.high)))
        if self.prior == "uniform" and self.step is None:
            return (self.low + self.high) // 2
        return self._guess()


class Categorical(Dimension):
    """Unordered choices, each equally likely unless ``weights`` are given.

    Example: ``Categorical(["relu", "tanh"], weights=[0.7, 0.3])``.
    """

    kind = "categorical"

    def __init__(self, choices: Sequence[Any], weights: Sequence[float] | None = None,
                 default: Any = None, name: str | None = None, resource: bool = False, *,
                 when: Mapping[str, Any] | None = None):
        super().__init__(name, default, resource, when)
        choices = list(choices)
        if not choices:
            raise SpaceError("needs at least one choice, got an empty list")
        if len(set(map(repr, choices))) != len(choices):
            raise SpaceError(f"choices must be distinct, got {choices}")
        self.choices = choices
        self._index = {repr(c): i for i, c in enumerate(choices)}
        if weights is not None:
            w = [float(x) for x in weights]
            if len(w) != len(choices):
                raise SpaceError(f"needs one weight per choice ({len(choices)}), got {len(w)}")
            if any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
                raise SpaceError(f"weights must be >= 0 with a positive sum, got {list(weights)}")
            total = sum(w)
            self.weights: list[float] | None = [x / total for x in w]
            self._cumulative = list(itertools.accumulate(self.weights))
            self.prior = "weighted"
        else:
            self.weights = None
            self.prior = "uniform"

    def from_unit(self, u: float) -> Any:
        n = len(self.choices)
        if self.weights is None:
            return self.choices[min(int(u * n), n - 1)]
        return self.choices[min(bisect.bisect_right(self._cumulative, u), n - 1)]

    def check(self, value: Any) -> Any:
        i = self._index.get(repr(value))
        if i is None:
            raise SpaceError(f"expected one of {self.choices}, got {_fmt(value)}")
        return self.choices[i]

    def parse(self, text: str) -> Any:
        if repr(text) in self._index:
            return self.check(text)
        return self.check(_parse_literal(text))

    def describe(self) -> str:
        if self.weights is None:
            return "{" + ", ".join(map(_fmt, self.choices)) + "}"
        return "{" + ", ".join(f"{_fmt(c)}: {w:.2g}" for c, w in zip(self.choices, self.weights)) + "}"

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "choices": list(self.choices)}
        if self.weights is not None:
            d["weights"] = self.weights
        return d

    def _default_guess(self) -> Any:
        return self.choices[0]


def make_dimension(spec: Any, **options: Any) -> Dimension:
    """Turn DeepHyper's shorthand into a dimension.

    * ``(1, 9)``: integer range (ordinal); ``(16, 1024, "log-uniform")`` too.
    * ``(0.0, 0.9)`` or any tuple holding a float: continuous.
    * ``[32, 64, 128]``: a list of numbers is ordinal, in the order given.
    * ``["relu", "tanh"]``: a list holding a string or a bool is categorical.
    * a :class:`Dimension` instance is used as it is.

    ``options`` (``mu``, ``sigma``, ``step``) go to a range's constructor.
    """
    if isinstance(spec, Dimension):
        if options:
            raise SpaceError(f"give {', '.join(sorted(options))} to {type(spec).__name__}(...), "
                             "not to add_dim, when the dimension is explicit")
        return spec
    if isinstance(spec, tuple):
        if len(spec) not in (2, 3):
            raise SpaceError(f"a range is (low, high) or (low, high, prior), got {spec!r}")
        low, high = spec[0], spec[1]
        prior = spec[2] if len(spec) == 3 else "uniform"
        if not (_is_number(low) and _is_number(high)):
            raise SpaceError(f"a range needs two numbers, got {spec!r}")
        if _is_int(low) and _is_int(high):
            return Ordinal(low, high, prior=prior, **options)
        return Continuous(low, high, prior=prior, **options)
    if isinstance(spec, (list, range)):
        spec = list(spec)
        if not spec:
            raise SpaceError("needs at least one choice, got an empty list")
        if options:
            raise SpaceError(f"{', '.join(sorted(options))} applies to ranges (a tuple), not to a list "
                             f"of choices, got {spec!r}")
        if all(_is_number(v) for v in spec):
            return Ordinal(values=spec)
        return Categorical(spec)
    raise SpaceError(
        f"expected a tuple (range), a list (choices) or a Dimension, got {type(spec).__name__} {spec!r}"
    )


def _caller_file() -> str | None:
    """The file that called into HpProblem, for error messages."""
    f = sys._getframe(1)
    here = __file__
    while f is not None and f.f_code.co_filename == here:
        f = f.f_back
    return f.f_code.co_filename if f is not None else None


def _as_list(v: Any) -> list:
    return list(v) if isinstance(v, (list, tuple, set, frozenset, range)) else [v]


def same_value(a: Any, b: Any) -> bool:
    """Equality of dimension values by type and value: True is not 1, 3.0 is 3, "3" is not 3."""
    return repr(a) == repr(b) or (_is_number(a) and _is_number(b) and a == b)


def _contains(values: Sequence[Any], v: Any) -> bool:
    """``v in values`` by :func:`same_value`."""
    return any(same_value(x, v) for x in values)


@dataclass(frozen=True)
class Forbidden:
    """A forbidden combination: the named dimensions may not take these values together.

    ``values`` maps a dimension to the values it must take for the clause to
    apply (one of them); a configuration where one of the named dimensions is
    inactive is not concerned.
    """

    values: tuple[tuple[str, tuple], ...]

    def matches(self, config: Mapping[str, Any]) -> bool:
        """True if ``config`` holds every named dimension with one of the listed values."""
        return all(n in config and _contains(vs, config[n]) for n, vs in self.values)

    def to_dict(self) -> dict:
        return {n: list(vs) for n, vs in self.values}

    def __str__(self) -> str:
        parts = ", ".join(f"{n}={_fmt(vs[0]) if len(vs) == 1 else list(vs)}" for n, vs in self.values)
        return f"add_forbidden({parts})"


class HpProblem:
    """A search space plus what to optimise.

    A dimension may be conditional (``when=``): it is *active*, and present in
    a configuration, only when each named parent is active and takes one of
    the listed values; combinations may be forbidden (:meth:`add_forbidden`).
    Every searcher gets both through this class: :meth:`sample` draws top-down
    and rejects forbidden draws, :meth:`check` refuses inactive values and
    forbidden combinations, :meth:`complete` turns any assignment into the
    configuration it describes.

    Args:
        objective: name of the metric to optimise (a key of the dict that
            ``run`` returns, or the name given to a bare number).
        direction: ``"maximize"`` (default, as in DeepHyper) or ``"minimize"``.
        optimum: the known best objective value, when there is one, so that
            reports can show regret.
        kind: what sort of benchmark this is (``classification``,
            ``regression``, ``synthetic``, ...), for ``hps list`` and the docs.
    """

    def __init__(self, objective: str = "objective", direction: str = "maximize",
                 optimum: float | None = None, kind: str | None = None):
        self.source = _caller_file()
        if direction not in DIRECTIONS:
            raise SpaceError(f"{self._where()}direction must be 'maximize' or 'minimize', got {direction!r}")
        if not isinstance(objective, str) or not objective:
            raise SpaceError(f"{self._where()}objective must be a non-empty name, got {objective!r}")
        self.objective = objective
        self.direction = direction
        self.optimum = None if optimum is None else float(optimum)
        self.kind = kind
        self.dims: list[Dimension] = []
        self._by_name: dict[str, Dimension] = {}
        self._starting_points: list[dict] = []
        self._forbidden_raw: list[dict] = []
        self.forbidden: list[Forbidden] = []
        self.fixed: dict[str, Any] = {}
        self._order: list[Dimension] | None = None  # parents first; None until validated

    # -- declaration -----------------------------------------------------------
    def _where(self, name: str | None = None) -> str:
        where = f"{display_path(self.source)}: " if self.source else ""
        return where + (f"dimension {name!r}: " if name is not None else "")

    def add_dim(self, name: str, spec: Any, default: Any = None, resource: bool = False,
                when: Mapping[str, Any] | None = None, **options: Any) -> Dimension:
        """Declare a dimension from the shorthand or an explicit Dimension.

        Args:
            name: a unique identifier.
            spec: the shorthand (a tuple range, a list of choices) or a Dimension.
            default: its value in the first starting point.
            resource: True for the multi-fidelity resource.
            when: a condition, parent name -> value or list of values: the
                dimension is active only when every parent takes one of them.
            **options: ``mu``, ``sigma`` (normal priors) and ``step`` for a range.

        Raises:
            SpaceError: naming the file and the dimension, for any bad declaration.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise SpaceError(f"{self._where()}a dimension name must be an identifier, got {name!r}")
        if name in self._by_name:
            raise SpaceError(f"{self._where(name)}declared twice (names must be unique)")
        unknown = sorted(set(options) - {"mu", "sigma", "step"})
        if unknown:
            raise SpaceError(f"{self._where(name)}unknown option {unknown[0]!r} "
                             "(add_dim takes default, resource, when, mu, sigma, step)")
        try:
            dim = make_dimension(spec, **options)
            dim._bind(name, default, resource)
        except SpaceError as exc:
            raise SpaceError(f"{self._where(name)}{exc}") from None
        if when is not None:
            if dim.when is not None:
                raise SpaceError(f"{self._where(name)}a condition is given twice (in the dimension and "
                                 "in add_dim); give it once")
            dim.when = when
        if dim.when is not None and not isinstance(dim.when, Mapping):
            raise SpaceError(f"{self._where(name)}when must be a dict parent -> value(s), got {dim.when!r}")
        if dim.resource:
            if isinstance(dim, Categorical) or (isinstance(dim, Ordinal) and not dim.is_range):
                raise SpaceError(
                    f"{self._where(name)}a resource must be a numeric range, got {dim.describe()}")
            if dim.when:
                raise SpaceError(f"{self._where(name)}the resource cannot be conditional "
                                 "(multi-fidelity algorithms set it for every configuration)")
            other = self.resource
            if other is not None:
                raise SpaceError(
                    f"{self._where(name)}only one resource is allowed, {other.name!r} is one already"
                )
        self.dims.append(dim)
        self._by_name[name] = dim
        self._order = None
        return dim

    add_hyperparameter = add_dim  # DeepHyper's name

    def add_starting_point(self, **values: Any) -> None:
        """Add a configuration to evaluate first; missing active dimensions take their default.

        Naming a dimension that is inactive in this point, or a forbidden
        combination, is an error (raised when the problem is validated).
        """
        unknown = [k for k in values if k not in self._by_name]
        if unknown:
            raise SpaceError(f"{self._where(unknown[0])}starting point names an undeclared dimension")
        point = {}
        for name, v in values.items():
            try:
                point[name] = self._by_name[name].check(v)
            except SpaceError as exc:
                raise SpaceError(f"{self._where(name)}starting point: {exc}") from None
        self._starting_points.append(point)
        self._order = None

    def add_forbidden(self, **values: Any) -> Forbidden:
        """Forbid a combination: ``add_forbidden(penalty="l1", solver="lbfgs")``.

        The named dimensions may not take these values together; a list stands
        for any of its values (``solver=["lbfgs", "newton-cg"]``). Forbidden
        configurations are never sampled, suggested or evaluated.
        """
        if not values:
            raise SpaceError(f"{self._where()}add_forbidden needs at least one name=value")
        self._forbidden_raw.append(dict(values))
        self._order = None
        return Forbidden(tuple((n, tuple(_as_list(v))) for n, v in values.items()))

    # -- validation --------------------------------------------------------------
    def validate(self) -> None:
        """Check conditions, forbidden clauses, defaults and starting points together.

        Called by the loader after ``problem.py`` is imported (and by every
        query below on first use), so that declarations may come in any order.

        Raises:
            SpaceError: one line naming the file and the dimension: an unknown
                parent, a cycle, a condition on a value the parent can never
                take, a forbidden default configuration, a starting point that
                sets an inactive dimension or is forbidden.
        """
        if self._order is not None:
            return
        for d in self.dims:
            d.parents = {}
            for pname, vals in (d.when or {}).items():
                if pname not in self._by_name:
                    raise SpaceError(f"{self._where(d.name)}when: unknown parent {pname!r} "
                                     f"(dimensions: {', '.join(self.names)})")
                parent = self._by_name[pname]
                if parent.resource:
                    raise SpaceError(f"{self._where(d.name)}when: parent {pname!r} is the resource, which "
                                     "multi-fidelity algorithms change; a condition cannot depend on it")
                if isinstance(parent, Continuous):
                    raise SpaceError(f"{self._where(d.name)}when: parent {pname!r} is continuous; a "
                                     "condition needs a categorical or ordinal parent")
                vals = _as_list(vals)
                if not vals:
                    raise SpaceError(f"{self._where(d.name)}when: {pname!r} needs at least one value")
                canon = []
                for v in vals:
                    try:
                        canon.append(parent.check(v))
                    except SpaceError:
                        raise SpaceError(f"{self._where(d.name)}when: {pname!r} can never take {_fmt(v)} "
                                         f"(its values: {parent.describe()})") from None
                d.parents[pname] = canon
        order = self._topological()
        forbidden = []
        for raw in self._forbidden_raw:
            items = []
            for n, vs in raw.items():
                if n not in self._by_name:
                    raise SpaceError(f"{self._where(n)}add_forbidden names an undeclared dimension")
                d = self._by_name[n]
                if d.resource:
                    raise SpaceError(f"{self._where(n)}add_forbidden: the resource cannot be forbidden by "
                                     "value (multi-fidelity algorithms set it)")
                if isinstance(d, Continuous):
                    raise SpaceError(f"{self._where(n)}add_forbidden: a continuous dimension cannot be "
                                     "forbidden by value (name categorical or ordinal dimensions)")
                vs = _as_list(vs)
                if not vs:
                    raise SpaceError(f"{self._where(n)}add_forbidden: needs at least one value")
                try:
                    items.append((n, tuple(d.check(v) for v in vs)))
                except SpaceError as exc:
                    raise SpaceError(f"{self._where(n)}add_forbidden: {exc}") from None
            forbidden.append(Forbidden(tuple(items)))
        self._order, self.forbidden = order, forbidden
        try:
            default = self.complete({})
            clause = self.forbidden_by(default)
            if clause is not None:
                raise SpaceError(f"{self._where(clause.values[0][0])}the default configuration is "
                                 f"forbidden by {clause}")
            for point in self._starting_points:
                full = self.complete(point)
                for n, v in point.items():
                    if n not in full:
                        raise SpaceError(f"{self._where(n)}starting point sets {_fmt(v)}, but the "
                                         f"dimension is inactive there (it needs "
                                         f"{self._by_name[n].describe_condition()})")
                clause = self.forbidden_by(full)
                if clause is not None:
                    raise SpaceError(f"{self._where(clause.values[0][0])}starting point "
                                     f"{_fmt_config(point)} is forbidden by {clause}")
        except SpaceError:
            self._order = None
            raise

    def _topological(self) -> list[Dimension]:
        """Dimensions with every parent before its children (declaration order otherwise)."""
        state: dict[str, int] = {}  # 1: visiting, 2: done
        out: list[Dimension] = []

        def visit(d: Dimension, path: list[str]) -> None:
            if state.get(d.name) == 2:
                return
            if state.get(d.name) == 1:
                cycle = path[path.index(d.name):] + [d.name]
                raise SpaceError(f"{self._where(d.name)}when: a cycle of conditions "
                                 f"({' -> '.join(cycle)})")
            state[d.name] = 1
            for p in d.parents:
                visit(self._by_name[p], path + [d.name])
            state[d.name] = 2
            out.append(d)

        for d in self.dims:
            visit(d, [])
        return out

    # -- queries ---------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dims]

    @property
    def order(self) -> list[Dimension]:
        """The dimensions with every parent before its children (validates first)."""
        self.validate()
        return list(self._order)

    @property
    def conditional(self) -> bool:
        """True if some dimension has a condition or some combination is forbidden."""
        return any(d.when for d in self.dims) or bool(self._forbidden_raw)

    @property
    def resource(self) -> Dimension | None:
        """The resource dimension, or None."""
        return next((d for d in self.dims if d.resource), None)

    @property
    def free_dims(self) -> list[Dimension]:
        """Dimensions a search backend chooses: not pinned by ``--fix``, and possibly active."""
        return [d for d in self.dims if d.name not in self.fixed and self.can_be_active(d.name)]

    def __getitem__(self, name: str) -> Dimension:
        return self._by_name[name]

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self.dims)

    def _is_active(self, d: Dimension, values: Mapping[str, Any]) -> bool:
        """``d`` is active given its parents' entries in ``values`` (an absent parent is inactive)."""
        return all(p in values and _contains(allowed, values[p]) for p, allowed in d.parents.items())

    def active(self, config: Mapping[str, Any]) -> list[str]:
        """The dimensions active under ``config``'s values, in declaration order.

        Evaluated top-down: a dimension is active when each parent is active
        and ``config`` gives it one of the listed values.
        """
        self.validate()
        on: dict[str, Any] = {}
        for d in self._order:
            if self._is_active(d, on) and d.name in config:
                on[d.name] = config[d.name]
            elif self._is_active(d, on):
                on[d.name] = None  # active, value unknown: its children are not
        return [n for n in self.names if n in on]

    def tree(self) -> list[tuple[int, Dimension]]:
        """(depth, dimension) in tree order, for ``hps show`` and the docs.

        A conditional dimension is listed under its parent (the one declared
        last when it has several), one level deeper; the rest keep their
        declaration order.
        """
        order = self.order
        pos = {d.name: i for i, d in enumerate(order)}
        children: dict[str | None, list[Dimension]] = {}
        for d in self.dims:
            parent = max(d.parents, key=pos.__getitem__) if d.parents else None
            children.setdefault(parent, []).append(d)
        out: list[tuple[int, Dimension]] = []

        def walk(parent: str | None, depth: int) -> None:
            for d in children.get(parent, []):
                out.append((depth, d))
                walk(d.name, depth + 1)

        walk(None, 0)
        return out

    def can_be_active(self, name: str) -> bool:
        """False when ``--fix`` pins a parent (or an ancestor) so that ``name`` is never active."""
        self.validate()
        d = self._by_name[name]
        for p, allowed in d.parents.items():
            if not self.can_be_active(p):
                return False
            if p in self.fixed and not _contains(allowed, self.fixed[p]):
                return False
        return True

    def forbidden_by(self, config: Mapping[str, Any]) -> Forbidden | None:
        """The first forbidden clause ``config`` matches, or None."""
        self.validate()
        return next((f for f in self.forbidden if f.matches(config)), None)

    def is_forbidden(self, config: Mapping[str, Any]) -> bool:
        """True if ``config`` takes a forbidden combination."""
        return self.forbidden_by(config) is not None

    def complete(self, values: Mapping[str, Any]) -> dict:
        """The configuration ``values`` describe: active dimensions only, top-down.

        Each active dimension takes its ``--fix`` value, else its value in
        ``values``, else its default; values of inactive dimensions are
        dropped. This is how starting points are filled in and how a decoded
        model proposal becomes a configuration.
        """
        self.validate()
        out: dict[str, Any] = {}
        for d in self._order:
            if not self._is_active(d, out):
                continue
            if d.name in self.fixed:
                out[d.name] = self.fixed[d.name]
            elif d.name in values:
                out[d.name] = values[d.name]
            else:
                out[d.name] = d.default
        return {n: out[n] for n in self.names if n in out}

    @property
    def defaults(self) -> dict:
        """The default configuration (``--fix`` values applied; inactive dimensions absent)."""
        return self.complete({})

    @property
    def starting_points(self) -> list[dict]:
        """The defaults, then each added starting point, without repeats.

        With ``--fix`` a point is completed under the pinned values, and one
        that the pins make forbidden is skipped.
        """
        seen, out = set(), []
        for p in [{}, *self._starting_points]:
            p = self.complete(p)
            key = repr(sorted(p.items()))
            if key not in seen and not self.is_forbidden(p):
                seen.add(key)
                out.append(p)
        return out

    def sample(self, rng: np.random.Generator) -> dict:
        """One configuration drawn from the priors, top-down (fixed ones pinned).

        One uniform draw per declared dimension, mapped through the prior's
        quantiles; a dimension whose parents do not allow it is left out. A
        forbidden draw is rejected and drawn again, at most
        :data:`MAX_FORBIDDEN_TRIES` times.

        Raises:
            SpaceError: every draw was forbidden (the space is effectively empty).
        """
        self.validate()
        fixed = self.fixed
        index = {d.name: i for i, d in enumerate(self.dims)}
        for _ in range(MAX_FORBIDDEN_TRIES):
            units = rng.random(len(self.dims)).tolist()
            out: dict[str, Any] = {}
            for d in self._order:
                if self._is_active(d, out):
                    out[d.name] = fixed[d.name] if d.name in fixed else d.from_unit(units[index[d.name]])
            config = {n: out[n] for n in self.names if n in out}
            if not self.forbidden or self.forbidden_by(config) is None:
                return config
        clauses = "; ".join(map(str, self.forbidden))
        raise SpaceError(f"{self._where()}the space is effectively empty: {MAX_FORBIDDEN_TRIES} draws in a "
                         f"row were forbidden ({clauses}{'; --fix ' + _fmt_config(fixed) if fixed else ''})")

    def check(self, config: Mapping[str, Any], drop_inactive: bool = False) -> dict:
        """Validate a configuration; return it with values of the declared types.

        Every active dimension must be present; an inactive one must be absent
        (or is dropped, with ``drop_inactive``); a forbidden combination is refused.
        """
        self.validate()
        extra = [k for k in config if k not in self._by_name]
        if extra:
            raise SpaceError(f"{self._where(extra[0])}not a dimension of this problem")
        out: dict[str, Any] = {}
        for d in self._order:
            if not self._is_active(d, out):
                if d.name in config and not drop_inactive:
                    raise SpaceError(f"{self._where(d.name)}inactive in this configuration (it needs "
                                     f"{d.describe_condition()}), but set to {_fmt(config[d.name])}")
                continue
            if d.name not in config:
                raise SpaceError(f"{self._where(d.name)}missing from the configuration")
            try:
                out[d.name] = d.check(config[d.name])
            except SpaceError as exc:
                raise SpaceError(f"{self._where(d.name)}{exc}") from None
        out = {n: out[n] for n in self.names if n in out}
        clause = self.forbidden_by(out)
        if clause is not None:
            raise SpaceError(f"{self._where(clause.values[0][0])}the configuration is forbidden by {clause}")
        return out

    def to_loss(self, objective: float) -> float:
        """The value search backends minimise (see :func:`to_loss`)."""
        return to_loss(self.direction, objective)

    def fix(self, values: Mapping[str, Any]) -> HpProblem:
        """A copy with some dimensions pinned to a value (``--fix name=value``).

        String values are parsed as on the command line. Pinning a parent
        prunes the tree: children it rules out are never active. Pinning a
        dimension that the other pins make inactive, or a forbidden
        combination, is an error.
        """
        self.validate()
        new = object.__new__(HpProblem)
        new.__dict__.update(self.__dict__)
        new.fixed = dict(self.fixed)
        for name, value in values.items():
            if name not in self._by_name:
                close = ", ".join(self.names)
                raise SpaceError(f"--fix: no dimension {name!r} (dimensions: {close})")
            dim = self._by_name[name]
            try:
                new.fixed[name] = dim.parse(value) if isinstance(value, str) else dim.check(value)
            except SpaceError as exc:
                raise SpaceError(f"--fix: dimension {name!r}: {exc}") from None
        for name in new.fixed:
            if not new.can_be_active(name):
                d = self._by_name[name]
                pins = {p: new.fixed[p] for p in d.parents if p in new.fixed}
                raise SpaceError(f"--fix: dimension {name!r} is never active with --fix "
                                 f"{_fmt_config(pins) or 'as given'} (it needs {d.describe_condition()})")
        clause = next((f for f in self.forbidden
                       if all(n in new.fixed for n, _ in f.values) and f.matches(new.fixed)), None)
        if clause is not None:
            raise SpaceError(f"--fix: the pinned values are forbidden by {clause}")
        return new

    def to_dict(self) -> dict:
        """A JSON-able description, stored with each run."""
        self.validate()
        dims = []
        for d in self.dims:
            row = {"name": d.name, **d.to_dict(), "default": d.default, "resource": d.resource}
            if d.parents:
                row["when"] = {p: list(v) for p, v in d.parents.items()}
            dims.append(row)
        out = {
            "objective": self.objective,
            "direction": self.direction,
            "optimum": self.optimum,
            "kind": self.kind,
            "dims": dims,
            "fixed": self.fixed,
        }
        if self.forbidden:
            out["forbidden"] = [f.to_dict() for f in self.forbidden]
        return out

    def __repr__(self) -> str:
        return f"HpProblem(objective={self.objective!r}, direction={self.direction!r}, dims={self.names})"


def _fmt_config(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in values.items())
