"""The median stopping rule (Golovin et al., Google Vizier, KDD 2017).

Stop a trial at step s when its best value so far is worse than the median,
over the other trials that reached s, of their running averages up to s
(the mean of each one's reports at steps <= s). Nothing is stopped before
``grace_period`` steps, nor before ``min_trials`` other trials reached the step.

Several objectives (tuple losses), where a median is not defined: the trial's
best so far is each objective's best report (its curve's ideal point), the
others' running averages are per objective, and the trial is stopped when it
is in the worse half of the ranking of :func:`hpsearch.problem.pareto.order`
(non-dominated rank, then crowding distance) among them: when more than half
of the other trials rank ahead of it (it is listed first, so it wins ties).
For one objective the two rules agree up to ties at the median.
"""
from __future__ import annotations

import bisect
import statistics

import numpy as np

from ...problem import pareto
from ..options import Option, positive
from .base import PREFIX, Pruner

__all__ = ["MedianPruner"]


class _Curve:
    """One trial's reports: steps in arrival order, prefix sums of its losses, best loss."""

    __slots__ = ("steps", "sums", "best")

    def __init__(self):
        self.steps: list[float] = []
        self.sums: list[float] = []
        self.best = float("inf")

    def add(self, step: float, loss: float | tuple[float, ...]) -> None:
        if self.steps and step < self.steps[-1]:
            return  # steps must grow: a restarted curve keeps its first pass
        self.steps.append(step)
        if isinstance(loss, (tuple, list)):  # several objectives: per-objective sums and bests
            v = np.asarray(loss, dtype=float)
            self.sums.append(self.sums[-1] + v if self.sums else v)
            self.best = v if np.isscalar(self.best) else np.minimum(self.best, v)
            return
        self.sums.append((self.sums[-1] if self.sums else 0.0) + loss)
        self.best = min(self.best, loss)

    def running_average(self, step: float) -> float | np.ndarray | None:
        """Mean of the losses reported at steps <= ``step``, if the trial reached ``step``."""
        if not self.steps or self.steps[-1] < step:
            return None
        i = bisect.bisect_right(self.steps, step)
        return self.sums[i - 1] / i if i else None


class MedianPruner(Pruner):
    """``--pruner median``: the median stopping rule with a grace period."""

    name = "median"
    OPTIONS = (
        Option("grace_period", float, 1, "median: no trial is stopped before this step (the grace period).",
               validate=positive, prefix=PREFIX),
        Option("min_trials", int, 3, "median: how many other trials must have reached a step before a "
               "trial is judged there.", least=1, prefix=PREFIX),
    )

    def __init__(self, problem, **options):
        super().__init__(problem, **options)
        self._curves: dict[int, _Curve] = {}

    def report(self, trial_id: int, step: float, loss: float | tuple[float, ...]) -> bool:
        curve = self._curves.setdefault(trial_id, _Curve())
        curve.add(step, loss)
        if step < self.options["grace_period"]:
            return False
        others = [a for tid, c in self._curves.items() if tid != trial_id
                  for a in (c.running_average(step),) if a is not None]
        if len(others) < self.options["min_trials"]:
            return False
        if isinstance(loss, (tuple, list)):
            ahead = pareto.order([curve.best, *others]).index(0)
            return ahead > len(others) / 2
        return curve.best > statistics.median(others)
