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
from typing import Any

import numpy as np

__all__ = [
    "SpaceError",
    "Dimension",
    "Continuous",
    "Ordinal",
    "Categorical",
    "HpProblem",
    "PRIORS",
    "DIRECTIONS",
    "to_loss",
    "rank_key",
]

PRIORS = ("uniform", "log-uniform")
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
    """

    kind = "dimension"
    prior = "-"

    def __init__(self, name: str | None = None, default: Any = None, resource: bool = False):
        self.name = name
        self.default = default
        self.resource = bool(resource)

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
    def sample(self, rng: np.random.Generator) -> Any:
        """One draw from the prior."""
        return self.from_unit(float(rng.random()))

    def parse(self, text: str) -> Any:
        """Convert a command-line string (``--fix name=value``) to a valid value."""
        return self.check(_parse_literal(text))

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


class Continuous(Dimension):
    """A real range ``[low, high]``, uniform or log-uniform.

    Example: ``Continuous(1e-4, 1e-1, prior="log-uniform")``.
    """

    kind = "continuous"

    def __init__(self, low: float, high: float, prior: str = "uniform", default: Any = None,
                 name: str | None = None, resource: bool = False):
        super().__init__(name, default, resource)
        if not (_is_number(low) and _is_number(high)):
            raise SpaceError(f"a continuous range needs two numbers, got ({_fmt(low)}, {_fmt(high)})")
        if not (math.isfinite(low) and math.isfinite(high)):
            raise SpaceError(f"a continuous range needs finite bounds, got ({low}, {high})")
        self.low, self.high = float(low), float(high)
        if prior not in PRIORS:
            raise SpaceError(f"prior must be one of {', '.join(PRIORS)}, got {prior!r}")
        self.prior = prior
        if not self.low < self.high:
            raise SpaceError(f"needs low < high, got low={self.low:g}, high={self.high:g}")
        if prior == "log-uniform" and self.low <= 0:
            raise SpaceError(f"log-uniform needs low > 0, got low={low!r}")
        if prior == "log-uniform":
            self._loglow, self._loghigh = math.log(self.low), math.log(self.high)

    def from_unit(self, u: float) -> float:
        if self.prior == "log-uniform":
            v = math.exp(self._loglow + u * (self._loghigh - self._loglow))
        else:
            v = self.low + u * (self.high - self.low)
        return min(self.high, max(self.low, v))

    def check(self, value: Any) -> float:
        if not _is_number(value):
            raise SpaceError(f"expected a number in [{self.low:g}, {self.high:g}], got {_fmt(value)}")
        v = float(value)
        if not self.low <= v <= self.high:
            raise SpaceError(f"expected a number in [{self.low:g}, {self.high:g}], got {_fmt(value)}")
        return v

    def describe(self) -> str:
        return f"[{self.low:g}, {self.high:g}]"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "low": self.low, "high": self.high, "prior": self.prior}

    def _default_guess(self) -> float:
        if self.prior == "log-uniform":
            return math.sqrt(self.low * self.high)
        return (self.low + self.high) / 2


class Ordinal(Dimension):
    """Ordered values: an integer range ``low..high`` or an ordered list.

    Examples: ``Ordinal(1, 9)``, ``Ordinal(16, 1024, prior="log-uniform")``,
    ``Ordinal(values=[32, 64, 128, 256])``.
    """

    kind = "ordinal"

    def __init__(self, low: int | None = None, high: int | None = None, prior: str = "uniform",
                 default: Any = None, values: Sequence[Any] | None = None,
                 name: str | None = None, resource: bool = False):
        super().__init__(name, default, resource)
        if prior not in PRIORS:
            raise SpaceError(f"prior must be one of {', '.join(PRIORS)}, got {prior!r}")
        self.prior = prior
        if values is not None:
            if low is not None or high is not None:
                raise SpaceError("give either an integer range (low, high) or values=[...], not both")
            values = list(values)
            if not values:
                raise SpaceError("needs at least one value, got an empty list")
            if len(set(map(repr, values))) != len(values):
                raise SpaceError(f"values must be distinct, got {values}")
            if prior != "uniform":
                raise SpaceError("a list of values takes no prior (each value is equally likely)")
            self.values: list | None = values
            self.low = self.high = None
            self._index = {repr(v): i for i, v in enumerate(values)}
        else:
            if not (_is_int(low) and _is_int(high)):
                raise SpaceError(f"an integer range needs two integers, got ({_fmt(low)}, {_fmt(high)})")
            self.low, self.high = int(low), int(high)
            self.values = None
            if not self.low < self.high:
                raise SpaceError(f"needs low < high, got low={self.low}, high={self.high}")
            if prior == "log-uniform" and self.low <= 0:
                raise SpaceError(f"log-uniform needs low > 0, got low={self.low}")
            if prior == "log-uniform":
                self._loglow, self._loghigh = math.log(self.low), math.log(self.high + 1)

    @property
    def is_range(self) -> bool:
        """True for an integer range, False for a list of values."""
        return self.values is None

    def from_unit(self, u: float) -> Any:
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.prior == "log-uniform":
            v = int(math.exp(self._loglow + u * (self._loghigh - self._loglow)))
        else:
            v = self.low + int(u * (self.high - self.low + 1))
        return min(self.high, max(self.low, v))

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
                return v
        raise SpaceError(f"expected an integer in [{self.low}, {self.high}], got {_fmt(value)}")

    def describe(self) -> str:
        return f"{self.values}" if self.values is not None else f"[{self.low}, {self.high}]"

    def to_dict(self) -> dict:
        if self.values is not None:
            return {"kind": self.kind, "values": list(self.values)}
        return {"kind": self.kind, "low": self.low, "high": self.high, "prior": self.prior}

    def _default_guess(self) -> Any:
        if self.values is not None:
            return self.values[(len(self.values) - 1) // 2]
        if self.prior == "log-uniform":
            return int(round(math.sqrt(self.low * self.high)))
        return (self.low + self.high) // 2


class Categorical(Dimension):
    """Unordered choices, each equally likely unless ``weights`` are given.

    Example: ``Categorical(["relu", "tanh"], weights=[0.7, 0.3])``.
    """

    kind = "categorical"

    def __init__(self, choices: Sequence[Any], weights: Sequence[float] | None = None,
                 default: Any = None, name: str | None = None, resource: bool = False):
        super().__init__(name, default, resource)
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


def make_dimension(spec: Any) -> Dimension:
    """Turn DeepHyper's shorthand into a dimension.

    * ``(1, 9)``: integer range (ordinal); ``(16, 1024, "log-uniform")`` too.
    * ``(0.0, 0.9)`` or any tuple holding a float: continuous.
    * ``[32, 64, 128]``: a list of numbers is ordinal, in the order given.
    * ``["relu", "tanh"]``: a list holding a string or a bool is categorical.
    * a :class:`Dimension` instance is used as it is.
    """
    if isinstance(spec, Dimension):
        return spec
    if isinstance(spec, tuple):
        if len(spec) not in (2, 3):
            raise SpaceError(f"a range is (low, high) or (low, high, prior), got {spec!r}")
        low, high = spec[0], spec[1]
        prior = spec[2] if len(spec) == 3 else "uniform"
        if not (_is_number(low) and _is_number(high)):
            raise SpaceError(f"a range needs two numbers, got {spec!r}")
        if _is_int(low) and _is_int(high):
            return Ordinal(low, high, prior=prior)
        return Continuous(low, high, prior=prior)
    if isinstance(spec, (list, range)):
        spec = list(spec)
        if not spec:
            raise SpaceError("needs at least one choice, got an empty list")
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


class HpProblem:
    """A search space plus what to optimise.

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
        self.fixed: dict[str, Any] = {}

    # -- declaration -----------------------------------------------------------
    def _where(self, name: str | None = None) -> str:
        where = f"{display_path(self.source)}: " if self.source else ""
        return where + (f"dimension {name!r}: " if name is not None else "")

    def add_dim(self, name: str, spec: Any, default: Any = None, resource: bool = False) -> Dimension:
        """Declare a dimension from the shorthand or an explicit Dimension.

        Raises:
            SpaceError: naming the file and the dimension, for any bad declaration.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise SpaceError(f"{self._where()}a dimension name must be an identifier, got {name!r}")
        if name in self._by_name:
            raise SpaceError(f"{self._where(name)}declared twice (names must be unique)")
        try:
            dim = make_dimension(spec)
            dim._bind(name, default, resource)
        except SpaceError as exc:
            raise SpaceError(f"{self._where(name)}{exc}") from None
        if dim.resource:
            if isinstance(dim, Categorical) or (isinstance(dim, Ordinal) and not dim.is_range):
                raise SpaceError(
                    f"{self._where(name)}a resource must be a numeric range, got {dim.describe()}")
            other = self.resource
            if other is not None:
                raise SpaceError(
                    f"{self._where(name)}only one resource is allowed, {other.name!r} is one already"
                )
        self.dims.append(dim)
        self._by_name[name] = dim
        return dim

    add_hyperparameter = add_dim  # DeepHyper's name

    def add_starting_point(self, **values: Any) -> None:
        """Add a configuration to evaluate first; missing dimensions take their default."""
        unknown = [k for k in values if k not in self._by_name]
        if unknown:
            raise SpaceError(f"{self._where(unknown[0])}starting point names an undeclared dimension")
        point = {}
        for d in self.dims:
            v = values.get(d.name, d.default)
            try:
                point[d.name] = d.check(v)
            except SpaceError as exc:
                raise SpaceError(f"{self._where(d.name)}starting point: {exc}") from None
        self._starting_points.append(point)

    # -- queries ---------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dims]

    @property
    def resource(self) -> Dimension | None:
        """The resource dimension, or None."""
        return next((d for d in self.dims if d.resource), None)

    @property
    def free_dims(self) -> list[Dimension]:
        """Dimensions a search backend chooses (not pinned by ``--fix``)."""
        return [d for d in self.dims if d.name not in self.fixed]

    def __getitem__(self, name: str) -> Dimension:
        return self._by_name[name]

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self.dims)

    @property
    def defaults(self) -> dict:
        return {d.name: self.fixed.get(d.name, d.default) for d in self.dims}

    @property
    def starting_points(self) -> list[dict]:
        """The defaults, then each added starting point, without repeats."""
        seen, out = set(), []
        for p in [self.defaults, *self._starting_points]:
            p = {**p, **self.fixed}
            key = repr(sorted(p.items()))
            if key not in seen:
                seen.add(key)
                out.append(p)
        return out

    def sample(self, rng: np.random.Generator) -> dict:
        """One configuration drawn from every dimension's prior (fixed ones pinned).

        One uniform draw per dimension, mapped through the prior's quantiles.
        """
        fixed = self.fixed
        units = rng.random(len(self.dims)).tolist()
        return {d.name: fixed[d.name] if d.name in fixed else d.from_unit(u)
                for d, u in zip(self.dims, units)}

    def check(self, config: Mapping[str, Any]) -> dict:
        """Validate a full configuration; return it with values of the declared types."""
        missing = [n for n in self.names if n not in config]
        if missing:
            raise SpaceError(f"{self._where(missing[0])}missing from the configuration")
        extra = [k for k in config if k not in self._by_name]
        if extra:
            raise SpaceError(f"{self._where(extra[0])}not a dimension of this problem")
        out = {}
        for d in self.dims:
            try:
                out[d.name] = d.check(config[d.name])
            except SpaceError as exc:
                raise SpaceError(f"{self._where(d.name)}{exc}") from None
        return out

    def to_loss(self, objective: float) -> float:
        """The value search backends minimise (see :func:`to_loss`)."""
        return to_loss(self.direction, objective)

    def fix(self, values: Mapping[str, Any]) -> HpProblem:
        """A copy with some dimensions pinned to a value (``--fix name=value``).

        String values are parsed as on the command line.
        """
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
        return new

    def to_dict(self) -> dict:
        """A JSON-able description, stored with each run."""
        return {
            "objective": self.objective,
            "direction": self.direction,
            "optimum": self.optimum,
            "kind": self.kind,
            "dims": [{"name": d.name, **d.to_dict(), "default": d.default, "resource": d.resource}
                     for d in self.dims],
            "fixed": self.fixed,
        }

    def __repr__(self) -> str:
        return f"HpProblem(objective={self.objective!r}, direction={self.direction!r}, dims={self.names})"

