"""``--stop-when "metric>=value"``: conditions that end a whole search once an evaluation meets one.

A condition names any stored metric (the objective's name, any objective of a
multi-objective problem, or another metric ``run`` returns), one of ``>=``,
``<=``, ``>``, ``<``, and a number. The engine checks every finished
(``done``) evaluation against each condition; the first one met ends the run
(exit 0), with the reason stored in the run's settings so that ``hps resume``
says the run already met it.

    >>> c = parse_condition("val_accuracy>=0.98")
    >>> c.metric, c.op, c.value
    ('val_accuracy', '>=', 0.98)
    >>> c.holds(0.9812)
    True
"""
from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import UsageError
from ..trial import finite_number

__all__ = ["StopCondition", "StopConditionError", "parse_condition", "parse_conditions"]

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_PATTERN = re.compile(r"^\s*([A-Za-z_][\w.:-]*)\s*(>=|<=|>|<)\s*(\S+)\s*$")


class StopConditionError(UsageError, ValueError):
    """A malformed ``--stop-when`` or one naming a metric the run does not store (a usage error)."""


@dataclass(frozen=True)
class StopCondition:
    """``metric op value``, e.g. ``val_accuracy >= 0.98``."""

    metric: str
    op: str
    value: float

    def holds(self, x: float) -> bool:
        return _OPS[self.op](x, self.value)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"

    def value_in(self, objective_name: str, objective: float | None, metrics: dict) -> float | None:
        """This condition's metric in a stored evaluation (None if absent or not a number)."""
        return finite_number(objective if self.metric in (objective_name, "objective")
                             else metrics.get(self.metric))


def parse_condition(text: str) -> StopCondition:
    """Parse ``metric>=value`` (also ``<=``, ``>``, ``<``).

    Raises:
        StopConditionError: a one-line message naming what was expected.
    """
    m = _PATTERN.match(text or "")
    if m is None:
        raise StopConditionError(f"--stop-when: expected METRIC>=VALUE (or <=, >, <), e.g. "
                                 f"'val_accuracy>=0.98', got {text!r}")
    try:
        value = float(m.group(3))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise StopConditionError(f"--stop-when: the value must be a finite number, got {m.group(3)!r} "
                                 f"in {text!r}")
    return StopCondition(m.group(1), m.group(2), value)


def parse_conditions(texts: Iterable[str] | None) -> list[StopCondition]:
    """Parse every ``--stop-when`` (none: an empty list)."""
    return [parse_condition(t) for t in texts or ()]


def check_known(conditions: Iterable[StopCondition], objective_name: str, metrics: dict,
                trial_id: int) -> None:
    """Raise when a condition names a metric the first finished evaluation did not store."""
    for c in conditions:
        if c.metric not in (objective_name, "objective") and c.metric not in metrics:
            stored = ", ".join([objective_name, *sorted(metrics)])
            raise StopConditionError(f"--stop-when {c}: unknown metric {c.metric!r} (trial {trial_id} "
                                     f"stored: {stored})")


def first_met(conditions: Iterable[StopCondition], objective_name: str, objective: float | None,
              metrics: dict, trial_id: int) -> str | None:
    """``val_accuracy 0.9812 >= 0.98 at trial 17`` for the first condition met, else None."""
    for c in conditions:
        x = c.value_in(objective_name, objective, metrics)
        if x is not None and c.holds(x):
            return f"{c.metric} {x:.6g} {c.op} {c.value:g} at trial {trial_id}"
    return None
