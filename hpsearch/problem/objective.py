"""What a problem optimises: the directions, and the one place the sign is handled."""
from __future__ import annotations

from typing import Any

__all__ = ["DIRECTIONS", "to_loss", "rank_key"]

DIRECTIONS = ("maximize", "minimize")


def to_loss(direction: str, objective: float) -> float:
    """The value schedulers and searchers minimise: the one place the sign is handled."""
    return -objective if direction == "maximize" else objective


def rank_key(direction: str, multi_fidelity: bool = False):
    """Sort key for finished evaluations, best first.

    For a multi-fidelity search a larger budget ranks first (a low-budget value
    is a noisy preview, not a result), then the objective.
    """

    def key(t: Any) -> tuple:
        budget = -(t.budget or 0) if multi_fidelity else 0
        return (budget, to_loss(direction, t.objective), t.trial_id)

    return key
