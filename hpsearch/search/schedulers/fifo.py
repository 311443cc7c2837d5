"""FIFO: every configuration the searcher proposes is evaluated once, at full budget."""
from __future__ import annotations

from typing import Any

from ..base import Suggestion, Told
from .base import Scheduler

__all__ = ["FifoScheduler"]


class FifoScheduler(Scheduler):
    """Every proposal runs once, as proposed; ``--max-evals`` defaults to 100.

    A resource dimension is searched like any other (pin it with ``--fix``), and
    every observation is filed under one fidelity.
    """

    name = "fifo"

    @classmethod
    def default_max_evals(cls) -> int:
        return 100

    def ask(self, n: int) -> list[Suggestion]:
        resource = self.problem.resource
        return [Suggestion(config=config, config_id=cid,
                           budget=config[resource.name] if resource is not None else None)
                for cid, config in self.new_configs(n)]

    def tell(self, result: Told) -> None:
        self.observe(result)
        self._configs.pop(result.suggestion.config_id, None)

    def observed_budget(self, s: Suggestion) -> Any:
        return None
