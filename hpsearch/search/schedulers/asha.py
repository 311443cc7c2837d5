"""ASHA: asynchronous successive halving (Li et al., MLSys 2020, Algorithm 2).

Rungs ``k = 0..K`` train a configuration up to ``r_k = R * eta^(k-K)`` of the
resource (cumulative, as in Hyperband; rounded to an integer for an integer
resource, and never below ``min_resource``), with ``K = floor(log_eta(R /
r_min))``, so the top rung is ``R`` exactly and each rung is ``eta`` times the
one below: R=81, r_min=1, eta=3 gives 1, 3, 9, 27, 81.

Every ``ask`` slot looks from the second-highest rung down to rung 0 for a
configuration that ranks in the top ``floor(|rung k| / eta)`` of its rung (by
loss at that rung's budget; failed and timed-out evaluations count in
``|rung k|`` but are never promoted) and was not promoted yet, and promotes it
one rung up, warm started from its checkpoint. When there is none it starts a
new configuration at rung 0, asked of the searcher (the problem's starting
points first; draws from the priors with ``random``; a model fitted on the
largest budget with enough results with ``--searcher bayesian`` or ``kde``,
i.e. model-based ASHA). So workers never wait for a rung to fill.

Multi-objective problems (tuple losses): MO-ASHA (Schmucker et al., 2021). A
rung's successful results are ranked by :func:`hpsearch.problem.pareto.order`
(non-dominated sorting, crowding distance within a rank, then the order they
were told in); a configuration goes up when it is among the top
``floor(|rung k| / eta)`` of that ranking and not promoted yet, the best
ranked first. A dominated configuration is never promoted ahead of one on the
rung's front.

Stopping rule: at most ``max_configs`` configurations are started (default
``eta^K``, as many as Hyperband's most exploratory bracket); once they all
started, the search promotes what it can, says WAIT while results that could
allow a promotion are in flight, and DONE when nothing is left.
"""
from __future__ import annotations

import bisect
import math
from typing import Any

from ...problem import pareto
from ...problem.space import HpProblem
from ...trial import Status
from ..base import DONE, WAIT, Suggestion, Told
from ..fidelity import RESOURCE_OPTIONS, resource_options, rung_ladder
from ..options import Option
from ..searchers.base import Searcher
from .base import Scheduler

__all__ = ["AshaScheduler", "rung_budgets"]


def rung_budgets(min_resource: float, max_resource: float, eta: int, integer: bool) -> list:
    """The rungs' cumulative budgets, lowest first: those of Hyperband's most exploratory bracket
    (:func:`~hpsearch.search.fidelity.rung_ladder`, as ints or floats).

    >>> rung_budgets(1, 81, 3, True)
    [1, 3, 9, 27, 81]
    >>> rung_budgets(1, 100, 3, True)
    [1, 4, 11, 33, 100]
    """
    return [r if integer else float(r) for r in rung_ladder(max_resource, eta, min_resource, integer=integer)]


class AshaScheduler(Scheduler):
    """Asynchronous successive halving; see the module docstring.

    Options: ``max_resource`` (R), ``min_resource`` (r_min), ``eta``, and
    ``max_configs`` (how many configurations to start).
    """

    name = "asha"
    multi_fidelity = True
    OPTIONS = (*RESOURCE_OPTIONS,
               Option("max_configs", int, None, "ASHA: how many configurations to start "
                      "(default eta^s_max, as in Hyperband's widest bracket).", least=1))

    def __init__(self, problem: HpProblem, seed: int | None, searcher: Searcher, **options: Any):
        super().__init__(problem, seed, searcher, **options)
        opts = resource_options(problem, self.options, self.name)
        eta = self.eta = opts.eta
        self.budgets = rung_budgets(opts.min_resource, opts.max_resource, eta, opts.integer)
        max_configs = self.options["max_configs"]
        self.max_configs = eta ** (len(self.budgets) - 1) if max_configs is None else max_configs
        self._resource = problem.resource.name
        # rung k -> its results, best first: (0, loss, config_id) if done, else (1, 0.0, config_id)
        self._rungs: list[list[tuple[int, float, int]]] = [[] for _ in self.budgets]
        # rung k -> its done results not promoted yet, best first (a sublist of the rung)
        self._waiting: list[list[tuple[int, float, int]]] = [[] for _ in self.budgets]
        self._in_flight = 0
        # multi-objective: rung k -> (config_id, loss or None) in the order told, and who went up from it
        self._told: list[list[tuple[int, Any]]] = [[] for _ in self.budgets]
        self._promoted: list[set[int]] = [set() for _ in self.budgets]

    @classmethod
    def budget_options(cls, problem: HpProblem, options: dict[str, Any], budget: float) -> dict[str, Any]:
        r = resource_options(problem, options, cls.name)
        return {"max_configs": math.ceil(budget / r.min_resource) + 1}

    def max_evaluations(self) -> int | None:
        return None

    def rung_budgets(self) -> list:
        return list(self.budgets)

    def done_reason(self) -> str:
        return (f"the search is complete: {self.name}'s --max-configs ({self.max_configs}) configurations "
                "were all evaluated")

    def max_in_flight(self) -> int:
        """``max_configs``: a configuration has one evaluation at a time."""
        return self.max_configs

    def _promotable(self, k: int) -> int | None:
        """The best unpromoted configuration of rung k if it ranks in the top 1/eta, else None."""
        if self.problem.multi_objective:
            return self._promotable_front(k)
        waiting = self._waiting[k]
        if not waiting:
            return None
        rank = bisect.bisect_left(self._rungs[k], waiting[0])
        return waiting[0][2] if rank < len(self._rungs[k]) // self.eta else None

    def _promotable_front(self, k: int) -> int | None:
        """Multi-objective: the best-ranked unpromoted configuration among rung k's top 1/eta."""
        told = self._told[k]
        top = len(told) // self.eta
        done = [(cid, loss) for cid, loss in told if loss is not None]
        if top == 0 or not done:
            return None
        for i in pareto.order([loss for _, loss in done])[:top]:
            if done[i][0] not in self._promoted[k]:
                return done[i][0]
        return None

    def _suggest(self, cid: int, k: int) -> Suggestion:
        config = {**self._configs[cid], self._resource: self.budgets[k]}
        previous = self.budgets[k - 1] if k > 0 else 0
        return Suggestion(config=config, config_id=cid, budget=self.budgets[k], previous_budget=previous,
                          bracket=0, rung=k)

    def ask(self, n: int) -> list[Suggestion] | Any:
        out: list[Suggestion] = []
        for _ in range(n):
            s = None
            for k in range(len(self.budgets) - 2, -1, -1):
                cid = self._promotable(k)
                if cid is not None:
                    if self.problem.multi_objective:
                        self._promoted[k].add(cid)
                    else:
                        self._waiting[k].pop(0)
                    s = self._suggest(cid, k + 1)
                    break
            if s is None and self._next_config_id < self.max_configs:
                cid, _config = self.new_configs(1, full_budget=len(self.budgets) == 1)[0]
                s = self._suggest(cid, 0)
            if s is None:
                break
            out.append(s)
        if not out:
            return WAIT if self._in_flight else DONE
        self._in_flight += len(out)
        return out

    def tell(self, result: Told) -> None:
        self._in_flight -= 1
        s = result.suggestion
        self.observe(result)
        if self.problem.multi_objective:
            ok = result.status == Status.DONE and result.loss is not None
            self._told[s.rung].append((s.config_id, tuple(result.loss) if ok else None))
            return
        if result.status == Status.DONE and result.loss is not None:
            entry = (0, float(result.loss), s.config_id)
        else:
            entry = (1, 0.0, s.config_id)
        bisect.insort(self._rungs[s.rung], entry)
        if entry[0] == 0:
            bisect.insort(self._waiting[s.rung], entry)
