"""What every pruner is: declared options, ``report`` (stop or go) and ``tell`` (a trial ended).

A pruner sees losses (the problem's direction applied: lower is better) at
steps, in the order the engine stored them. Its state must be a pure function
of that sequence of reports and tells, so a resumed run (which replays them in
stored order) makes the same decisions as an uninterrupted one.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ...space import Continuous, HpProblem

__all__ = ["Option", "Pruner", "PrunerOptionError", "positive", "integer_at_least", "rungs"]


class PrunerOptionError(ValueError):
    """A pruner option out of range, or one the chosen pruner does not take (a usage error)."""


@dataclass(frozen=True)
class Option:
    """One option of a pruner: ``--pruner-<name>`` on the command line.

    ``check(value)`` returns what is wrong with a value (None when it is fine).
    """

    name: str
    type: type
    default: Any
    help: str
    check: Callable[[Any], str | None] | None = None

    @property
    def flag(self) -> str:
        return "--pruner-" + self.name.replace("_", "-")


def positive(value: Any) -> str | None:
    return None if value > 0 else f"must be > 0, got {value:g}"


def integer_at_least(least: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        ok = not isinstance(value, bool) and float(value).is_integer() and value >= least
        return None if ok else f"must be an integer >= {least}, got {value!r}"

    return check


class Pruner:
    """Base class: subclasses declare ``OPTIONS`` and implement :meth:`report`.

    Args:
        problem: the space (with ``--fix`` pins); its resource gives the step range.
        **options: values for ``OPTIONS`` (missing ones take their defaults).
    """

    name: ClassVar[str] = "pruner"
    OPTIONS: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, problem: HpProblem, **options: Any):
        known = {o.name: o for o in self.OPTIONS}
        unknown = sorted(set(options) - set(known))
        if unknown:
            flags = ", ".join(o.flag for o in self.OPTIONS) or "none"
            raise PrunerOptionError(f"--pruner-{unknown[0].replace('_', '-')}: does not apply to --pruner "
                                    f"{self.name} (its options: {flags})")
        self.problem = problem
        self.options: dict[str, Any] = {}
        for o in self.OPTIONS:
            value = options.get(o.name, o.default)
            if value is not None and o.check is not None:
                problem_text = o.check(value)
                if problem_text:
                    raise PrunerOptionError(f"{o.flag} {problem_text}")
            self.options[o.name] = value

    def report(self, trial_id: int, step: float, loss: float) -> bool:
        """A running trial's loss at ``step``; True if it should stop now."""
        raise NotImplementedError

    def tell(self, trial_id: int, status: str, loss: float | None, step: float | None) -> None:
        """A trial ended (any status); the default forgets nothing."""

    # -- the step range, shared by the rung-based pruners --------------------------------------
    def step_range(self) -> tuple[float, float | None]:
        """``(min_resource, max_resource)``: the options, else the resource dimension's bounds
        (its pinned value as the maximum when ``--fix`` pins it)."""
        dim = self.problem.resource
        low = self.options.get("min_resource")
        high = self.options.get("max_resource")
        if dim is not None:
            if low is None:
                low = dim.low
            if high is None:
                high = self.problem.fixed.get(dim.name, dim.high)
        if low is None:
            low = 1
        if not low > 0:
            raise PrunerOptionError(f"--pruner-min-resource must be > 0, got {low:g}")
        if high is not None and not low < high:
            raise PrunerOptionError(f"--pruner-min-resource must be < --pruner-max-resource ({high:g}), "
                                    f"got {low:g}")
        return float(low), None if high is None else float(high)

    @property
    def integer_steps(self) -> bool:
        dim = self.problem.resource
        return dim is not None and not isinstance(dim, Continuous)


def rungs(min_resource: float, max_resource: float | None, eta: int, limit: int = 64) -> list[float]:
    """Rung levels ``r_min * eta^k`` below ``max_resource`` (where a trial is judged).

    >>> rungs(1, 81, 3)
    [1.0, 3.0, 9.0, 27.0]
    """
    out = []
    r = float(min_resource)
    while (max_resource is None or r < max_resource - 1e-9) and len(out) < limit:
        out.append(r)
        r *= eta
    return out
