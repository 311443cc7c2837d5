"""Random search: independent draws from each dimension's prior."""
from __future__ import annotations

from .base import PRIOR_OPTION, Searcher

__all__ = ["RandomSearcher"]


class RandomSearcher(Searcher):
    """Independent draws from every dimension's prior (after the starting points).

    One uniform draw per dimension from the run's seeded generator (or the
    stream the scheduler names), mapped through the prior's quantiles, so a
    seed gives the same sequence. With ``--prior default`` a draw comes from
    the mixture of the space's prior, draws around the incumbent and these
    draws (:mod:`hpsearch.search.prior`).
    """

    name = "random"
    OPTIONS = (PRIOR_OPTION,)

    def _propose(self) -> dict:
        return self.random_draw(self.stream_rng, self.pending)
