"""What every pruner is: declared options, ``report`` (stop or go) and ``tell`` (a trial ended).

A pruner sees losses (the problem's direction applied: lower is better; a
tuple of every objective's loss for a multi-objective problem) at steps, in
the order the engine stored them. Its state must be a pure function of that
sequence of reports and tells, so a resumed run (which replays them in stored
order) makes the same decisions as an uninterrupted one.
"""
from __future__ import annotations

from typing import Any, ClassVar

from ...problem.space import HpProblem
from ..base import OptionError
from ..fidelity import as_fraction, check_resources, rung_ladder
from ..options import Option, resolve

__all__ = ["Pruner", "PrunerOptionError", "PREFIX", "rungs"]

#: A pruner option ``name`` is the flag ``--pruner-<name>`` (:attr:`Option.prefix`).
PREFIX = "pruner-"


class PrunerOptionError(OptionError):
    """A pruner option out of range, or one the chosen pruner does not take (a usage error)."""


class Pruner:
    """Base class: subclasses declare ``OPTIONS`` (:class:`~hpsearch.search.options.Option` objects
    with ``prefix=PREFIX``) and implement :meth:`report`.

    Args:
        problem: the space (with ``--fix`` pins); its resource gives the step range.
        **options: values for ``OPTIONS`` (missing ones take their defaults).
    """

    name: ClassVar[str] = "pruner"
    OPTIONS: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, problem: HpProblem, **options: Any):
        try:
            self.options: dict[str, Any] = resolve(self.OPTIONS, options, f"--pruner {self.name}", PREFIX)
        except OptionError as exc:  # the same one line, as the pruner's error
            raise PrunerOptionError(str(exc)) from None
        self.problem = problem

    def report(self, trial_id: int, step: float, loss: float | tuple[float, ...]) -> bool:
        """A running trial's loss (a tuple for several objectives) at ``step``; True if it should stop now."""
        raise NotImplementedError

    def tell(self, trial_id: int, status: str, loss: float | tuple[float, ...] | None,
             step: float | None) -> None:
        """A trial ended (any status); the default forgets nothing."""

    # -- the step range, shared by the rung-based pruners --------------------------------------
    def step_range(self) -> tuple[float, float | None]:
        """``(min_resource, max_resource)``: the options, else the resource dimension's bounds
        (its pinned value as the maximum when ``--fix`` pins it), else 1 and no maximum;
        checked by :func:`~hpsearch.search.fidelity.check_resources`."""
        dim = self.problem.resource
        low = self.options.get("min_resource")
        high = self.options.get("max_resource")
        if dim is not None:
            if low is None:
                low = dim.low
            if high is None:
                high = self.problem.fixed.get(dim.name, dim.high)
        try:
            high, low, _ = check_resources(high, low, self.options.get("eta"), prefix=PREFIX)
        except OptionError as exc:  # the same one line, as the pruner's error
            raise PrunerOptionError(str(exc)) from None
        return float(low), None if high is None else float(high)


def rungs(min_resource: float, max_resource: float | None, eta: int, limit: int = 64) -> list[float]:
    """Rung levels ``r_min * eta^k`` below ``max_resource`` (where a trial is judged), at most ``limit``.

    The levels of :func:`~hpsearch.search.fidelity.rung_ladder` from r_min up; a
    trial that reaches R has nothing left to be judged for, so R is no rung.

    >>> rungs(1, 81, 3)
    [1.0, 3.0, 9.0, 27.0]
    >>> rungs(0.1, None, 3)[:3]
    [0.1, 0.3, 0.9]
    """
    top = as_fraction(min_resource) * eta**limit if max_resource is None else as_fraction(max_resource)
    return [float(r) for r in rung_ladder(top, eta, min_resource, anchor="min") if r < top][:limit]
