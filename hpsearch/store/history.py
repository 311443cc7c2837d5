"""The history of a run: counts by status, the incumbent, the best-so-far curve and the resource spent.

This is the one place these figures are computed; the run's summary (``hps run``
and ``hps resume``), ``hps results``, ``hps plot``, ``hps compare`` and the
dashboard all read them from here, so they agree. The rules:

* Finished evaluations are taken in completion order (``tell_seq``).
* Counts are by :class:`~hpsearch.trial.Status`, every status present (0 when none):
  ``stopped`` (pruned, or ended by ``--stop-when``) is apart from ``failed``.
* An evaluation is charged the resource it trained
  (:attr:`StoredTrial.resource_used <hpsearch.store.StoredTrial.resource_used>`:
  ``budget - previous_budget``, only up to ``step_reached`` for a stopped one).
* The incumbent is the best ``done`` evaluation by :func:`~hpsearch.problem.objective.rank_key`:
  in a multi-fidelity run a larger budget ranks first, then the objective.
* The first error is that of the first ``failed`` or ``timeout`` evaluation.
* A multi-objective run has no incumbent: its result is the Pareto front
  (:mod:`~hpsearch.store.front`: ``done`` evaluations, at the full budget in a
  multi-fidelity run), ranked by :func:`~hpsearch.problem.pareto.order`. Its
  hypervolume is measured against the declared reference point, else the nadir
  of the evaluations that count (:func:`~hpsearch.problem.pareto.reference_point`);
  :attr:`RunHistory.hypervolumes` holds the hypervolume after each point.

:class:`Tally` adds one finished evaluation at a time (the engine counts a live
run with it); :class:`RunHistory` is the immutable value built from a store.

Example:
    >>> import tempfile
    >>> from types import SimpleNamespace as Sub
    >>> from hpsearch.store import RunStore
    >>> from hpsearch.trial import TrialResult
    >>> store = RunStore.create(tempfile.mkdtemp() + "/run", {"space": {"direction": "minimize"}}, ["x"])
    >>> store.add_trials([0, 1, 2], [Sub(config={"x": x}, config_id=i, budget=None, previous_budget=None,
    ...                                  bracket=None, rung=None, info={}) for i, x in enumerate((1, 2, 3))],
    ...                  ask_seq=0, ask_n=3)
    >>> _ = store.finish_trial(TrialResult(1, "done", objective=0.5, duration_s=2.0), tell_seq=1)
    >>> _ = store.finish_trial(TrialResult(0, "failed", error="boom", duration_s=1.0), tell_seq=2)
    >>> h = RunHistory.from_store(store)
    >>> h.counts["done"], h.counts["failed"], h.counts["running"], h.incumbent.trial_id
    (1, 1, 1, 1)
    >>> [(p.evaluations, p.best) for p in h.points], h.first_error
    ([(1, 0.5), (2, 0.5)], 'trial 0: boom')
    >>> store.close()
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from ..problem import pareto
from ..problem.objective import rank_key, to_loss, to_losses
from ..trial import FINISHED, Status
from .front import Front, counts_for_front, trial_losses
from .runstore import RunStore

__all__ = ["RunHistory", "Tally", "Point", "STATUSES", "X_AXES"]

#: What the x axis of a best-so-far curve may be (``hps plot --x-axis``, ``hps compare --x-axis``): the
#: budget spent (evaluations, resource), or when each evaluation ended in virtual time (the simulated
#: evaluator's clock, :meth:`RunHistory.virtual_times`).
X_AXES = ("budget", "virtual-time")

#: Every status an evaluation can have, in the order counts are listed.
STATUSES = tuple(s.value for s in (Status.DONE, Status.FAILED, Status.TIMEOUT, Status.STOPPED,
                                   Status.RUNNING, Status.INTERRUPTED))


_STATUS = {s.value: s for s in Status}  # a status value (or a Status) -> the Status, without Enum lookup
_FINISHED = frozenset(FINISHED)
_DONE, _FAILED, _TIMEOUT = Status.DONE, Status.FAILED, Status.TIMEOUT


def _succeeded(t: Any) -> bool:
    return t.status == _DONE and t.objective is not None


class Tally:
    """The figures of a history, one finished evaluation at a time (in completion order).

    Trials are :class:`~hpsearch.store.StoredTrial` or anything with the same
    attributes (``trial_id``, ``status``, ``objective``, ``budget``, ``duration_s``,
    ``error``, ``resource_used``).

    >>> from types import SimpleNamespace as T
    >>> tally = Tally("minimize")
    >>> tally.add(T(trial_id=0, status="done", objective=2.0, budget=None, duration_s=1.0, error=None,
    ...             resource_used=0.0))
    True
    >>> tally.counts["done"], tally.incumbent.objective
    (1, 2.0)
    """

    def __init__(self, direction: str = "maximize", multi_fidelity: bool = False,
                 objectives: Mapping[str, str] | None = None, full_budget: float | None = None):
        self.rank_key = rank_key(direction, multi_fidelity)
        #: a multi-objective run's Pareto front so far (None for one objective): it has no incumbent
        self.front: Front | None = None
        if objectives is not None and len(objectives) > 1:
            self.front = Front(objectives, full_budget if multi_fidelity else None)
        #: finished evaluations by status (the finished statuses only)
        self.counts: dict[str, int] = {s.value: 0 for s in FINISHED}
        self.incumbent: Any = None
        self.resource_spent = 0.0
        self.seconds = 0.0  # inside evaluations
        self.first_error: str | None = None

    @property
    def n_finished(self) -> int:
        return sum(self.counts.values())

    @property
    def pareto_front(self) -> list | None:
        """A multi-objective run's front so far, in the order its evaluations joined; None for one
        objective."""
        return None if self.front is None else list(self.front.trials.values())

    def add(self, t: Any) -> bool:
        """Count one finished evaluation; True when it became the incumbent."""
        status = _STATUS[t.status]
        if status not in _FINISHED:
            raise ValueError(f"Tally.add: trial {t.trial_id} is {status}, not finished")
        self.counts[status.value] += 1
        self.resource_spent += t.resource_used
        self.seconds += t.duration_s or 0.0
        if (status is _FAILED or status is _TIMEOUT) and self.first_error is None:
            self.first_error = f"trial {t.trial_id}: {t.error or status.value}"
        if self.front is not None:
            self.front.add(t)
            return t.trial_id in self.front.members
        if status is _DONE and t.objective is not None and (
                self.incumbent is None or self.rank_key(t) < self.rank_key(self.incumbent)):
            self.incumbent = t
            return True
        return False


class Point(NamedTuple):
    """The history just after one more finished evaluation."""

    trial_id: int
    status: str
    evaluations: int  # finished so far, this one included
    resource: float  # resource spent so far (what the evaluations trained)
    seconds: float  # time spent inside evaluations so far
    objective: float | None  # this evaluation's objective when it succeeded (``done``), else None
    best: float | None  # the incumbent's objective, None before the first success
    best_id: int | None  # the incumbent's trial_id


@dataclass(frozen=True)
class RunHistory:
    """A run's figures at one moment: build it with :meth:`from_store` or :meth:`from_trials`.

    Attributes:
        direction: ``maximize`` or ``minimize``.
        multi_fidelity: a larger budget ranks first.
        optimum: the known optimum, or None.
        finished: finished evaluations in completion order.
        unfinished: evaluations running or interrupted.
        points: one :class:`Point` per finished evaluation, aligned with ``finished``.
        counts: evaluations by status value, every status (see :data:`STATUSES`).
        incumbent: the best successful evaluation, or None.
        resource_spent: the resource all finished evaluations trained.
        first_error: ``trial N: error`` of the first failed or timed-out evaluation, or None.
        objectives: name -> direction, every objective (one for a single-objective run).
        front: a multi-objective run's Pareto front, best first (:func:`~hpsearch.problem.pareto.order`);
            empty for one objective.
        losses: trial_id -> losses of each evaluation the front is taken from (multi-objective).
        reference: the reference point of the hypervolume, in loss form (multi-objective; None
            before any evaluation counts).
        reference_declared: the problem declared it (else it is the nadir of :attr:`losses`).
        hypervolume_optimum: the declared hypervolume of the true front, or None.
        hypervolumes: the hypervolume against :attr:`reference` after each point (multi-objective;
            empty otherwise).
    """

    direction: str
    multi_fidelity: bool
    optimum: float | None
    finished: tuple
    unfinished: tuple
    points: tuple[Point, ...]
    counts: Mapping[str, int]
    incumbent: Any
    resource_spent: float
    first_error: str | None
    objectives: Mapping[str, str] = field(default_factory=dict)
    front: tuple = ()
    losses: Mapping[int, tuple] = field(default_factory=dict)
    reference: tuple | None = None
    reference_declared: bool = False
    hypervolume_optimum: float | None = None
    hypervolumes: tuple = ()

    @classmethod
    def from_store(cls, store: RunStore) -> RunHistory:
        """The history of the run in ``store`` (read now; the store may be read-only)."""
        ref = store.reference_point
        return cls.from_trials(store.trials(order="tell_seq"), store.direction, store.multi_fidelity,
                               store.optimum, objectives=store.objectives, full_budget=store.max_resource,
                               reference_point=ref, hypervolume_optimum=store.hypervolume_optimum)

    @classmethod
    def from_trials(cls, trials: Iterable[Any], direction: str = "maximize", multi_fidelity: bool = False,
                    optimum: float | None = None, objectives: Mapping[str, str] | None = None,
                    full_budget: float | None = None, reference_point: Mapping[str, float] | None = None,
                    hypervolume_optimum: float | None = None) -> RunHistory:
        """The history of ``trials`` given in completion order (unfinished ones are only counted).

        For a multi-objective run give ``objectives`` (name -> direction), and ``full_budget`` (the
        run's ``max_resource``) for a multi-fidelity one; ``reference_point`` is the declared one
        (objective -> value), else the nadir of the evaluations that count is taken.
        """
        objectives = dict(objectives) if objectives else {"objective": direction}
        multi = len(objectives) > 1
        tally = Tally(direction, multi_fidelity, objectives, full_budget)
        finished, unfinished, points = [], [], []
        losses: dict[int, tuple] = {}
        for t in trials:
            status = _STATUS[t.status]
            if status not in _FINISHED:
                unfinished.append(t)
                continue
            tally.add(t)
            finished.append(t)
            if multi and counts_for_front(t, full_budget if multi_fidelity else None):
                lo = trial_losses(objectives, t)
                if lo is not None:
                    losses[t.trial_id] = lo
            best = tally.incumbent
            points.append(Point(t.trial_id, status.value, len(finished), tally.resource_spent, tally.seconds,
                                t.objective if status is _DONE else None,
                                None if best is None else best.objective,
                                None if best is None else best.trial_id))
        counts = {s: 0 for s in STATUSES}
        counts.update(tally.counts)
        for t in unfinished:
            counts[_STATUS[t.status].value] += 1
        front: tuple = ()
        reference, curve = None, []
        if multi:
            members = tally.front.trials
            ids = list(members)
            front = tuple(members[ids[i]] for i in pareto.order([tally.front.members[i] for i in ids]))
            if reference_point is not None:
                reference = to_losses(objectives, reference_point)
            elif losses:
                reference = pareto.reference_point(list(losses.values()))
            if reference is not None:
                curve = pareto.hypervolume_curve([losses.get(p.trial_id) for p in points], reference)
        return cls(direction, multi_fidelity, optimum, tuple(finished), tuple(unfinished), tuple(points),
                   MappingProxyType(counts), tally.incumbent, tally.resource_spent, tally.first_error,
                   MappingProxyType(objectives), front, MappingProxyType(losses), reference,
                   reference_point is not None, hypervolume_optimum, tuple(curve))

    # -- derived ---------------------------------------------------------------------------
    @property
    def n_finished(self) -> int:
        return len(self.finished)

    def present_counts(self) -> dict[str, int]:
        """Only the statuses that occur, with their counts (as :meth:`RunStore.counts` lists them)."""
        return {s: n for s, n in self.counts.items() if n}

    @property
    def has_budget(self) -> bool:
        """Every finished evaluation has a budget (else resource axes are seconds in evaluations)."""
        return bool(self.finished) and all(t.budget is not None for t in self.finished)

    @property
    def has_virtual_time(self) -> bool:
        """Every finished evaluation has a virtual end (the run used the simulated evaluator)."""
        return bool(self.finished) and all(getattr(t, "virtual_end", None) is not None for t in self.finished)

    def virtual_times(self) -> list[float]:
        """The x of each point on a virtual-time axis: when the evaluation ended on the simulated
        evaluator's clock (results arrive in that order); raises ValueError without virtual times."""
        if not self.has_virtual_time:
            raise ValueError("this run has no virtual times (they come from --evaluator simulated)")
        return [float(t.virtual_end) for t in self.finished]

    def spent(self) -> list[float]:
        """The x of each point on a resource axis: resource spent, or seconds without a budget."""
        if self.has_budget:
            return [p.resource for p in self.points]
        return [p.seconds for p in self.points]

    def best_so_far(self, by_resource: bool = False, by_virtual_time: bool = False
                    ) -> tuple[list[float], list[float], list[float], list[float]]:
        """``(x, best, dot_x, dot_y)``: the incumbent's objective at each x from the first success on,
        and each successful evaluation's objective at its x; x is the evaluation count, or with
        ``by_resource`` what :meth:`spent` gives, or with ``by_virtual_time`` :meth:`virtual_times`."""
        if by_virtual_time:
            xs = self.virtual_times()
        else:
            xs = self.spent() if by_resource else [float(p.evaluations) for p in self.points]
        x_best, best, dot_x, dot_y = [], [], [], []
        for x, p in zip(xs, self.points):
            if p.objective is not None:
                dot_x.append(x)
                dot_y.append(p.objective)
            if p.best is not None:
                x_best.append(x)
                best.append(p.best)
        return x_best, best, dot_x, dot_y

    # -- multi-objective ---------------------------------------------------------------
    @property
    def multi_objective(self) -> bool:
        """True for a run of a problem with two or more objectives."""
        return len(self.objectives) > 1

    @property
    def pareto_front(self) -> list | None:
        """The Pareto front best first (:attr:`front`); None for a single-objective run."""
        return list(self.front) if self.multi_objective else None

    @property
    def pareto_ids(self) -> frozenset[int]:
        """The trial_ids on the Pareto front (empty for a single-objective run)."""
        return frozenset(t.trial_id for t in self.front)

    def hypervolume(self, reference: tuple | None = None) -> float:
        """The front's hypervolume against ``reference`` (loss form; default :attr:`reference`)."""
        ref = self.reference if reference is None else reference
        if ref is None or not self.front:
            return 0.0
        return pareto.hypervolume([self.losses[t.trial_id] for t in self.front], ref)

    def hypervolume_curve(self, reference: tuple | None = None, by_resource: bool = False
                          ) -> tuple[list[float], list[float]]:
        """``(x, hypervolume)`` after each finished evaluation, against ``reference`` (loss form;
        default :attr:`reference`); x is the evaluation count, or with ``by_resource`` what
        :meth:`spent` gives. Empty without a reference (no evaluation counts yet)."""
        ref = self.reference if reference is None else reference
        if ref is None:
            return [], []
        xs = self.spent() if by_resource else [float(p.evaluations) for p in self.points]
        if reference is None:
            return xs, list(self.hypervolumes)
        return xs, pareto.hypervolume_curve([self.losses.get(p.trial_id) for p in self.points], ref)

    def hypervolume_regret(self, hypervolume: float) -> float:
        """``hypervolume_optimum - hypervolume`` (needs a declared optimum)."""
        if self.hypervolume_optimum is None:
            raise ValueError("hypervolume regret needs the problem's hypervolume_optimum, "
                             "and this run has none")
        return self.hypervolume_optimum - hypervolume

    def regret(self, value: float) -> float:
        """How far ``value`` is from the optimum, in the loss's sign (needs a known optimum)."""
        if self.optimum is None:
            raise ValueError("regret needs the problem's optimum, and this run has none")
        return to_loss(self.direction, value) - to_loss(self.direction, self.optimum)

    def ranked(self, all_rungs: bool = False) -> list:
        """Successful evaluations, best first (the incumbent first).

        In a multi-fidelity run each configuration appears once, at its highest rung,
        unless ``all_rungs``.
        """
        done = [t for t in self.finished if _succeeded(t)]
        if self.multi_fidelity and not all_rungs:
            top: dict[int, Any] = {}
            for t in done:
                cur = top.get(t.config_id)
                if cur is None or (t.rung or 0, t.trial_id) > (cur.rung or 0, cur.trial_id):
                    top[t.config_id] = t
            done = list(top.values())
        if self.multi_objective:
            return self._ranked_by_front(done)
        return sorted(done, key=rank_key(self.direction, self.multi_fidelity))


    def _ranked_by_front(self, done: list) -> list:
        """Multi-objective: the evaluations the front is taken from, ranked by
        :func:`~hpsearch.problem.pareto.order` (the front first); then, in a multi-fidelity run,
        the lower budgets, larger first and each ranked the same way; then any without every objective."""
        counted = [t for t in done if t.trial_id in self.losses]
        out = [counted[i] for i in pareto.order([self.losses[t.trial_id] for t in counted])]
        rest = [t for t in done if t.trial_id not in self.losses]
        if rest:
            groups: dict[Any, list] = {}
            for t in rest:
                groups.setdefault(t.budget if self.multi_fidelity else None, []).append(t)
            for budget in sorted(groups, key=lambda b: -(b or 0)):
                group = groups[budget]
                lo = [trial_losses(self.objectives, t) for t in group]
                scored = [(t, x) for t, x in zip(group, lo) if x is not None]
                out += [scored[i][0] for i in pareto.order([x for _, x in scored])]
                out += [t for t, x in zip(group, lo) if x is None]
        return out
