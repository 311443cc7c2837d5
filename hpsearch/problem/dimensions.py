"""The dimensions of a search space: continuous, ordinal and categorical, with priors.

Each kind parses, checks, samples and encodes its own values; :func:`make_dimension`
reads the DeepHyper-style shorthand (a tuple is a range, a list is a set of
choices) that ``HpProblem.add_dim`` takes.
"""
from __future__ import annotations

import bisect
import itertools
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from ..errors import UsageError

__all__ = ["SpaceError", "Dimension", "Continuous", "Ordinal", "Categorical", "PRIORS", "LOG_PRIORS",
           "make_dimension", "same_value", "display_path", "is_number", "is_int", "shown"]

PRIORS = ("uniform", "log-uniform", "normal", "log-normal")
#: priors whose scale is logarithmic (the Bayesian encoding and the plots use a log axis).
LOG_PRIORS = ("log-uniform", "log-normal")


class SpaceError(UsageError, ValueError):
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


def is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def shown(x: Any) -> str:
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
            raise SpaceError(f"default {shown(self.default)} is invalid: {exc}") from None

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
            if not is_number(mu) or not math.isfinite(mu):
                raise SpaceError(f"{prior} needs a finite number mu, got {shown(mu)}")
            if not is_number(sigma) or not math.isfinite(sigma) or sigma <= 0:
                raise SpaceError(f"{prior} needs sigma > 0, got sigma={shown(sigma)}")
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
            ok = is_int(step) if self.integer else is_number(step)
            if not ok or not math.isfinite(step) or step <= 0:
                kind = "a positive integer" if self.integer else "a positive number"
                raise SpaceError(f"step must be {kind}, got step={shown(step)}")
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
        if not (is_number(low) and is_number(high)):
            raise SpaceError(f"a continuous range needs two numbers, got ({shown(low)}, {shown(high)})")
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
        if not is_number(value):
            raise SpaceError(f"expected a number in [{self.low:g}, {self.high:g}], got {shown(value)}")
        v = float(value)
        if not self.low <= v <= self.high:
            raise SpaceError(f"expected a number in [{self.low:g}, {self.high:g}], got {shown(value)}")
        if self.step is not None:
            g = self._on_grid(v)
            if g is None:
                raise SpaceError(f"expected a value on the grid {self._grid_text()} within "
                                 f"[{self.low:g}, {self.high:g}], got {shown(value)}")
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
                raise SpaceError(f"step applies to ranges, not to a list of values, got step={shown(step)}")
            self.values: list | None = values
            self.low = self.high = None
            self._index = {repr(v): i for i, v in enumerate(values)}
        else:
            if not (is_int(low) and is_int(high)):
                raise SpaceError(f"an integer range needs two integers, got ({shown(low)}, {shown(high)})")
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
            if i is None and is_number(value):  # 64.0 for 64, 3 for 3.0
                i = next((j for j, v in enumerate(self.values) if is_number(v) and v == value), None)
            if i is None:
                raise SpaceError(f"expected one of {self.values}, got {shown(value)}")
            return self.values[i]
        if is_number(value) and float(value).is_integer():
            v = int(value)
            if self.low <= v <= self.high:
                if self.step is not None and self._on_grid(v) is None:
                    raise SpaceError(f"expected a value on the grid {self._grid_text()} within "
                                     f"[{self.low}, {self.high}], got {shown(value)}")
                return v
        raise SpaceError(f"expected an integer in [{self.low}, {self.high}], got {shown(value)}")

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
            raise SpaceError(f"expected one of {self.choices}, got {shown(value)}")
        return self.choices[i]

    def parse(self, text: str) -> Any:
        if repr(text) in self._index:
            return self.check(text)
        return self.check(_parse_literal(text))

    def describe(self) -> str:
        if self.weights is None:
            return "{" + ", ".join(map(shown, self.choices)) + "}"
        return "{" + ", ".join(f"{shown(c)}: {w:.2g}" for c, w in zip(self.choices, self.weights)) + "}"

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
        if not (is_number(low) and is_number(high)):
            raise SpaceError(f"a range needs two numbers, got {spec!r}")
        if is_int(low) and is_int(high):
            return Ordinal(low, high, prior=prior, **options)
        return Continuous(low, high, prior=prior, **options)
    if isinstance(spec, (list, range)):
        spec = list(spec)
        if not spec:
            raise SpaceError("needs at least one choice, got an empty list")
        if options:
            raise SpaceError(f"{', '.join(sorted(options))} applies to ranges (a tuple), not to a list "
                             f"of choices, got {spec!r}")
        if all(is_number(v) for v in spec):
            return Ordinal(values=spec)
        return Categorical(spec)
    raise SpaceError(
        f"expected a tuple (range), a list (choices) or a Dimension, got {type(spec).__name__} {spec!r}"
    )


def same_value(a: Any, b: Any) -> bool:
    """Equality of dimension values by type and value: True is not 1, 3.0 is 3, "3" is not 3."""
    return repr(a) == repr(b) or (is_number(a) and is_number(b) and a == b)
