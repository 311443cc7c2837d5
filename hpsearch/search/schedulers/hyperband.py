"""Hyperband (Li et al., JMLR 18, 2018): successive halving over brackets s = s_max..0.

The schedule comes from :mod:`.brackets` (the paper's Algorithm 1 in exact
arithmetic). Budgets are *cumulative*: a configuration promoted from rung i-1
to rung i keeps its ``config_id`` (hence its checkpoint directory) and gets
``previous_budget = r_(i-1)``, so a warm-starting ``run`` trains only
``r_i - r_(i-1)`` more; a ``run`` that ignores ``trial`` retrains from scratch.

Promotion: when every evaluation of a rung is told, its successful
configurations are ranked by their loss at that rung's budget (ties by their
order in the rung) and the best ``n_(i+1)`` go on. For a multi-objective
problem (tuple losses) the ranking is :func:`hpsearch.problem.pareto.order`:
non-dominated sorting, crowding distance within a rank, then the order in the
rung, as MO-ASHA (Schmucker et al., 2021), so a dominated configuration never
goes on ahead of one on the rung's front. Failed and timed-out
evaluations rank last and are never promoted, so a rung where many fail
promotes fewer (possibly none, which ends the bracket early).

Parallel workers: ``ask(n)`` hands out up to ``n`` pending evaluations of the
open rungs, oldest bracket first; when none is pending it opens the next
bracket's first rung rather than leave a worker idle, and says :data:`WAIT`
only when every open rung is handed out and waiting for results. With one
worker (ask one, tell it, ask again) the brackets run strictly in order.

New configurations come from the searcher, asked *when they are handed out*
(not when the bracket opens), so a model searcher (``--algo bohb``) has seen
every result told so far: that is BOHB (Falkner et al., ICML 2018) when the
searcher is ``kde``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...problem import pareto
from ...problem.space import HpProblem
from ...seeding import mix_seed
from ...trial import Status
from ..base import DONE, WAIT, Observation, Suggestion, Told
from ..brackets import Bracket, plan, total_evaluations
from ..fidelity import RESOURCE_OPTIONS, resource_options
from ..options import Option
from ..searchers.base import Searcher
from ..searchers.fidelities import MIN_PAIRS, comparable, rank_agreement
from .base import Scheduler

__all__ = ["HyperbandScheduler", "BRACKET_MODES", "rank_agreement"]

BRACKET_MODES = ("fixed", "adaptive", "then-full")


@dataclass
class _Open:
    """A bracket being run: its current rung's configurations and results."""

    iteration: int
    bracket: Bracket
    size: int  # evaluations in the current rung (rung 0 fills lazily up to it)
    k: int  # the how-manieth bracket opened (0, 1, ...): identifies it
    rung: int = 0
    items: list[tuple[int, dict]] = field(default_factory=list)  # (config_id, config) in rung order
    handed: int = 0
    losses: dict[int, float | tuple | None] = field(default_factory=dict)  # config_id -> loss (None: failed)


class HyperbandScheduler(Scheduler):
    """Hyperband with warm start, exact to the paper.

    Options:
        max_resource: R (default: the resource dimension's upper bound).
        min_resource: r_min (default: the resource dimension's lower bound).
        eta: the reduction factor, an integer >= 2 (default 3).
        iterations: how many full Hyperband passes (default 1).
        brackets: ``fixed`` (the paper's order), ``adaptive`` or ``then-full`` (see ``_open_next``).
    """

    name = "hyperband"
    multi_fidelity = True
    OPTIONS = (*RESOURCE_OPTIONS,
               Option("iterations", int, 1, "Hyperband: how many full Hyperband passes.", least=1),
               Option("brackets", str, "fixed",
                      "Hyperband: 'fixed' runs every bracket of every pass in order (the paper); 'adaptive' "
                      "runs the first pass in order, then draws each bracket with a weight that grows with "
                      "how well its first rung's budget ranks configurations as the full budget does; "
                      "'then-full' runs the first pass in order, then only the full-budget bracket, whose "
                      "configurations the searcher's model chooses (bohb's default).",
                      choices=BRACKET_MODES))

    def __init__(self, problem: HpProblem, seed: int | None, searcher: Searcher, **options: Any):
        super().__init__(problem, seed, searcher, **options)
        opts = resource_options(problem, self.options, self.name)
        self.resource, self.integer, self.eta = opts.dim, opts.integer, opts.eta
        self.max_resource, self.min_resource = opts.max_resource, opts.min_resource
        self._typed = opts.typed
        self.iterations = self.options["iterations"]
        self.brackets = plan(self.max_resource, self.eta, self.min_resource, integer=self.integer)
        self._queue = [(it, b) for it in range(self.iterations) for b in self.brackets]
        self._next = 0
        self._open: list[_Open] = []
        self.mode = self.options["brackets"]
        self._results: dict[int, dict[Any, float]] = {}  # config_id -> budget -> loss (successes)
        self.weights: list[float] | None = None  # the last adaptive draw's bracket weights

    @classmethod
    def budget_options(cls, problem: HpProblem, options: dict[str, Any], budget: float) -> dict[str, Any]:
        r = resource_options(problem, options, cls.name)
        return {"iterations": math.ceil(budget / r.max_resource) + 1}

    # -- ask / tell ---------------------------------------------------------------
    def ask(self, n: int) -> list[Suggestion] | Any:
        out: list[Suggestion] = []
        while len(out) < n:
            run = next((b for b in self._open if b.handed < b.size), None)
            if run is None:
                if self._next >= len(self._queue):
                    break
                run = self._open_next()
            take = min(n - len(out), run.size - run.handed)
            if run.rung == 0:  # new configurations, asked of the searcher as they are handed out
                full = len(run.bracket.rungs) == 1  # no low rung screens them
                stream = (run.iteration, run.bracket.s)
                run.items.extend(self.new_configs(take, stream=stream, full_budget=full))
            for cid, config in run.items[run.handed:run.handed + take]:
                out.append(self._suggestion(run, cid, config))
            run.handed += take
        if out:
            return out
        return DONE if not self._open and self._next >= len(self._queue) else WAIT

    def tell(self, result: Told) -> None:
        s = result.suggestion
        run = next((b for b in self._open if b.k == s.info.get("k")), None)
        if run is None or s.rung != run.rung:
            raise ValueError(f"hyperband was told about trial {result.trial_id}, which it has not asked for")
        run.losses[s.config_id] = result.loss if result.status == Status.DONE else None
        if result.status == Status.DONE and result.loss is not None:
            self._results.setdefault(s.config_id, {})[s.budget] = result.loss
        self.observe(result)
        if len(run.losses) == run.size:
            self._promote(run)

    def warm_start(self, observations: Sequence[Observation]) -> int:
        """Give the searcher earlier runs' evaluations; when it learned some at the full budget R, the
        first pass runs its brackets from the least to the most aggressive: the full-budget bracket
        (s = 0) first, then s = 1, 2, ...

        So the earlier runs' incumbents (evaluated again first, see
        :meth:`Searcher.warm_start <hpsearch.search.searchers.base.Searcher.warm_start>`)
        and the model's choices at R give full-budget results from the first
        evaluation on, and each later bracket's top rung comes as early as the
        pass allows, instead of after the most aggressive brackets (a
        warm-started model has seen every budget already, so the low-budget
        screening of s_max is the least urgent); every bracket of the pass
        still runs once, so the pass's evaluations and resource are those of a
        cold run.
        """
        learned = super().warm_start(observations)
        if learned and self.full_bracket_first(self.usable(observations)):
            first = [q for q in self._queue if q[0] == 0]
            # least aggressive first: the full-budget bracket, then each with one more rung
            self._queue = sorted(first, key=lambda q: len(q[1].rungs)) + self._queue[len(first):]
        return learned

    def warm_incumbents(self, usable: Sequence[Observation]) -> tuple[int, int]:
        """``(--warm-incumbents, 0)`` when it is given. Else 3, and when the full-budget bracket runs
        first and holds more (n > 3), up to n - 3 more of the earlier best, each only if by its turn
        the objective has shown noise (a configuration evaluated twice at one budget gave two values,
        see :meth:`Searcher.warm_start <hpsearch.search.searchers.base.Searcher.warm_start>`).

        On a noisy objective the earlier best configurations are a plateau that one evaluation each
        does not rank, and a second evaluation of each is a better use of the bracket's slots at R
        than the choice of a model fitted on a handful of results at R; on a deterministic one an
        evaluation again only repeats a value, and the model chooses the rest of the bracket.
        """
        k = self.searcher.warm_incumbents()
        if self.searcher.options.get("warm_incumbents") is not None or not self.full_bracket_first(usable):
            return k, 0
        return k, max(self._full_bracket().rungs[0].n - k, 0)

    def _full_bracket(self) -> Bracket:
        return next(b for b in self.brackets if len(b.rungs) == 1)

    def full_bracket_first(self, usable: Sequence[Observation]) -> bool:
        """Whether a warm start with these observations (as :meth:`usable` gives them) moves the
        full-budget bracket to the front of the first pass: some are at the full budget R."""
        top = float(self._typed(self.max_resource))
        return any(o.budget is not None and float(o.budget) == top for o in usable)

    def done_reason(self) -> str:
        n = self.iterations
        done = "pass is" if n == 1 else "passes are"
        return f"the search is complete: {self.name}'s --iterations ({n}) {done} done"

    def rung_budgets(self) -> list:
        return sorted({self._typed(r.r) for b in self.brackets for r in b.rungs})

    def max_evaluations(self) -> int:
        """Evaluations of every rung of every bracket of every pass (fewer if some fail)."""
        return self.iterations * total_evaluations(self.brackets) if self.mode == "fixed" else None

    def max_in_flight(self) -> int:
        """Every configuration of every bracket it may open (one evaluation of each at a time)."""
        first = [b.rungs[0].n for b in self.brackets]
        if self.mode == "fixed":
            return self.iterations * sum(first)
        return sum(first) + (self.iterations - 1) * len(self.brackets) * max(first)

    def schedule_note(self) -> str | None:
        """Say so when no budget of the planned passes gets enough results for the searcher's model.

        E.g. mnistmlp (R = 9, eta = 3, nine free dimensions): one pass gives at most
        9 results at one budget and the model needs 11, so every configuration is a
        random draw, as under ``--algo hyperband``.
        """
        need = self.searcher.results_needed()
        if need is None or self.mode == "adaptive":
            return None
        most, at = self._most_results(self.iterations)
        if most >= need:
            return None
        more = range(self.iterations + 1, 100)
        enough = next((k for k in more if self._most_results(k)[0] >= need), None)
        fix = f"; --iterations {enough} or more lets the model choose" if enough else ""
        n = self.iterations
        passes = "one Hyperband pass gives" if n == 1 else f"{n} Hyperband passes give"
        return (f"note: the {self.searcher.name} searcher's model needs {need} results at one budget and "
                f"{passes} at most {most} (at budget {at:g}), so the model never chooses: configurations "
                f"are random draws, as under --algo hyperband{fix}")

    def _most_results(self, iterations: int) -> tuple[int, float]:
        """The most evaluations at one budget in ``iterations`` passes, and that budget."""
        one_pass: dict[float, int] = {}
        for b in self.brackets:
            for rung in b.rungs:
                one_pass[float(rung.r)] = one_pass.get(float(rung.r), 0) + rung.n
        if self.mode == "fixed":
            count = {r: iterations * n for r, n in one_pass.items()}
        else:  # then-full: later passes run only bracket 0, all at the full budget
            full = self.brackets[-1].rungs[0]
            count = {**one_pass}
            count[float(full.r)] += (iterations - 1) * len(self.brackets) * full.n
        at = max(count, key=lambda r: (count[r], r))
        return count[at], at

    # -- internals ----------------------------------------------------------------
    def _open_next(self) -> _Open:
        """The next bracket: the queue's (``fixed`` and every first pass), else by the mode's rule.

        ``then-full`` after the first pass: the full-budget bracket (s = 0) only.
        Hyperband's pass has explored every budget once with the searcher's
        model; from then on, full-budget evaluations of the model's choices gain
        more per unit of resource than further low-budget screening (measured
        on the multi-fidelity benchmarks, ``tests/perf/bench_mf.py``: for
        ``bohb`` at 50 % and 100 % of a 100 R budget).
        """
        iteration, bracket = self._queue[self._next]
        if self.mode == "adaptive" and self._next >= len(self.brackets):
            bracket = self._draw_bracket()
        elif self.mode == "then-full" and self._next >= len(self.brackets):
            bracket = self.brackets[-1]
        run = _Open(iteration, bracket, size=bracket.rungs[0].n, k=self._next)
        self._next += 1
        self._open.append(run)
        return run

    def _promote(self, run: _Open) -> None:
        nxt = run.rung + 1
        ok = [(loss, pos, item) for pos, item in enumerate(run.items)
              if (loss := run.losses[item[0]]) is not None]
        k = min(run.bracket.rungs[nxt].n, len(ok)) if nxt < len(run.bracket.rungs) else 0
        if k == 0:
            self._open.remove(run)
            return
        best = pareto.order([loss for loss, _, _ in ok])  # ok is in rung order: ties keep it
        run.items = [ok[i][2] for i in best[:k]]
        run.rung, run.handed, run.losses, run.size = nxt, 0, {}, k

    def _suggestion(self, run: _Open, cid: int, config: dict) -> Suggestion:
        rungs = run.bracket.rungs
        budget = self._typed(rungs[run.rung].r)
        previous = self._typed(rungs[run.rung - 1].r) if run.rung > 0 else self._typed(0)
        return Suggestion(config={**config, self.resource.name: budget}, config_id=cid, budget=budget,
                          previous_budget=previous, bracket=run.bracket.s, rung=run.rung,
                          info={"iteration": run.iteration, "k": run.k})

    def _draw_bracket(self) -> Bracket:
        """A bracket drawn with weights from each first-rung budget's rank agreement with R.

        Weight of bracket s: the Kendall tau (clipped at 0) between the losses at
        its first rung's budget and at R (for several objectives: between non-dominated
        ranks), over configurations told at both; 1
        for a bracket that starts at R, and for one whose budget has fewer than
        five such pairs yet. Low budgets that rank configurations as R does keep
        Hyperband's exploration; misleading ones hand their resource to the
        less aggressive brackets. The draw uses a generator seeded by the run's
        seed and the bracket's position, so a replay draws the same.
        """
        top = self._typed(self.max_resource)
        weights = []
        for b in self.brackets:
            r0 = self._typed(b.rungs[0].r)
            pairs = comparable([(res[r0], res[top]) for res in self._results.values()
                                 if r0 in res and top in res])
            trusted = r0 == top or len(pairs) < MIN_PAIRS
            weights.append(1.0 if trusted else max(rank_agreement(pairs), 0.0))
        self.weights = weights
        p = np.array(weights) / sum(weights)
        rng = np.random.default_rng([mix_seed(self.seed or 0, 7), self._next])
        return self.brackets[int(rng.choice(len(self.brackets), p=p))]
