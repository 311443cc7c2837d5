"""Warm start from earlier runs (``hps run --warm-from RUN_DIR``): read them, check them, store them.

The finished (``done``) evaluations of earlier runs go to the new run's
scheduler as observations before its first ask
(:meth:`~hpsearch.search.schedulers.base.Scheduler.warm_start`): a model
searcher fits on them, ``random`` ignores them, a multi-fidelity scheduler files
each under the budget it was evaluated at. They are not evaluations of the new
run: no trial row, no ``results.csv`` row, nothing counted against
``--max-evals`` or any other limit.

An earlier run must be on a compatible space: the same objective (its direction
may differ: the raw objective is stored, and each value becomes a loss in the
new run's direction) and the same dimension names, kinds and conditions. Values
outside the new run's space (a narrowed range, fewer choices, a ``--fix`` pin, a
forbidden combination) are left out and counted; anything else is refused with
one line naming the dimension, before the new run's directory is created.

The evaluations themselves are stored in the new run's store with the settings
(:meth:`RunStore.create <hpsearch.store.RunStore.create>`), with where each came
from; the engine gives the stored ones to the scheduler before it replays or
asks anything, so a resume starts from exactly what the uninterrupted run
started from, whatever became of the earlier runs since.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..problem.dimensions import SpaceError, same_value
from ..problem.objective import MissingObjective, objectives_of, values_of
from ..problem.space import HpProblem
from ..search import Scheduler
from ..search.base import Observation
from ..search.searchers.base import best_of
from ..store import RunStore, StoreError
from ..trial import Status, finite_number

__all__ = ["WarmFromError", "WarmStart", "read_runs", "check_compatible", "observations", "give_stored",
           "sources_line"]

#: what a refusal says after the reason.
_RULE = "warm start needs the same objective and the same dimension names and kinds"


class WarmFromError(UsageError):
    """An earlier run cannot warm-start this one (a usage error; one line naming what differs)."""


@dataclass
class WarmStart:
    """The evaluations read from earlier runs, as stored in the new run (see :meth:`RunStore.warm_start`).

    Attributes:
        sources: one dict per earlier run: ``run_dir`` (as given), ``path``, ``algo``, ``seed``,
            ``done`` (its finished evaluations read) and ``outside`` (how many of those were left out).
        evaluations: the kept ones: ``source``, ``trial_id``, ``params``, ``budget``, ``objective``.
    """

    sources: list[dict] = field(default_factory=list)
    evaluations: list[dict] = field(default_factory=list)

    @property
    def outside(self) -> int:
        """Evaluations left out: their values are outside the new run's space."""
        return sum(s["outside"] for s in self.sources)

    def to_meta(self) -> dict:
        return {"sources": self.sources, "evaluations": self.evaluations}

    def observations(self, problem: HpProblem) -> list[Observation]:
        return observations(self.to_meta(), problem)

    def note(self, scheduler: Scheduler) -> str:
        """The one line said before the run: how many evaluations the searcher gets, and how many not."""
        where = ", ".join(s["run_dir"] for s in self.sources)
        n = len(self.evaluations)
        searcher = scheduler.searcher
        if not searcher.model_based:
            return (f"warm start: the {searcher.name} searcher learns nothing from earlier evaluations; "
                    f"the {n} read from {where} are recorded with the run but not used")
        used = len(scheduler.usable(self.observations(scheduler.problem)))
        parts = [f"warm start: {used} evaluations from {where} given to the {searcher.name} searcher before "
                 "its first ask (not counted as this run's evaluations)"]
        if self.outside:
            parts.append(f"{self.outside} left out: values outside this run's space")
        if n > used:
            ladder = ", ".join(f"{b:g}" for b in scheduler.rung_budgets() or [])
            parts.append(f"{n - used} left out: budgets {scheduler.name} does not run (it runs {ladder})")
        return "; ".join(parts)

    def first_asks(self, scheduler: Scheduler) -> str | None:
        """The line said after :meth:`note`: what the warm-started searcher proposes first (None for
        ``random``, which proposes what a cold run does)."""
        searcher = scheduler.searcher
        if not searcher.model_based:
            return None
        usable = scheduler.usable(self.observations(scheduler.problem))
        first, more = scheduler.warm_incumbents(usable)
        ranked = best_of([(o.config, o.budget, o.loss) for o in usable], first + more)
        k, more = min(first, len(ranked)), max(len(ranked) - first, 0)
        noisy = f", up to {k + more} if the objective shows noise" if more else ""
        line = (f"first asks: the {k} best earlier configuration{'s' if k != 1 else ''}{noisy} (evaluated "
                f"again), then the {searcher.name} model's choices" if k else
                f"first asks: the {searcher.name} model's choices")
        full_first = getattr(scheduler, "full_bracket_first", None)
        if usable and full_first is not None and full_first(usable):
            line += f"; {scheduler.name} runs its full-budget bracket first"
        return line


def check_compatible(shown: str, before: dict, now: dict) -> None:
    """Refuse an earlier run's space ``before`` unless it matches ``now`` (both ``HpProblem.to_dict()``).

    Raises:
        WarmFromError: one line naming the objective or the first dimension that differs.
    """
    if not isinstance(before, dict) or not isinstance(before.get("dims"), list):
        raise WarmFromError(f"--warm-from {shown}: its settings hold no search space (a damaged run store)")
    if objectives_of(before) != objectives_of(now) and len(objectives_of(now)) > 1:
        shown_now = ", ".join(f"{n} ({d})" for n, d in objectives_of(now).items())
        shown_before = ", ".join(f"{n} ({d})" for n, d in objectives_of(before).items())
        raise WarmFromError(f"--warm-from {shown}: its objectives are {shown_before}, this run's are "
                            f"{shown_now}; {_RULE}")
    if before.get("objective") != now["objective"]:
        raise WarmFromError(f"--warm-from {shown}: its objective is {before.get('objective')!r}, this run's "
                            f"is {now['objective']!r}; {_RULE}")
    old = {d["name"]: d for d in before["dims"]}
    new = {d["name"]: d for d in now["dims"]}
    for name in new:
        if name not in old:
            raise WarmFromError(f"--warm-from {shown}: dimension {name!r} is not in that run's space "
                                f"(it has {', '.join(old)}); {_RULE}")
    for name in old:
        if name not in new:
            raise WarmFromError(f"--warm-from {shown}: dimension {name!r} of that run is not in this "
                                f"problem's space (it has {', '.join(new)}); {_RULE}")
    for name, d in new.items():
        if old[name].get("kind") != d["kind"]:
            raise WarmFromError(f"--warm-from {shown}: dimension {name!r} is {old[name].get('kind')} there "
                                f"and {d['kind']} here; {_RULE}")
        if (old[name].get("when") or {}) != (d.get("when") or {}):
            raise WarmFromError(f"--warm-from {shown}: dimension {name!r} has another condition there "
                                f"(when {old[name].get('when')}, here when {d.get('when')}); {_RULE}")


def read_runs(run_dirs: Sequence[str], space: dict, problem: HpProblem) -> WarmStart:
    """The finished evaluations of earlier runs that fit the new run's space, each run read-only.

    Args:
        run_dirs: the earlier runs' directories, as given.
        space: the new problem's ``to_dict()`` (without ``--fix`` pins), compared with each run's.
        problem: the new run's problem with its pins: values outside it are left out.

    Raises:
        WarmFromError: a directory that is not a readable run, given twice, or on an incompatible space.
    """
    warm = WarmStart()
    seen: dict[Path, str] = {}
    for shown in run_dirs:
        path = Path(shown).resolve()
        if path in seen:
            raise WarmFromError(f"--warm-from {shown}: given twice (also as {seen[path]})")
        seen[path] = str(shown)
        try:
            with RunStore.open(shown, readonly=True) as store:
                check_compatible(str(shown), store.settings.get("space"), space)
                done = [t for t in store.trials(finished_only=True, order="tell_seq")
                        if t.status == Status.DONE and finite_number(t.objective) is not None]
                settings = store.settings
        except StoreError as exc:
            raise WarmFromError(f"--warm-from: {exc}") from None
        index, outside = len(warm.sources), 0
        for t in done:
            params = _inside(problem, t.params)
            if params is None:
                outside += 1
                continue
            entry = {"source": index, "trial_id": t.trial_id, "params": params, "budget": t.budget,
                     "objective": float(t.objective)}
            if problem.multi_objective:  # every objective's value, as run() returned it
                try:
                    problem.to_losses(values_of(problem.objective, t.objective, t.metrics))
                except MissingObjective:
                    outside += 1
                    continue
                entry["values"] = {n: float(values_of(problem.objective, t.objective, t.metrics)[n])
                                   for n in problem.objectives}
            warm.evaluations.append(entry)
        warm.sources.append({"run_dir": str(shown), "path": str(path), "algo": settings.get("algo"),
                             "searcher": settings.get("searcher"), "seed": settings.get("seed"),
                             "done": len(done), "outside": outside})
    return warm


def _inside(problem: HpProblem, params: dict) -> dict | None:
    """``params`` as the new problem types them, or None when a value is outside its space or its pins."""
    try:
        checked = problem.check(params)
    except SpaceError:
        return None
    if any(name in checked and not same_value(checked[name], value) for name, value in problem.fixed.items()):
        return None
    return checked


def observations(stored: dict | None, problem: HpProblem) -> list[Observation]:
    """Stored warm-start evaluations (:meth:`RunStore.warm_start`) as observations in ``problem``'s
    direction (each raw objective becomes a loss here, so an earlier run may have had the other one)."""
    if not stored:
        return []
    if problem.multi_objective:  # the tuple of every objective's loss (to_losses form)
        return [Observation(dict(e["params"]), e["budget"], problem.to_losses(e["values"]))
                for e in stored.get("evaluations", []) if "values" in e]
    return [Observation(dict(e["params"]), e["budget"], problem.to_loss(float(e["objective"])))
            for e in stored.get("evaluations", [])]


def give_stored(store: RunStore, scheduler: Scheduler, problem: HpProblem) -> int:
    """Give the scheduler the warm start stored in the run (before its first ask); return how many
    evaluations the searcher learned from (0 without a warm start)."""
    warm = observations(store.warm_start(), problem)
    return scheduler.warm_start(warm) if warm else 0


def sources_line(stored: dict | None) -> str | None:
    """``warm start: 48 evaluations from runs/a, runs/b ...`` for views of a run, or None."""
    if not stored or not stored.get("sources"):
        return None
    where = ", ".join(str(s.get("run_dir")) for s in stored["sources"])
    n = len(stored.get("evaluations", []))
    return (f"warm start: {n} evaluations of {where} (observations before the first ask, "
            "not this run's evaluations)")
