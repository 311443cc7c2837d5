"""ASHA in stopping mode (Li et al., MLSys 2020; Syne Tune's ``type="stopping"``).

Rungs at ``r_min * eta^k`` below R. When a trial first reports at or past a
rung, its loss is recorded there, and it continues only while it is in the top
``1/eta`` of the losses recorded at that rung so far (ranked among them, it
must be one of the best ``ceil(n / eta)``). No checkpoint code is needed: a
trial that continues simply keeps training.

Several objectives (tuple losses): the same rule on the ranking of
:func:`hpsearch.problem.pareto.order` (non-dominated rank, then crowding
distance), the newcomer listed first so that it wins ties, as a loss equal to
a recorded one does for one objective: it continues while at most
``ceil(n / eta) - 1`` recorded points rank ahead of it.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import replace

from ...problem import pareto
from ..fidelity import ETA, MAX_RESOURCE, MIN_RESOURCE
from ..options import positive
from .base import PREFIX, Pruner, rungs

__all__ = ["AshaPruner", "RungJudge"]


class RungJudge:
    """Losses recorded at rung levels and the top-1/eta rule (shared with Hyperband's brackets)."""

    def __init__(self, levels: list[float], eta: int):
        self.levels = levels
        self.eta = eta
        self.recorded: list[list] = [[] for _ in levels]  # per rung: sorted losses (tuples: in report order)
        self.reached: dict[int, int] = {}  # trial -> rungs recorded so far

    def report(self, trial_id: int, step: float, loss: float | tuple[float, ...]) -> bool:
        k = self.reached.get(trial_id, 0)
        stop = False
        while k < len(self.levels) and step >= self.levels[k] - 1e-9:
            values = self.recorded[k]
            if isinstance(loss, (tuple, list)):
                loss = tuple(loss)
                better = pareto.order([loss, *values]).index(0)  # points ranked ahead of it
                values.append(loss)
            else:
                bisect.insort(values, loss)
                better = bisect.bisect_left(values, loss)  # recorded losses strictly lower
            if better >= math.ceil(len(values) / self.eta):
                stop = True
            k += 1
            if stop:
                break
        self.reached[trial_id] = k
        return stop


class AshaPruner(Pruner):
    """``--pruner asha``: stop a trial at a rung unless it is in that rung's top 1/eta."""

    name = "asha"
    #: the schedulers' --eta, --min-resource, --max-resource as --pruner-*, with what they mean here.
    OPTIONS = (
        replace(ETA, prefix=PREFIX, help="asha/hyperband: the reduction factor (a trial must be in the top "
                "1/eta at each rung)."),
        replace(MIN_RESOURCE, prefix=PREFIX, validate=positive, help="asha/hyperband: the first rung's step "
                "(default: the resource's lower bound, else 1)."),
        replace(MAX_RESOURCE, prefix=PREFIX, validate=positive, help="asha/hyperband: the full step count R "
                "(default: the resource's upper bound or pinned value)."),
    )

    def __init__(self, problem, **options):
        super().__init__(problem, **options)
        low, high = self.step_range()
        self._judge = RungJudge(rungs(low, high, self.options["eta"]), self.options["eta"])

    def report(self, trial_id: int, step: float, loss: float | tuple[float, ...]) -> bool:
        return self._judge.report(trial_id, step, loss)
