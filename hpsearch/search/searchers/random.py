"""Random search: independent draws from each dimension's prior."""
from __future__ import annotations

from .base import Searcher

__all__ = ["RandomSearcher"]


class RandomSearcher(Searcher):
    """Independent draws from every dimension's prior (after the starting points).

    One uniform draw per dimension from the run's seeded generator (or the
    stream the scheduler names), mapped through the prior's quantiles, so a
    seed gives the same sequence.
    """

    name = "random"

    def _propose(self) -> dict:
        return self.problem.sample(self.stream_rng)
