"""Hyperband-style pruning (Li et al., JMLR 2018, applied by stopping; as Optuna's HyperbandPruner).

Brackets s = 0..s_max, s_max = floor(log_eta(R / r_min)) (exact, from
:func:`~hpsearch.search.fidelity.rung_ladder`); bracket s judges its
trials at rungs ``r_min * eta^(s + k)`` below R with the ASHA stopping rule, among the
trials of the same bracket only (the last bracket has no rung: its trials run
to the end). Trials are dealt to brackets in proportion to how many
configurations Hyperband starts in each, ``n = ceil((s_max + 1) / (s + 1) *
eta^s)`` for Hyperband's s = s_max - b, interleaved (smooth weighted
round-robin) by trial id, so the assignment is deterministic and survives a resume.
Several objectives: each bracket ranks as the ASHA pruner does (:mod:`.asha`).
"""
from __future__ import annotations

from ..brackets import plan
from .asha import AshaPruner, RungJudge
from .base import Pruner, PrunerOptionError, rungs

__all__ = ["HyperbandPruner"]


class HyperbandPruner(Pruner):
    """``--pruner hyperband``: ASHA stopping within Hyperband's brackets."""

    name = "hyperband"
    OPTIONS = AshaPruner.OPTIONS

    def __init__(self, problem, **options):
        super().__init__(problem, **options)
        low, high = self.step_range()
        if high is None:
            raise PrunerOptionError("--pruner hyperband: needs --pruner-max-resource (the problem declares "
                                    "no resource dimension)")
        eta = self.options["eta"]
        # Hyperband's n for the bracket whose first rung is r_min * eta^b: plan() lists s = s_max..0
        sizes = [bracket.rungs[0].n for bracket in plan(high, eta, low, integer=False)]
        levels = rungs(low, high, eta)
        self._judges = [RungJudge(levels[b:], eta) for b in range(len(sizes))]
        self._deal = _interleave(sizes)

    def bracket_of(self, trial_id: int) -> int:
        """The bracket a trial is judged in."""
        return self._deal[trial_id % len(self._deal)]

    def report(self, trial_id: int, step: float, loss: float | tuple[float, ...]) -> bool:
        return self._judges[self.bracket_of(trial_id)].report(trial_id, step, loss)


def _interleave(weights: list[int]) -> list[int]:
    """A cycle of indices, index i ``weights[i]`` times, spread out (smooth weighted round-robin).

    >>> _interleave([3, 1])
    [0, 0, 1, 0]
    """
    total = sum(weights)
    credit = [0] * len(weights)
    out = []
    for _ in range(total):
        credit = [c + w for c, w in zip(credit, weights)]
        i = max(range(len(weights)), key=lambda j: (credit[j], -j))
        credit[i] -= total
        out.append(i)
    return out
