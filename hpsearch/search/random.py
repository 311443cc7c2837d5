"""Random search: the starting points, then independent draws from each prior."""
from __future__ import annotations

from .base import SearchBackend, Suggestion, Told

__all__ = ["RandomSearch"]


class RandomSearch(SearchBackend):
    """Evaluates the problem's starting points (defaults first), then samples.

    Each configuration is drawn independently from every dimension's prior
    with the run's seeded generator, so a seed gives the same sequence.
    """

    name = "random"

    def __init__(self, problem, seed, **options):
        super().__init__(problem, seed, **options)
        self._starts = list(problem.starting_points)

    def ask(self, n: int) -> list[Suggestion]:
        out = []
        resource = self.problem.resource
        for _ in range(n):
            config = self._starts.pop(0) if self._starts else self.problem.sample(self.rng)
            budget = config[resource.name] if resource is not None else None
            out.append(Suggestion(config=config, config_id=self.new_config_id(), budget=budget))
        return out

    def tell(self, result: Told) -> None:
        pass
