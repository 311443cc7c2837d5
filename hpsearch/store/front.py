"""Which evaluations of a multi-objective run are on its Pareto front: the rule, kept one at a time.

The rule (every view and results.csv's ``pareto`` column follow it):

* An evaluation counts when it is ``done`` and holds every objective as a finite
  number (its losses are :func:`~hpsearch.problem.objective.to_losses` of the
  objective column and the metrics).
* In a multi-fidelity run only evaluations at the full budget (the run's
  ``max_resource``) count: a lower budget is a noisy preview, not a result.
* The front is :func:`~hpsearch.problem.pareto.pareto_mask` of the evaluations
  that count: every copy of a front point is on it.

:class:`Front` adds evaluations one at a time: the front of a set plus one point
is the front of (the set's front plus that point), so it keeps only the front.

>>> from types import SimpleNamespace as T
>>> f = Front({"acc": "maximize", "size": "minimize"})
>>> for tid, acc, size in [(0, 0.5, 10), (1, 0.9, 30), (2, 0.6, 5), (3, 0.9, 30)]:
...     _ = f.add(T(trial_id=tid, status="done", objective=acc, metrics={"size": size}, budget=None))
>>> sorted(f.ids)
[1, 2, 3]
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..problem.objective import MissingObjective, to_losses, values_of
from ..problem.pareto import pareto_mask

__all__ = ["Front", "trial_losses", "counts_for_front"]

#: how close a budget must be to the full budget to count as one (budgets are stored as numbers)
_BUDGET_TOLERANCE = 1e-9


def trial_losses(objectives: Mapping[str, str], t: Any) -> tuple[float, ...] | None:
    """A stored evaluation's losses (``to_losses`` form), or None when an objective is missing.

    The objective column holds the first objective; the others are in the metrics.
    """
    first = next(iter(objectives))
    try:
        return to_losses(objectives, values_of(first, t.objective, t.metrics or {}))
    except MissingObjective:
        return None


def counts_for_front(t: Any, full_budget: float | None) -> bool:
    """An evaluation is a result the front may hold: ``done``, and at ``full_budget`` when one is given."""
    if str(t.status) != "done":
        return False
    if full_budget is None:
        return True
    return t.budget is not None and float(t.budget) >= float(full_budget) - _BUDGET_TOLERANCE


class Front:
    """The Pareto front of a run's evaluations so far, added one at a time in completion order.

    Args:
        objectives: name -> direction, in declaration order.
        full_budget: in a multi-fidelity run, the budget an evaluation needs to count (None: any).
    """

    def __init__(self, objectives: Mapping[str, str], full_budget: float | None = None):
        self.objectives = dict(objectives)
        self.full_budget = full_budget
        self.members: dict[int, tuple[float, ...]] = {}  # trial_id -> losses, the front so far
        self.trials: dict[int, Any] = {}

    @property
    def ids(self) -> set[int]:
        """The trial_ids on the front."""
        return set(self.members)

    def add(self, t: Any) -> list[int]:
        """Add one finished evaluation; return the trial_ids that left the front because of it.

        ``t.trial_id in self.ids`` afterwards tells whether it joined.
        """
        if not counts_for_front(t, self.full_budget):
            return []
        losses = trial_losses(self.objectives, t)
        if losses is None:
            return []
        ids = list(self.members) + [t.trial_id]
        mask = pareto_mask([*self.members.values(), losses])
        dropped = [i for i, keep in zip(ids[:-1], mask[:-1]) if not keep]
        for i in dropped:
            del self.members[i]
            del self.trials[i]
        if mask[-1]:
            self.members[t.trial_id] = losses
            self.trials[t.trial_id] = t
        return dropped
