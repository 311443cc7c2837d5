"""The ask/tell interface every search backend implements.

A backend proposes configurations and learns from results; it never runs
anything. It must be deterministic given its seed and the sequence of calls,
and an ``ask`` that returns :data:`WAIT` or :data:`DONE` must change nothing:
that is what lets the engine resume a run exactly by replaying the stored
asks and tells.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import UsageError
from ..trial import Status

__all__ = ["Suggestion", "Told", "SearchBackend", "WAIT", "DONE", "BackendOptionError"]


class BackendOptionError(UsageError, ValueError):
    """A search option is out of its range or does not apply (a usage error)."""


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
    """One evaluation a backend asks for.

    Attributes:
        config: every dimension's value (the resource's value too, when set).
        config_id: the configuration's identity; rungs of one configuration share it.
        budget: the resource value for this evaluation, or None.
        previous_budget: resource the configuration's checkpoint already holds.
        bracket, rung: Hyperband's coordinates, or None.
        info: backend-private data (stored, not interpreted by the engine).
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
    """A finished evaluation as a backend sees it.

    ``loss`` is the value to minimise (the problem's direction already applied)
    or None when the evaluation failed or timed out. A ``stopped`` evaluation
    (pruned, or ended by ``--stop-when``) carries its last reported value and
    ``budget_reached``, the step it got to (backends may ignore it).
    """

    trial_id: int
    suggestion: Suggestion
    status: Status
    loss: float | None
    objective: float | None = None
    budget_reached: Any = None


class SearchBackend:
    """What the engine talks to: :meth:`ask` and :meth:`tell` (a scheduler, see
    :mod:`hpsearch.search.schedulers`).

    Deterministic given its seed and the sequence of calls; an ``ask`` that
    returns :data:`WAIT` or :data:`DONE` changes nothing.
    """

    #: True if it sets the resource itself (multi-fidelity).
    multi_fidelity: ClassVar[bool] = False

    def ask(self, n: int) -> list[Suggestion] | Any:
        """Up to ``n`` suggestions (at least one), or :data:`WAIT`, or :data:`DONE`."""
        raise NotImplementedError

    def tell(self, result: Told) -> None:
        """Learn from a finished evaluation (in completion order)."""
        raise NotImplementedError

    def max_evaluations(self) -> int | None:
        """How many evaluations it will ask for in all, if it knows."""
        return None

    def max_in_flight(self) -> int | None:
        """The most evaluations it can have asked and not yet told at once, if it knows cheaply
        (the engine never starts more workers than that)."""
        return self.max_evaluations()

    def schedule_note(self) -> str | None:
        """One line for the user before the run when the plan defeats the searcher (None: nothing to say)."""
        return None
