"""The options every multi-fidelity scheduler shares: R, r_min and eta, declared once and checked
against the problem's resource."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..problem.space import Continuous, Dimension, HpProblem
from .base import BackendOptionError
from .options import Option, check_int

__all__ = ["ResourceOptions", "pin_resource", "resource_options", "resource_value", "MAX_RESOURCE",
           "MIN_RESOURCE", "ETA", "RESOURCE_OPTIONS"]

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
    """Resolve ``max_resource``, ``min_resource`` (default: the resource's bounds) and ``eta`` (default 3).

    Raises:
        BackendOptionError: one line naming the option and the value that broke its rule.
    """
    dim = problem.resource
    if dim is None:
        raise BackendOptionError(
            f"--algo {algo}: the problem declares no resource dimension; declare one in problem.py, "
            "e.g. Problem.add_dim('epochs', (1, 81), default=9, resource=True)")
    if dim.name in problem.fixed:
        raise BackendOptionError(
            f"--fix {dim.name}: --algo {algo} sets the resource itself; it cannot be fixed")
    integer = not isinstance(dim, Continuous)
    eta = check_int("--eta", 3 if options.get("eta") is None else options["eta"], 2)
    max_r = resource_value("--max-resource", options.get("max_resource"), dim.high, dim)
    min_r = resource_value("--min-resource", options.get("min_resource"), dim.low, dim)
    if not min_r > 0:
        raise BackendOptionError(f"--min-resource must be > 0, got {min_r:g}" + (
            "" if options.get("min_resource") is not None
            else f" (the lower bound of {dim.name!r}); pass --min-resource"))
    if not min_r < max_r:
        raise BackendOptionError(f"--min-resource must be < --max-resource ({max_r:g}), got {min_r:g}")
    return ResourceOptions(dim, min_r, max_r, eta, integer)


def resource_value(flag: str, value: Any, default: Any, dim: Dimension) -> int | float:
    """``value`` (or ``default`` if None) checked against the resource ``dim``: its type and range."""
    integer = not isinstance(dim, Continuous)
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BackendOptionError(f"{flag} must be a number, got {value!r}")
    if integer:
        if not float(value).is_integer():
            raise BackendOptionError(
                f"{flag} must be an integer (the resource {dim.name!r} is an integer), got {value:g}")
        value = int(value)
    if not dim.low <= value <= dim.high:
        raise BackendOptionError(f"{flag} must be within the resource {dim.name!r}'s range "
                                 f"[{dim.low:g}, {dim.high:g}], got {value:g}")
    return value if integer else float(value)


def pin_resource(problem: HpProblem, options: dict[str, Any], name: str) -> HpProblem:
    """``problem`` with its resource pinned at R, for the searcher of a multi-fidelity scheduler."""
    r = resource_options(problem, options, name)
    return problem.fix({r.dim.name: r.typed(r.max_resource)})
