"""What the engine and the scheduler exchange: suggestions, results, :data:`WAIT` and :data:`DONE`.

The scheduler (:class:`~hpsearch.search.schedulers.base.Scheduler`) proposes
configurations and learns from results; it never runs anything. It must be
deterministic given its seed and the sequence of calls, and an ``ask`` that
returns :data:`WAIT` or :data:`DONE` must change nothing: that is what lets
the engine resume a run exactly by replaying the stored asks and tells.

Multi-objective problems (``HpProblem(objectives={...})``), the contract:

* :attr:`Told.loss` is a tuple of floats, one per objective in declaration order,
  each to be minimised (``HpProblem.to_losses`` form), or None when the
  evaluation failed or timed out.
* :attr:`Observation.loss` is a tuple of floats in the same form.
* ``Searcher.observe(config, budget, loss)`` receives that tuple, or None for a failed or
  timed-out evaluation (failures are observed with loss None, as for one objective).
* The values a pruner sees (``report``) are such tuples, built from the reported metrics.
* Ranking (rungs, pruning, the best so far) goes through
  :func:`hpsearch.problem.pareto.order` and :func:`~hpsearch.problem.pareto.pareto_mask`,
  never a recomputation.

A single-objective problem keeps a float everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..trial import Status

__all__ = ["Suggestion", "Told", "Observation", "WAIT", "DONE", "OptionError", "BackendOptionError"]


class OptionError(UsageError, ValueError):
    """A search option is out of its range or does not apply (a usage error)."""


#: The previous release's name of :class:`OptionError`, kept for code written against it.
BackendOptionError = OptionError


class _Signal:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        return False


#: ``ask`` result: nothing to propose until more results are told.
WAIT = _Signal("WAIT")
#: ``ask`` result: the search is over.
DONE = _Signal("DONE")


@dataclass
class Suggestion:
    """One evaluation the scheduler asks for.

    Attributes:
        config: every dimension's value (the resource's value too, when set).
        config_id: the configuration's identity; rungs of one configuration share it.
        budget: the resource value for this evaluation, or None.
        previous_budget: resource the configuration's checkpoint already holds.
        bracket, rung: Hyperband's coordinates, or None.
        info: the scheduler's private data (stored, not interpreted by the engine).
    """

    config: dict
    config_id: int
    budget: Any = None
    previous_budget: Any = 0
    bracket: int | None = None
    rung: int | None = None
    info: dict = field(default_factory=dict)


@dataclass
class Told:
    """A finished evaluation as the scheduler sees it.

    ``loss`` is the value to minimise (the problem's direction already applied)
    or None when the evaluation failed or timed out; for a multi-objective
    problem it is the tuple of every objective's loss (``HpProblem.to_losses``). A ``stopped`` evaluation
    (pruned, or ended by ``--stop-when``) carries its last reported value and
    ``budget_reached``, the step it got to (schedulers may ignore it).
    """

    trial_id: int
    suggestion: Suggestion
    status: Status
    loss: float | tuple[float, ...] | None
    objective: float | None = None
    budget_reached: Any = None


@dataclass(frozen=True)
class Observation:
    """A finished evaluation of an earlier run, given to a scheduler before its first ask
    (:meth:`~hpsearch.search.schedulers.base.Scheduler.warm_start`).

    ``config`` holds every active dimension's value (the resource's too, when
    the problem has one), ``budget`` the resource it was evaluated at (None
    without a resource) and ``loss`` its value to minimise in the new run's
    direction (a tuple of every objective's loss for a multi-objective problem).
    """

    config: dict
    budget: Any
    loss: float | tuple[float, ...]


def __getattr__(name: str) -> Any:
    # SearchBackend is the previous release's name of the Scheduler, kept for code written against it
    # (imported on first use: the scheduler's module imports this one).
    if name == "SearchBackend":
        from .schedulers.base import Scheduler

        return Scheduler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
