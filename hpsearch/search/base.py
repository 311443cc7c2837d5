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

import numpy as np

from ..space import HpProblem

__all__ = ["Suggestion", "Told", "SearchBackend", "WAIT", "DONE", "BackendOptionError"]


class BackendOptionError(ValueError):
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
    status: str
    loss: float | None
    objective: float | None = None
    budget_reached: Any = None


class SearchBackend:
    """Base class: subclasses implement :meth:`ask` and :meth:`tell`.

    Args:
        problem: the space (with ``--fix`` pins applied).
        seed: the run's seed.
        **options: the backend's own options (see ``OPTIONS``).
    """

    #: the ``--algo`` name.
    name: ClassVar[str] = "backend"
    #: option name -> default, for the CLI to pass through and validate.
    OPTIONS: ClassVar[dict[str, Any]] = {}
    #: True if the backend sets the resource itself (multi-fidelity).
    multi_fidelity: ClassVar[bool] = False

    def __init__(self, problem: HpProblem, seed: int, **options: Any):
        unknown = sorted(set(options) - set(self.OPTIONS))
        if unknown:
            flags = ", ".join("--" + o.replace("_", "-") for o in sorted(self.OPTIONS)) or "none"
            raise BackendOptionError(
                f"--{unknown[0].replace('_', '-')}: does not apply to --algo {self.name} "
                f"(its options: {flags})"
            )
        self.problem = problem
        self.seed = seed
        self.options = {**self.OPTIONS, **options}
        self.rng = np.random.default_rng(seed)
        self._next_config_id = 0

    def new_config_id(self) -> int:
        """A fresh configuration id (0, 1, 2, ... in ask order)."""
        cid = self._next_config_id
        self._next_config_id += 1
        return cid

    def ask(self, n: int) -> list[Suggestion] | Any:
        """Up to ``n`` suggestions (at least one), or :data:`WAIT`, or :data:`DONE`."""
        raise NotImplementedError

    def tell(self, result: Told) -> None:
        """Learn from a finished evaluation (in completion order)."""
        raise NotImplementedError

    def max_evaluations(self) -> int | None:
        """How many evaluations the backend will ask for in all, if it knows."""
        return None
