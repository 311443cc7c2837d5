"""What a problem optimises: the directions, and the one place the sign is handled.

A problem has one objective (``objective=``, ``direction=``) or several
(``objectives={name: direction}``). Searchers, schedulers and pruners minimise:
:func:`to_loss` turns one objective's value into that form, :func:`to_losses`
turns a dict of metrics into the tuple of every objective's loss, in
declaration order.

>>> to_losses({"acc": "maximize", "size": "minimize"}, {"acc": 0.9, "size": 120, "other": 1})
(-0.9, 120.0)
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

__all__ = ["DIRECTIONS", "to_loss", "to_losses", "rank_key", "MissingObjective", "objectives_of",
           "values_of"]

DIRECTIONS = ("maximize", "minimize")


class MissingObjective(ValueError):
    """A metrics dict lacks an objective, or holds a value that is not a finite number."""


def to_loss(direction: str, objective: float) -> float:
    """The value schedulers and searchers minimise: the one place the sign is handled."""
    return -objective if direction == "maximize" else objective


def to_losses(objectives: Mapping[str, str], metrics: Mapping[str, Any]) -> tuple[float, ...]:
    """Every objective of ``objectives`` (name -> direction) as a value to minimise, in order.

    Raises:
        MissingObjective: an objective is absent from ``metrics`` or not a finite number
            (the message names it and the value).

    >>> to_losses({"acc": "maximize"}, {"acc": 1})
    (-1.0,)
    >>> to_losses({"acc": "maximize", "size": "minimize"}, {"acc": 0.5})
    Traceback (most recent call last):
    ...
    hpsearch.problem.objective.MissingObjective: objective 'size' is missing (keys: acc)
    """
    out = []
    for name, direction in objectives.items():
        if name not in metrics:
            keys = ", ".join(map(str, metrics)) or "none"
            raise MissingObjective(f"objective {name!r} is missing (keys: {keys})")
        v = metrics[name]
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise MissingObjective(f"objective {name!r} is {v!r} (not a finite number)")
        out.append(float(to_loss(direction, float(v))))
    return tuple(out)


def objectives_of(space: Mapping[str, Any]) -> dict[str, str]:
    """The objectives (name -> direction) of a stored space (``HpProblem.to_dict``).

    A space stored before multi-objective problems existed has one objective.

    >>> objectives_of({"objective": "loss", "direction": "minimize"})
    {'loss': 'minimize'}
    >>> objectives_of({"objective": "a", "direction": "maximize",
    ...                "objectives": {"a": "maximize", "b": "minimize"}})
    {'a': 'maximize', 'b': 'minimize'}
    >>> objectives_of({})
    {'objective': 'maximize'}
    """
    many = space.get("objectives")
    if isinstance(many, Mapping) and many:
        return {str(k): str(v) for k, v in many.items()}
    return {space.get("objective") or "objective": space.get("direction") or "maximize"}


def values_of(objective: str, value: float | None, metrics: Mapping[str, Any]) -> dict:
    """A stored evaluation's metrics with its objective column put back under its name.

    An evaluation stores its first objective in the objective column and every
    other returned value in its metrics; this joins them for :func:`to_losses`.

    >>> values_of("acc", 0.9, {"size": 3})
    {'size': 3, 'acc': 0.9}
    """
    out = dict(metrics or {})
    if value is not None:
        out[objective] = value
    return out


def rank_key(direction: str, multi_fidelity: bool = False):
    """Sort key for finished evaluations, best first.

    For a multi-fidelity search a larger budget ranks first (a low-budget value
    is a noisy preview, not a result), then the objective.
    """

    def key(t: Any) -> tuple:
        budget = -(t.budget or 0) if multi_fidelity else 0
        return (budget, to_loss(direction, t.objective), t.trial_id)

    return key
