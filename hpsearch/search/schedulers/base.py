"""The scheduler: what the engine asks and tells; which budget, which promotions, when to stop.

The engine talks to one :class:`Scheduler`: :meth:`~Scheduler.ask` for
suggestions, :meth:`~Scheduler.tell` for results (the vocabulary is in
:mod:`hpsearch.search.base`). A scheduler owns a
:class:`~hpsearch.search.searchers.base.Searcher`, asks it for new
configurations and tells it every result as ``(config, budget, loss)``; it
never builds a configuration itself. A multi-fidelity scheduler pins its
resource in the searcher's problem (:meth:`Scheduler.searcher_problem`), so
searchers never choose the resource.

A scheduler also knows its own finite default budget
(:meth:`Scheduler.default_max_evals`, :meth:`Scheduler.budget_options`), so
the CLI, the runner and ``hps compare`` have no per-algorithm branches.

Warm start from earlier runs (:meth:`Scheduler.warm_start`): before the first
ask, the evaluations of earlier runs go to the searcher as observations, each
filed under the budget it was evaluated at (under fifo: one fidelity). They are
not evaluations of this run: the scheduler's own bookkeeping (brackets, rungs,
how many it has asked) never sees them.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ...problem.space import HpProblem
from ...trial import Status
from ..base import Observation, Suggestion, Told
from ..fidelity import pin_resource
from ..options import Option, resolve
from ..searchers.base import Searcher

__all__ = ["Scheduler"]

_OFF_LADDER = object()  # an observation at a budget the scheduler never runs


class Scheduler:
    """What the engine talks to: :meth:`ask` and :meth:`tell`. Subclasses implement both.

    Deterministic given its seed and the sequence of calls, and an ``ask`` that
    returns :data:`~hpsearch.search.base.WAIT` or :data:`~hpsearch.search.base.DONE`
    changes nothing: that is what lets the engine resume a run exactly by
    replaying the stored asks and tells.

    Args:
        problem: the space (with ``--fix`` pins applied).
        seed: the run's seed.
        searcher: proposes the configurations.
        **options: the scheduler's own options (see ``OPTIONS``).
    """

    #: the scheduler's name (``fifo``, ``hyperband``, ``asha``).
    name: ClassVar[str] = "scheduler"
    OPTIONS: ClassVar[tuple[Option, ...]] = ()
    #: True if it sets the resource itself (multi-fidelity).
    multi_fidelity: ClassVar[bool] = False

    def __init__(self, problem: HpProblem, seed: int | None, searcher: Searcher, **options: Any):
        self.options = resolve(self.OPTIONS, options, f"scheduler {self.name}")
        self.problem = problem
        self.seed = seed
        self.searcher = searcher
        self._next_config_id = 0
        self._configs: dict[int, dict] = {}  # config_id -> the configuration as the searcher made it

    # -- what the engine asks and tells ---------------------------------------------------
    def ask(self, n: int) -> list[Suggestion] | Any:
        """Up to ``n`` suggestions (at least one), or :data:`~hpsearch.search.base.WAIT`, or
        :data:`~hpsearch.search.base.DONE`."""
        raise NotImplementedError

    def tell(self, result: Told) -> None:
        """Learn from a finished evaluation (in completion order)."""
        raise NotImplementedError

    def enqueue(self, values: dict) -> dict:
        """Have the searcher propose ``values`` next (see :meth:`Searcher.enqueue
        <hpsearch.search.searchers.base.Searcher.enqueue>`); the scheduler sets its budget as for any
        new configuration. Returns the configuration as it will be proposed."""
        return self.searcher.enqueue(values)

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

    def rung_budgets(self) -> list | None:
        """The budgets it files results under, lowest first (None: one fidelity, as fifo)."""
        return None

    def usable(self, observations: Sequence[Observation]) -> list[Observation]:
        """The earlier evaluations :meth:`warm_start` gives the searcher, as the searcher sees them.

        A multi-fidelity scheduler keeps those at one of its :meth:`rung_budgets`
        (filed under that budget, the resource pinned as in the searcher's
        problem); fifo keeps every one, under one fidelity.
        """
        budgets = self.rung_budgets()
        pins = self.searcher.problem.fixed
        out = []
        for o in observations:
            if budgets is None:
                budget = None
            else:
                budget = next((b for b in budgets if o.budget is not None and float(b) == float(o.budget)),
                              _OFF_LADDER)
                if budget is _OFF_LADDER:
                    continue
            config = {k: pins.get(k, v) for k, v in o.config.items()}
            out.append(Observation(config, budget, o.loss))
        return out

    def warm_start(self, observations: Sequence[Observation]) -> int:
        """Give the searcher evaluations of earlier runs, once, before the first :meth:`ask`.

        Returns how many the searcher learned from (0 for ``random``, which
        ignores them). Deterministic: the same observations, then the same asks
        and tells, give the same suggestions.
        """
        usable = self.usable(observations)
        return self.searcher.warm_start(usable, *self.warm_incumbents(usable))

    def warm_incumbents(self, usable: Sequence[Observation]) -> tuple[int, int]:
        """How many of the earlier best configurations the searcher evaluates again first, and how many
        more after them if the objective shows noise, given the observations :meth:`usable` keeps:
        ``(--warm-incumbents, 0)`` when it is given, else ``(3, 0)`` (a scheduler may have a rule of
        its own, see :meth:`HyperbandScheduler.warm_incumbents
        <hpsearch.search.schedulers.hyperband.HyperbandScheduler.warm_incumbents>`)."""
        return self.searcher.warm_incumbents(), 0

    # -- class-level properties read by the CLI, the runner and compare -------------------
    @classmethod
    def searcher_problem(cls, problem: HpProblem, options: dict[str, Any]) -> HpProblem:
        """The space the searcher chooses in (a multi-fidelity scheduler pins its resource at R)."""
        return pin_resource(problem, options, cls.name) if cls.multi_fidelity else problem

    @classmethod
    def default_max_evals(cls) -> int | None:
        """``--max-evals`` when neither it nor a time or resource limit is given (None: stops itself)."""
        return None

    @classmethod
    def budget_options(cls, problem: HpProblem, options: dict[str, Any], budget: float) -> dict[str, Any]:
        """Options that let an outside resource ``budget`` (hps compare) end the run, not the scheduler."""
        return {}

    def done_reason(self) -> str:
        """Why :meth:`ask` said DONE, in one line naming the option that ended the search."""
        return f"the search is complete: {self.name} has nothing left to evaluate"

    # -- for subclasses -------------------------------------------------------------------
    def new_configs(self, n: int, stream: tuple[int, ...] | None = None,
                    full_budget: bool = False) -> list[tuple[int, dict]]:
        """``n`` new configurations from the searcher (from its random ``stream``, if named),
        with fresh ids (0, 1, 2, ... in ask order); ``full_budget``: they start at the full budget."""
        out = []
        for config in self.searcher.suggest(n, stream, full_budget):
            cid = self._next_config_id
            self._next_config_id += 1
            self._configs[cid] = config
            out.append((cid, config))
        return out

    def observe(self, result: Told) -> None:
        """Tell the searcher: a failure is a None loss (never a number it could promote)."""
        s = result.suggestion
        config = self._configs.get(s.config_id, s.config)
        if result.status == Status.STOPPED and result.loss is not None and result.budget_reached is not None:
            # pruned: its last value, filed under the budget it reached
            self.searcher.observe(config, result.budget_reached, result.loss)
            return
        loss = result.loss if result.status == Status.DONE else None
        self.searcher.observe(config, self.observed_budget(s), loss)

    def observed_budget(self, s: Suggestion) -> Any:
        """The budget an observation is filed under (fifo: None, one fidelity)."""
        return s.budget
