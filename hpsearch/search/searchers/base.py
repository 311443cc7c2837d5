"""The searcher interface: which configuration to evaluate next.

A searcher proposes configurations and learns from ``(config, budget, loss)``
observations; it knows nothing of rungs, brackets or promotions (a scheduler
owns those). The problem's starting points come first, once, for every
searcher: that rule lives here and nowhere else.

Pending configurations (suggested, not yet observed at any budget) are kept in
:attr:`Searcher.pending`, so a model-based searcher can account for work in
flight when a batch is asked (e.g. with a constant liar).

Random exploration of model searchers (``random_fraction``, BOHB's 1/3 by
default under a multi-fidelity scheduler) is decided here too
(:meth:`Searcher.draw_at_random`): a random draw is worth its cost when a low
rung screens it, so configurations that *start at the full budget* (a
scheduler says so with ``suggest(..., full_budget=True)``) always come from
the model; there a random draw would be plain random search at full price
(measured in ``tests/perf/bench_mf.py``).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from ...problem.space import HpProblem, SpaceError
from ..base import Observation, OptionError
from ..encoding import config_key
from ..options import Option, resolve
from ..prior import PRIOR_OPTION, PriorUse, prior_on
from .fidelities import FIDELITIES_OPTION

__all__ = ["Searcher", "PRIOR_OPTION", "FIDELITIES_OPTION", "RANDOM_FRACTION", "RANDOM_FRACTION_OPTION",
           "WARM_INCUMBENTS",
           "WARM_INCUMBENTS_OPTION", "best_of", "model_budget", "NOT_READY", "Taken"]

#: the random fraction of proposals under a multi-fidelity scheduler (BOHB's 1/3).
RANDOM_FRACTION = 1 / 3

#: shared by every model searcher.
RANDOM_FRACTION_OPTION = Option(
    "random_fraction", float, None,
    "Model searchers: the fraction of proposals drawn at random (default 1/3 under hyperband or asha, "
    "0 under fifo); configurations that start at the full budget always come from the model.",
    least=0.0, most=1.0)

#: how many of the earlier runs' best configurations a warm-started model searcher evaluates again
#: when ``warm_incumbents`` is not given and the scheduler has no rule of its own.
WARM_INCUMBENTS = 3

#: shared by every model searcher.
WARM_INCUMBENTS_OPTION = Option(
    "warm_incumbents", int, None,
    "Model searchers warm-started from earlier runs (--warm-from): how many of their best configurations "
    "(at the largest budget they were evaluated at) are evaluated again first, before the model's own "
    "choices (default 3, and under hyperband, when it runs its full-budget bracket first, the rest of that "
    "bracket while the objective shows noise: a configuration evaluated twice gave two values); 0: none.",
    least=0)


class Searcher:
    """Base class: subclasses implement :meth:`_propose` (and usually :meth:`_learn`).

    Args:
        problem: the space the searcher chooses in (a multi-fidelity scheduler
            pins its resource, so the searcher never chooses it).
        seed: the run's seed.
        multi_fidelity: True when the scheduler observes several budgets.
        **options: the searcher's own options (see ``OPTIONS``).
    """

    #: the ``--searcher`` name.
    name: ClassVar[str] = "searcher"
    #: the options it takes.
    OPTIONS: ClassVar[tuple[Option, ...]] = ()
    #: True if it learns from observations (False: random).
    model_based: ClassVar[bool] = False
    #: scheduler names it can serve (None: all).
    serves: ClassVar[tuple[str, ...] | None] = None
    #: ``--prior`` when not given, under fifo and under a multi-fidelity scheduler (the measured
    #: choices, see :mod:`hpsearch.search.prior` and ``tests/perf/bench_prior.py``).
    PRIOR_DEFAULT: ClassVar[tuple[str, str]] = ("none", "none")

    def __init__(self, problem: HpProblem, seed: int | None, multi_fidelity: bool = False,
                 **options: Any):
        self.options = resolve(self.OPTIONS, options, f"--searcher {self.name}")
        self.problem = problem
        self.seed = seed
        self.multi_fidelity = multi_fidelity
        self.rng = np.random.default_rng(seed)
        self.stream_rng = self.rng  # what random draws of the current suggest() use
        self._streams: dict[tuple, np.random.Generator] = {}
        self.pending: dict[str, dict] = {}  # key -> config: suggested, not observed yet
        self._starts = list(problem.starting_points)
        self._queued: list[dict] = []  # enqueued configurations: before the starting points
        self.incumbents: list[dict] = []  # earlier runs' best, to evaluate again (set by warm_start)
        self.more_incumbents: list[dict] = []  # the next best, evaluated again only on a noisy objective
        self.noisy = False  # a configuration evaluated twice at one budget gave two values
        self._values: dict[tuple, Any] = {}  # (config key, budget) -> its first value (after a warm start)
        frac = self.options.get("random_fraction")  # None: not given, or not an option of this searcher
        if frac is None:
            declared = any(o.name == "random_fraction" for o in self.OPTIONS)
            frac = RANDOM_FRACTION if declared and multi_fidelity else 0.0
        self.random_fraction = frac
        declared_prior = any(o is PRIOR_OPTION for o in self.OPTIONS)
        default_prior = self.PRIOR_DEFAULT[bool(multi_fidelity)]
        use_prior = declared_prior and prior_on(self.options.get("prior"), default_prior)
        if use_prior and problem.multi_objective:
            raise OptionError(f"--searcher {self.name}: --prior default is for one objective (its evidence "
                              "ranks single losses); a multi-objective problem takes --prior none")
        #: the prior in use (None: ``--prior none``), see :mod:`hpsearch.search.prior`.
        self.prior: PriorUse | None = PriorUse(problem) if use_prior else None
        self.full_budget = False  # the current suggest()'s configurations start at the full budget
        #: ``--fidelities all`` under a multi-fidelity scheduler: the model learns from every budget
        #: (see :mod:`.fidelities`).
        self.pooled = bool(multi_fidelity and self.options.get("fidelities") == "all")

    def suggest(self, n: int = 1, stream: tuple[int, ...] | None = None,
                full_budget: bool = False) -> list[dict]:
        """``n`` configurations: enqueued ones, the earlier runs' incumbents (after a warm start) and the
        starting points first (once), then :meth:`_propose`.

        Each is registered as pending before the next is chosen, so a batch is
        spread out by a searcher that models pending work. ``stream`` names a
        random stream of its own (Hyperband passes its iteration and bracket),
        so that the random draws of one bracket do not depend on the others.
        ``full_budget``: a multi-fidelity scheduler will run these at its full
        budget first (no low rung screens them; see :meth:`draw_at_random`).
        """
        out = []
        self.full_budget = bool(full_budget and self.multi_fidelity)
        self.stream_rng = self.rng if stream is None else self._streams.setdefault(
            stream, np.random.default_rng([self.seed or 0, *stream]))
        self._begin()
        for _ in range(n):
            if self._queued:
                config = self._queued.pop(0)
            elif self.incumbents:
                config = self.incumbents.pop(0)
            elif self.more_incumbents and self.noisy:
                config = self.more_incumbents.pop(0)
            else:
                self.more_incumbents = []  # no noise seen by now: the model's choices from here on
                config = self._starts.pop(0) if self._starts else self._propose()
            config = self.problem.check(config)
            self.pending[config_key(config)] = config
            out.append(config)
        return out

    def enqueue(self, values: dict) -> dict:
        """Propose the configuration ``values`` describe next, before the starting points and the
        searcher's own choices (after configurations enqueued earlier); return it.

        Missing active dimensions take their default, pinned ones their pinned value.

        Raises:
            SpaceError: a name that is not a dimension, or a value its dimension refuses.
        """
        unknown = [k for k in values if k not in self.problem]
        if unknown:
            raise SpaceError(f"enqueue: no dimension {unknown[0]!r} "
                             f"(dimensions: {', '.join(self.problem.names)})")
        try:
            config = self.problem.check(self.problem.complete(values))
        except SpaceError as exc:
            raise SpaceError(f"enqueue: {exc}") from None
        self._queued.append(config)
        return config

    def observe(self, config: dict, budget: Any, loss: float | tuple[float, ...] | None) -> None:
        """Learn that ``config`` at ``budget`` scored ``loss`` (a tuple for several objectives; None: it
        failed or timed out)."""
        self.pending.pop(config_key(config), None)
        if self.more_incumbents:
            self._compare(config, budget, loss)
        if self.prior is not None:
            self.prior.observe(config, budget, loss)
        self._learn(config, budget, loss)

    def warm_start(self, observations: Iterable[Observation], incumbents: int | None = None,
                   more_if_noisy: int = 0) -> int:
        """Learn from evaluations of earlier runs before the first :meth:`suggest`; return how many.

        A searcher without a model (``random``) ignores them and returns 0, so its
        suggestions are those of a cold run. A model searcher learns each one
        as an observation at its budget, and a starting point already among
        them is not suggested again. Its first suggestions are then the
        ``warm_incumbents`` best of them (:attr:`incumbents`: at the largest
        budget among them, the best loss first, earlier ones first on ties),
        evaluated again in this run, before the model's own choices. Nothing
        random is drawn, so the same observations give the same suggestions (a
        resume replays them).

        ``incumbents``: how many when ``warm_incumbents`` is not given (the
        scheduler's rule, see :meth:`Scheduler.warm_incumbents
        <hpsearch.search.schedulers.base.Scheduler.warm_incumbents>`; None: :data:`WARM_INCUMBENTS`).
        ``more_if_noisy``: how many of the next best follow them (:attr:`more_incumbents`),
        each only if by its turn the objective has shown noise (:attr:`noisy`: a configuration
        evaluated twice at one budget, in the earlier runs or again in this one, gave two values);
        at the first turn without noise they are dropped and the model chooses.
        """
        if not self.model_based:
            return 0
        learned = []
        for o in observations:
            config = self.problem.check(o.config)
            if self.prior is not None:
                self.prior.observe(config, o.budget, o.loss)
            self._learn(config, o.budget, o.loss)
            learned.append((config, o.budget, o.loss))
        seen = {config_key(c) for c, _, _ in learned}
        self._starts = [p for p in self._starts if config_key(p) not in seen]
        ranked = best_of(learned, self.warm_incumbents(incumbents) + max(more_if_noisy, 0))
        k = self.warm_incumbents(incumbents)
        self.incumbents, self.more_incumbents = ranked[:k], ranked[k:]
        if self.more_incumbents:
            for c, b, loss in learned:
                self._compare(c, b, loss)
        self._warmed([c for c, _, _ in learned])
        return len(learned)

    def warm_incumbents(self, default: int | None = None) -> int:
        """How many earlier best configurations a warm start evaluates again: ``warm_incumbents`` when
        given, else ``default`` (None: :data:`WARM_INCUMBENTS`); 0 for a searcher without a model."""
        if not self.model_based:
            return 0
        given = self.options.get("warm_incumbents")
        return int(given if given is not None else WARM_INCUMBENTS if default is None else default)

    def _compare(self, config: dict, budget: Any, loss: Any) -> None:
        """Remember the first value of ``config`` at ``budget``; a second, different one: noisy."""
        if loss is None:
            return
        key = (config_key(config), None if budget is None else float(budget))
        first = self._values.setdefault(key, loss)
        if not _same_loss(first, loss):
            self.noisy = True

    # -- for subclasses ----------------------------------------------------------------
    def results_needed(self) -> int | None:
        """Successful results at one budget before the model proposes (None: no model, or one that
        learns from every budget, ``--fidelities all``)."""
        return None

    def draw_at_random(self) -> bool:
        """Whether this proposal of a model searcher is a random draw rather than the model's.

        A ``random_fraction`` of proposals, except those that start at the full
        budget of a multi-fidelity scheduler (see the module docstring).
        """
        if self.random_fraction <= 0 or self.full_budget:
            return False
        return bool(self.rng.random() < self.random_fraction)

    def random_draw(self, rng: np.random.Generator, taken: Any = ()) -> dict:
        """A random proposal: the problem's sampler, or with the prior on, the prior's mixture of
        prior, incumbent-local and sampler draws (:meth:`hpsearch.search.prior.Prior.random_draw`)."""
        if self.prior is None:
            return self.problem.sample(rng)
        return self.prior.random_draw(rng, taken)

    def _begin(self) -> None:
        """Called once per :meth:`suggest` (e.g. to fit a model once per batch)."""

    def _propose(self) -> dict:
        """One new configuration (a full dict over the searcher's problem)."""
        raise NotImplementedError

    def _learn(self, config: dict, budget: Any, loss: float | tuple[float, ...] | None) -> None:
        """Record an observation (model-based searchers)."""

    def _warmed(self, configs: list[dict]) -> None:
        """Called once by :meth:`warm_start` with the configurations it learned from."""


# -- shared by the model searchers -------------------------------------------------------
def best_of(observed: list[tuple[dict, Any, float | None]], k: int) -> list[dict]:
    """The ``k`` best distinct configurations of ``(config, budget, loss)`` at the largest budget that
    has a finite loss (None: the one fidelity of fifo), best first, earlier first on ties.

    >>> obs = [({"x": 1}, 3, 0.5), ({"x": 2}, 9, 0.7), ({"x": 3}, 9, 0.2), ({"x": 3}, 9, 0.3)]
    >>> best_of(obs, 3)
    [{'x': 3}, {'x': 2}]
    """
    ok = [(c, b, loss) for c, b, loss in observed if loss is not None and math.isfinite(loss)]
    if k <= 0 or not ok:
        return []
    top = max((b for _, b, _ in ok), key=lambda b: math.inf if b is None else float(b))
    ranked = sorted((loss, i, c) for i, (c, b, loss) in enumerate(ok) if b == top)
    out, keys = [], set()
    for _, _, c in ranked:
        if config_key(c) not in keys and len(out) < k:
            keys.add(config_key(c))
            out.append(c)
    return out


def _same_loss(a: float | tuple, b: float | tuple) -> bool:
    """Two losses equal up to rounding (tuples: every member).

    >>> _same_loss(0.5, 0.5 + 1e-15), _same_loss((0.5, 1.0), (0.5, 1.1))
    (True, False)
    """
    a_, b_ = (a, b) if isinstance(a, tuple) else ((a,), (b,))
    return len(a_) == len(b_) and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a_, b_))


#: what :func:`model_budget` returns when no budget has enough observations.
NOT_READY = object()


def model_budget(observations: dict[Any, tuple[list, list]], least: int) -> Any:
    """The largest budget with at least ``least`` successful observations, or :data:`NOT_READY`.

    ``observations`` maps a budget (None under fifo: the full budget; a pruned
    trial is filed under the step it reached) to ``(points, losses)``, a loss
    None for a failure.
    """
    ready = [b for b, (_x, y) in observations.items() if sum(v is not None for v in y) >= least]
    if not ready:
        return NOT_READY
    return max(ready, key=lambda b: math.inf if b is None else float(b))


class Taken:
    """Configuration keys already asked or pending (a view of both, for
    :meth:`~hpsearch.search.encoding.EncodedSpace.first_new`)."""

    def __init__(self, *sets: Any):
        self.sets = sets

    def __contains__(self, key: object) -> bool:
        return any(key in s for s in self.sets)
