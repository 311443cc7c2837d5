"""A runtime model for problems that do not take real time: how long an evaluation would take.

The ``simulated`` evaluator charges each evaluation the seconds its problem's
``cost`` says (``HpProblem(cost=RuntimeModel())``), so a benchmark that computes
in microseconds can be measured as if every evaluation trained for real on a
cluster: time proportional to the resource trained (with warm start from a
checkpoint only ``budget - previous_budget``, as a real run would), slowed or
sped up by a log-normal factor, as runs on a shared cluster are. The factor is
drawn from a generator seeded by the trial's seed and budgets, so a run is
reproducible.

    >>> from types import SimpleNamespace as Trial
    >>> model = RuntimeModel(seconds_per_unit=2.0, jitter=0.0)
    >>> model({}, Trial(budget=9, previous_budget=3, seed=1))
    12.0
    >>> noisy, trial = RuntimeModel(), Trial(budget=9, previous_budget=0, seed=1)
    >>> noisy({}, trial) == noisy({}, trial), round(noisy({}, trial), 3) != 9.0
    (True, True)
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from typing import Any

__all__ = ["RuntimeModel"]


@dataclass(frozen=True)
class RuntimeModel:
    """``cost(config, trial) -> seconds``: ``(overhead_s + seconds_per_unit * units) * exp(N(0, jitter))``.

    ``units`` is the resource the evaluation trains, ``trial.budget - trial.previous_budget``
    (1 without a resource).

    Attributes:
        seconds_per_unit: seconds per unit of the resource (e.g. per epoch).
        jitter: standard deviation of the log of the slowdown factor (0.1: most runs within
            about 10 % of the nominal time, a few 20-30 % slower or faster).
        overhead_s: seconds every evaluation pays before training (start-up, loading data).
    """

    seconds_per_unit: float = 1.0
    jitter: float = 0.1
    overhead_s: float = 0.0

    def __call__(self, config: dict, trial: Any) -> float:
        budget, previous = trial.budget, trial.previous_budget or 0
        units = 1.0 if budget is None else max(float(budget) - float(previous), 0.0)
        nominal = self.overhead_s + self.seconds_per_unit * units
        if not self.jitter:
            return nominal
        key = hashlib.sha256(repr(("runtime", int(trial.seed), _plain(budget), _plain(previous))).encode())
        rng = random.Random(int.from_bytes(key.digest()[:8], "big"))
        return nominal * math.exp(rng.gauss(0.0, self.jitter))


def _plain(x: Any) -> Any:
    """A budget as the same text whether it came as 9 or 9.0."""
    return float(x) if isinstance(x, (int, float)) else x
