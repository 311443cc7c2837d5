"""Budgets, once: the rung ladder of a multi-fidelity schedule, and the options R, r_min and eta
(declared once, checked against the problem's resource).

Every rung level is computed here, in exact arithmetic (``int`` and
:class:`fractions.Fraction`, never a floating-point logarithm), for Hyperband's
brackets, ASHA's rungs and the pruners' rungs alike.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..problem.space import Continuous, Dimension, HpProblem
from .base import OptionError
from .options import Option, check_int

__all__ = ["rung_ladder", "as_fraction", "ResourceOptions", "pin_resource", "resource_options",
           "resource_dimension", "check_resources", "resource_value", "MAX_RESOURCE", "MIN_RESOURCE", "ETA",
           "RESOURCE_OPTIONS"]

Number = int | float | Fraction


def as_fraction(x: Number) -> Fraction:
    """An exact fraction; floats are read by their shortest decimal text (0.1 is 1/10)."""
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"expected a finite number, got {x}")
        return Fraction(repr(x))
    return Fraction(x)


def rung_ladder(max_resource: Number, eta: int = 3, min_resource: Number = 1, *, integer: bool = False,
                anchor: str = "max") -> list:
    """The rung levels of a multi-fidelity schedule, lowest first, each ``eta`` times the one below.

    There are ``s_max + 1`` of them, ``s_max`` the largest s with
    ``min_resource * eta**s <= max_resource``, i.e. floor(log_eta(R / r_min)),
    found by exact powers. Every level is exact: a :class:`~fractions.Fraction`,
    or an ``int`` with ``integer``.

    Args:
        max_resource: R, the most resource one configuration gets.
        eta: the reduction factor, an integer >= 2.
        min_resource: r_min, the least resource of any rung.
        integer: an integer resource (R must be an integer): each level is rounded to the
            nearest integer (ties up), and never below r_min.
        anchor: ``"max"``: Hyperband's ``r_k = R * eta**(k - s_max)``, so the top rung is R
            (Hyperband's brackets and ASHA's rungs); ``"min"``: ``r_k = r_min * eta**k``, so
            the first rung is r_min and the top one at most R (the pruners' rungs).

    Raises:
        ValueError: eta not an integer >= 2, not 0 < r_min <= R, or a fractional R with ``integer``.

    At an exact power, here 243 = 3**5, there are s_max + 1 = 6 rungs (a
    floating-point ``math.log(243, 3)`` is 4.999...):

    >>> rung_ladder(243, 3, integer=True)
    [1, 3, 9, 27, 81, 243]

    R/r_min not a power of eta: from R down, rounded, and never below r_min; or from r_min up:

    >>> rung_ladder(100, 3, integer=True), rung_ladder(100, 3, integer=True, anchor="min")
    ([1, 4, 11, 33, 100], [1, 3, 9, 27, 81])
    >>> rung_ladder(50, 3, 5, integer=True)
    [6, 17, 50]

    A real-valued resource (R = 1, r_min = 0.1):

    >>> rung_ladder(1.0, 3, 0.1)
    [Fraction(1, 9), Fraction(1, 3), Fraction(1, 1)]
    >>> rung_ladder(1.0, 3, 0.1, anchor="min")
    [Fraction(1, 10), Fraction(3, 10), Fraction(9, 10)]
    """
    if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
        raise ValueError(f"eta must be an integer >= 2, got {eta!r}")
    if anchor not in ("max", "min"):
        raise ValueError(f"anchor must be 'max' or 'min', got {anchor!r}")
    big, small = as_fraction(max_resource), as_fraction(min_resource)
    if not 0 < small <= big:
        raise ValueError(f"needs 0 < min_resource <= max_resource, got min_resource={min_resource}, "
                         f"max_resource={max_resource}")
    if integer and big.denominator != 1:
        raise ValueError(f"an integer resource needs an integer max_resource, got {max_resource}")
    top = 0
    while small * eta ** (top + 1) <= big:
        top += 1
    if anchor == "max":
        exact = [big / eta ** (top - k) for k in range(top + 1)]
    else:
        exact = [small * eta**k for k in range(top + 1)]
    if not integer:
        return exact
    least = -((-small.numerator) // small.denominator)  # ceil(r_min)
    return [max(math.floor(r + Fraction(1, 2)), least) for r in exact]


#: --max-resource, --min-resource, --eta: one declaration, shared by hyperband and asha.
MAX_RESOURCE = Option("max_resource", float, None,
                      "Hyperband/ASHA: the largest resource per configuration, R "
                      "(default: the resource's upper bound).")
MIN_RESOURCE = Option("min_resource", float, None,
                      "Hyperband/ASHA: the smallest resource, r_min (default: the resource's lower bound).")
ETA = Option("eta", int, 3, "Hyperband/ASHA: the reduction factor.", least=2)
RESOURCE_OPTIONS = (MAX_RESOURCE, MIN_RESOURCE, ETA)


@dataclass(frozen=True)
class ResourceOptions:
    """The resolved resource options of a multi-fidelity run."""

    dim: Dimension
    min_resource: int | float
    max_resource: int | float
    eta: int
    integer: bool

    def typed(self, r: Any) -> int | float:
        """A budget as the resource's type (int for an integer resource)."""
        return int(r) if self.integer else float(r)


def resource_options(problem: HpProblem, options: dict[str, Any], algo: str) -> ResourceOptions:
    """Resolve ``max_resource``, ``min_resource`` (default: the resource's bounds) and ``eta`` (default 3)
    of a multi-fidelity ``--algo`` (:func:`resource_dimension`, then :func:`check_resources`).

    Raises:
        OptionError: one line naming the option and the value that broke its rule.
    """
    dim = resource_dimension(problem, algo)
    max_r, min_r, eta = check_resources(options.get("max_resource"), options.get("min_resource"),
                                        options.get("eta"), dim=dim)
    return ResourceOptions(dim, min_r, max_r, eta, not isinstance(dim, Continuous))


def resource_dimension(problem: HpProblem, algo: str, problem_name: str | None = None) -> Dimension:
    """The resource dimension a multi-fidelity ``--algo`` sets: declared, and not pinned by ``--fix``.

    Raises:
        OptionError: the problem (named ``problem_name``, if given) has no resource, or it is fixed.
    """
    dim = problem.resource
    if dim is None:
        who = "the problem" if problem_name is None else f"problem {problem_name!r}"
        raise OptionError(
            f"--algo {algo}: {who} declares no resource dimension; declare one in problem.py, "
            "e.g. Problem.add_dim('epochs', (1, 81), default=9, resource=True)")
    if dim.name in problem.fixed:
        raise OptionError(
            f"--fix {dim.name}: --algo {algo} sets the resource itself; it cannot be fixed")
    return dim


def check_resources(max_resource: Any, min_resource: Any, eta: Any, *, dim: Dimension | None = None,
                    integer: bool = False, prefix: str = "") -> tuple[Any, Any, int]:
    """The rules of R (``--max-resource``), r_min (``--min-resource``) and ``--eta``, checked once for
    every multi-fidelity scheduler, pruner and ``hps plan``.

    ``eta`` must be an integer >= 2 (None: 3) and ``0 < r_min < R``. With ``dim``
    (the problem's resource) a None value is its bound (R the upper, r_min the
    lower), and each value must be a number within its range, an integer for an
    integer resource. Without ``dim``, r_min None is 1, R None means no maximum
    (a pruner on a problem without resource), and ``integer`` (``hps plan``
    without ``--float``) needs an integer R.

    Args:
        prefix: put before each flag's name (``"pruner-"``: ``--pruner-min-resource``).

    Returns:
        ``(max_resource, min_resource, eta)``; with ``dim``, as the resource's type.

    Raises:
        OptionError: one line naming the flag and the value that broke its rule.

    >>> check_resources(81, None, None)
    (81, 1, 3)
    >>> check_resources(81, 81, 3, prefix="pruner-")
    Traceback (most recent call last):
    ...
    hpsearch.search.base.OptionError: --pruner-min-resource must be < --pruner-max-resource (81), ...
    """
    def flag(name: str) -> str:
        return f"--{prefix}{name}"

    eta = check_int(flag("eta"), 3 if eta is None else eta, 2)
    bound = ""  # r_min is the resource's lower bound, not given
    if dim is not None:
        integer = False  # resource_value checked each value against the resource's type
        if min_resource is None:
            bound = f" (the lower bound of {dim.name!r}); pass {flag('min-resource')}"
        max_resource = resource_value(flag("max-resource"), max_resource, dim.high, dim)
        min_resource = resource_value(flag("min-resource"), min_resource, dim.low, dim)
    elif min_resource is None:
        min_resource = 1
    if not min_resource > 0:
        raise OptionError(f"{flag('min-resource')} must be > 0, got {min_resource:g}{bound}")
    if max_resource is not None and not min_resource < max_resource:
        raise OptionError(f"{flag('min-resource')} must be < {flag('max-resource')} "
                          f"({max_resource:g}), got {min_resource:g}")
    if integer and max_resource is not None and not float(max_resource).is_integer():
        raise OptionError(f"{flag('max-resource')} must be an integer for an integer resource, got "
                          f"{max_resource:g} (pass --float for a real-valued resource)")
    return max_resource, min_resource, eta


def resource_value(flag: str, value: Any, default: Any, dim: Dimension) -> int | float:
    """``value`` (or ``default`` if None) checked against the resource ``dim``: its type and range."""
    integer = not isinstance(dim, Continuous)
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OptionError(f"{flag} must be a number, got {value!r}")
    if integer:
        if not float(value).is_integer():
            raise OptionError(
                f"{flag} must be an integer (the resource {dim.name!r} is an integer), got {value:g}")
        value = int(value)
    if not dim.low <= value <= dim.high:
        raise OptionError(f"{flag} must be within the resource {dim.name!r}'s range "
                          f"[{dim.low:g}, {dim.high:g}], got {value:g}")
    return value if integer else float(value)


def pin_resource(problem: HpProblem, options: dict[str, Any], name: str) -> HpProblem:
    """``problem`` with its resource pinned at R, for the searcher of a multi-fidelity scheduler."""
    r = resource_options(problem, options, name)
    return problem.fix({r.dim.name: r.typed(r.max_resource)})
