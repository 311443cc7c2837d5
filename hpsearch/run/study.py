"""Ask/tell: a search whose evaluations the caller runs (``hpsearch.Study``).

A :class:`Study` is an ordinary run directory driven by the same
:class:`~hpsearch.run.engine.Engine` steps as ``hps run``, with its user as the
evaluator: :meth:`Study.ask` records the trials it hands out as ``running``,
:meth:`Study.tell` stores the result, then tells the scheduler, as the engine
does with a worker's result. So a seeded study that runs each trial at once
writes the same history as ``hps run --evaluator serial`` with the same seed,
``hps results``, ``plot`` and ``dashboard`` read it, and :meth:`Study.load`
replays it exactly as ``hps resume`` does: trials asked and never told are
asked again, first.

    >>> import tempfile
    >>> from hpsearch import HpProblem
    >>> problem = HpProblem(direction="minimize")
    >>> _ = problem.add_dim("x", (-5.0, 5.0), default=1.0)
    >>> study = Study(problem, algo="random", seed=0, max_evals=20, run_dir=tempfile.mkdtemp() + "/s")
    >>> while not study.done:
    ...     trial = study.ask()
    ...     study.tell(trial, (trial.config["x"] - 2) ** 2)
    >>> round(study.best.objective, 3), len(study.results())
    (0.087, 20)
    >>> study.close()

Every ask and tell is stored whole: Ctrl-C in the middle of one completes it
first, then raises :class:`KeyboardInterrupt`.
"""
from __future__ import annotations

import contextlib
import math
import numbers
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..evaluators.base import Evaluator
from ..problem.inline import from_callable
from ..problem.space import HpProblem, SpaceError
from ..store import RunHistory, StoredTrial
from ..trial import BadReturn, Status, Trial, TrialResult, TrialSpec, parse_return
from .runner import PreparedRun, config_from_keywords, prepare_resume, prepare_run

__all__ = ["Study", "AskedTrial", "StudyError"]

#: keywords that choose how evaluations run: in a study its user runs them
NOT_FOR_A_STUDY = ("evaluator", "workers", "dask_scheduler", "gpus", "gpus_per_trial", "trial_timeout",
                   "allow_many_workers", "stop_grace", "timeout")
#: settings :meth:`Study.load` may change (as ``hps resume`` may)
LOAD_OVERRIDES = ("max_evals", "max_resource_spent", "stop_when")


class StudyError(UsageError):
    """An ask/tell call breaks a rule (a trial told twice, a value of the wrong type, ...); nothing
    stored changed."""


class _UserEvaluator(Evaluator):
    """The evaluator of a study: its user, who asks and tells (nothing is submitted here)."""

    name = "study"

    def __init__(self) -> None:
        super().__init__(None, 1)

    def submit(self, spec: TrialSpec) -> None:  # pragma: no cover - a study never submits
        raise RuntimeError("an ask/tell study's user runs the evaluations")

    def wait(self, timeout: float | None = None, deadline: float | None = None) -> list[TrialResult]:
        return []

    def in_flight(self) -> list[int]:
        return []

    def cancel(self) -> list[int]:
        return []


class AskedTrial(Trial):
    """One evaluation handed out by :meth:`Study.ask`: run it, then :meth:`Study.tell` its value.

    It is the ``trial`` a ``run(config, trial)`` takes, so a problem folder's ``run`` runs as is.

    Attributes:
        trial_id: the evaluation's id (``id`` too).
        config: the configuration to evaluate.
        budget: the resource value to train to (multi-fidelity schedulers), else None.
        previous_budget: what the configuration's checkpoint already holds (0 if none).
        checkpoint_dir: a directory kept across the rungs of one configuration.
        seed: a seed for this configuration, derived from the study's.
    """

    def __init__(self, study: Study, spec: TrialSpec):
        super().__init__(spec, reporter=self._send)  # the study's specs have no stop grace: never cut off
        self._study = study
        self.trial_id = spec.trial_id
        self.config = dict(spec.config)
        self.asked_at = time.time()

    def _send(self, report: dict) -> bool:
        return self._study._report(self.trial_id, report)

    def report(self, step: int | float, **metrics: Any) -> bool:
        """Store intermediate metrics at ``step``; True when the study's pruner says stop (then tell
        the last value: the trial is stored ``stopped``)."""
        return super().report(step, **metrics)

    def __repr__(self) -> str:
        budget = "" if self.budget is None else f", budget={self.budget!r}"
        return f"AskedTrial(trial_id={self.trial_id}, config={self.config!r}{budget})"


try:  # the C function: signal.signal's wrapper turns every handler it returns into an enum, 20x slower
    from _signal import signal as _set_handler
except ImportError:  # pragma: no cover - another Python
    _set_handler = signal.signal


@contextlib.contextmanager
def _whole() -> Iterator[None]:
    """Defer Ctrl-C (SIGINT) until the block is done, so a step is stored whole (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    try:
        old = _set_handler(signal.SIGINT, lambda signum, frame: caught.append(signum))
    except (ValueError, TypeError):  # no Python handler can be set here: nothing to defer
        yield
        return
    try:
        yield
    finally:
        _set_handler(signal.SIGINT, old)
    if caught:
        raise KeyboardInterrupt


def _refuse(keywords: dict, allowed: tuple[str, ...] | None, who: str) -> None:
    for key in keywords:
        if key in NOT_FOR_A_STUDY or (allowed is not None and key not in allowed):
            if allowed is not None and key not in NOT_FOR_A_STUDY:
                raise StudyError(f"{who}: {key} cannot change when a study is continued (its stored settings "
                                 f"are used; only {', '.join(allowed)} may change)")
            raise StudyError(f"{who}: {key} does not apply to an ask/tell study (you run its evaluations)")


class Study:
    """An ask/tell search stored in a run directory.

    Args:
        problem: the search space and objective.
        algo: an ``--algo`` preset (``random``, ``bayesian``, ``hyperband``, ``asha``, ``bohb``) or
            ``ALGO+SEARCHER``.
        run_dir: where to store it (default ``runs/study-<algo>-<timestamp>``); must not hold a run.
        seed: the seed (a random one is chosen and stored if omitted).
        **options: as for ``hps run``: ``max_evals``, ``max_resource_spent``, ``searcher``,
            ``fix``, ``pruner`` (and ``pruner_NAME`` options), ``stop_when``, and the scheduler's
            and searcher's options (``eta=3``, ``max_resource=81``, ...), checked as the CLI checks them.
            Without a limit a fifo search asks 100 evaluations (as ``hps run``); Hyperband and ASHA
            end by themselves.

    Raises:
        UsageError: a bad option or problem (one line), before anything is written.
    """

    def __init__(self, problem: HpProblem, algo: str = "random", *, run_dir: str | os.PathLike | None = None,
                 seed: int | None = None, **options: Any):
        _refuse(options, None, "Study")
        cfg = config_from_keywords("study", algo, seed=seed, run_dir=run_dir, **options)
        loaded = from_callable(None, problem, "study")
        prepared = prepare_run(cfg, loaded=loaded, own_evaluator=_UserEvaluator(),
                               settings={"evaluator": "study", "workers": 1})
        self._start(prepared)

    @classmethod
    def load(cls, run_dir: str | os.PathLike, problem: HpProblem | None = None, **overrides: Any) -> Study:
        """Continue a study (or any stopped run) from its directory; trials asked and never told come
        first from :meth:`ask`.

        Args:
            run_dir: the run directory.
            problem: the problem (default: the copy the run keeps, or its problem folder); its space
                must be the run's.
            **overrides: ``max_evals``, ``max_resource_spent``, ``stop_when`` (as ``hps resume``).
        """
        _refuse(overrides, LOAD_OVERRIDES, "Study.load")
        loaded = None if problem is None else from_callable(None, problem, "study")
        prepared = prepare_resume(run_dir, loaded, own_evaluator=_UserEvaluator(), **overrides)
        study = cls.__new__(cls)
        study._start(prepared)
        return study

    def _start(self, prepared: PreparedRun) -> None:
        self._store = prepared.store
        self.run_dir: Path = prepared.shown
        self._handed: dict[int, AskedTrial] = {}
        self._queue: deque[int] = deque()  # asked, not handed out yet (re-asked on load, or looked ahead)
        self._ended = False
        self._closed = False
        self._broken: str | None = None
        try:
            self._engine = prepared.engine()
            self._engine.stop_grace = math.inf  # a trial told to stop is never cut off: its user tells it
            with _whole():
                self._queue.extend(t.trial_id for t in self._engine.replay())
                if self._engine.summary.stopped_by == "condition":  # met before this session: ask nothing
                    self._condition_met()
        except BaseException:
            self._store.close()
            raise

    # -- asking ------------------------------------------------------------------------------------
    def ask(self, n: int | None = None) -> AskedTrial | list[AskedTrial] | None:
        """The next trial to evaluate, or None when there is none now: the scheduler waits for
        results still out (tell them), or the search is done (:attr:`done`).

        ``ask(n)`` returns a list of up to ``n`` trials (fewer, or none, in the same cases).
        """
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise StudyError(f"ask: n must be an integer >= 1, got {n!r}")
        self._usable()
        want = 1 if n is None else n
        out: list[AskedTrial] = []
        if not self._ended:
            with _whole(), self._guard():
                while self._queue and len(out) < want:
                    out.append(self._hand_out(self._queue.popleft()))
                while len(out) < want:
                    got = self._engine.ask(want - len(out))
                    if not got:
                        break
                    out.extend(self._hand_out(tid) for tid in got)
                if not out and not self._engine.in_flight:
                    self._end(self._engine.end_reason())
        if n is None:
            return out[0] if out else None
        return out

    def _hand_out(self, tid: int) -> AskedTrial:
        trial = AskedTrial(self, self._engine.spec(tid))
        self._handed[tid] = trial
        return trial

    @property
    def done(self) -> bool:
        """True once the search is finished: nothing is out and nothing more will be asked (a limit,
        the scheduler's end, or a stop condition). To know, it may ask the scheduler for the next
        trial, which :meth:`ask` then hands out first."""
        self._usable()
        if self._ended:
            return True
        if self._engine.in_flight:
            return False
        with _whole(), self._guard():
            if not self._engine.exhausted():
                got = self._engine.ask(1)
                if got:
                    self._queue.extend(got)
                    return False
            self._end(self._engine.end_reason())
        return True

    def enqueue(self, config: dict) -> dict:
        """Have the next new configuration be ``config`` (missing dimensions take their default),
        before the searcher's own choices; stored, so a continued study replays it. Returns the
        configuration as it will be asked.

        Raises:
            SpaceError: a name that is not a dimension, or a value its dimension refuses.
        """
        self._usable()
        if self._ended:
            raise StudyError("enqueue: the search is finished")
        with _whole(), self._guard(harmless=(SpaceError,)):
            return self._engine.enqueue(dict(config))

    # -- telling -----------------------------------------------------------------------------------
    def tell(self, trial: AskedTrial | int, value: Any = None, *, failed: str | None = None) -> None:
        """Store a trial's result: its objective (a number, or a dict holding the objective and other
        metrics), or ``failed="reason"``.

        A trial whose pruner said stop (its :meth:`~AskedTrial.report` returned True) is stored
        ``stopped`` with the value told; a value that is not finite (NaN) is stored ``failed``, as
        from ``run``.

        Raises:
            StudyError: a trial this study did not hand out, one told already, or a value of the
                wrong type; nothing stored changes.
        """
        self._usable()
        tid = self._trial_id(trial)
        handle = self._handed[tid]
        result = self._result(handle, value, failed)
        with _whole(), self._guard():
            self._engine.finish(result)
            del self._handed[tid]
            if self._engine.summary.stopped_by == "condition":
                self._condition_met()

    def _trial_id(self, trial: Any) -> int:
        if isinstance(trial, AskedTrial):
            if trial._study is not self:
                raise StudyError(f"tell: trial {trial.trial_id} was asked from another study "
                                 f"({trial._study.run_dir}), not this one ({self.run_dir})")
            tid = trial.trial_id
        elif isinstance(trial, numbers.Integral) and not isinstance(trial, bool):
            tid = int(trial)
        else:
            raise StudyError(f"tell: expected a trial from ask() or its trial_id, got {type(trial).__name__}")
        if tid in self._handed:
            return tid
        stored = {t.trial_id: t for t in self._store.trials()}.get(tid)
        if stored is None:
            raise StudyError(f"tell: unknown trial {tid} (this study never asked it)")
        if stored.status in (Status.RUNNING, Status.INTERRUPTED):
            raise StudyError(f"tell: trial {tid} was not handed out by ask() in this session (ask() hands "
                             "out the trials a continued study asks again)")
        why = f": {stored.error}" if stored.error else ""
        raise StudyError(f"tell: trial {tid} was told already (stored {stored.status}{why})")

    def _result(self, handle: AskedTrial, value: Any, failed: str | None) -> TrialResult:
        tid, objective = handle.trial_id, self._engine.problem.objective
        if (value is None) == (failed is None):
            raise StudyError(f"tell: trial {tid}: give its value (a number, or a dict with the key "
                             f"{objective!r}) or failed='reason', not {'both' if failed else 'neither'}")
        now = time.time()
        result = TrialResult(trial_id=tid, status=Status.FAILED, started_at=handle.asked_at, finished_at=now,
                             duration_s=max(now - handle.asked_at, 0.0), worker="study",
                             reports=list(handle.reports), devices=list(handle.devices),
                             step=handle.reports[-1]["step"] if handle.reports else None)
        if failed is not None:
            result.error = str(failed)
            return result
        names = self._engine.objective_names
        try:
            result.objective, result.metrics = parse_return(value, objective, names)
        except BadReturn as exc:
            if names and not (isinstance(value, dict) and all(n in value for n in names)):
                raise StudyError(f"tell: trial {tid}: a multi-objective study needs a dict with the keys "
                                 f"{', '.join(map(repr, names))}, got {type(value).__name__} "
                                 f"{value!r:.60}") from None
            number = value.get(objective) if isinstance(value, dict) else value
            if names:
                number = 0.0  # every objective is there: one is not finite, the trial fails
            if not (isinstance(number, numbers.Real) and not isinstance(number, bool)):
                shown = f"{type(value).__name__} {value!r:.60}"
                raise StudyError(f"tell: trial {tid}: expected a number or a dict with the key "
                                 f"{objective!r}, got {shown}") from None
            result.error = str(exc)  # not finite: failed, as a run() returning it
            return result
        result.status = Status.STOPPED if handle.should_stop else Status.DONE
        return result

    def _report(self, tid: int, report: dict) -> bool:
        if self._closed or self._broken is not None or tid not in self._handed:
            return True
        with _whole(), self._guard():
            return self._engine.report(tid, report)

    # -- ending --------------------------------------------------------------------------------------
    def _condition_met(self) -> None:
        """A stop condition is met: the trials out are stored ``stopped``, the search ends."""
        self._engine.stop_in_flight(self._engine.in_flight)
        self._handed.clear()
        self._queue.clear()
        self._end(f"stop condition met: {self._engine.summary.stop_reason}")

    def _end(self, reason: str) -> None:
        self._engine.end(reason)
        self._ended = True

    @contextlib.contextmanager
    def _guard(self, harmless: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
        """An error inside an engine step (a full disk, a bad stop condition) leaves this object unusable;
        what was stored is kept, and :meth:`load` continues from it. ``harmless``: errors raised
        before the step changed anything."""
        try:
            yield
        except (KeyboardInterrupt, *harmless):
            raise
        except BaseException as exc:
            self._broken = f"{type(exc).__name__}: {exc}"
            raise

    def _usable(self) -> None:
        if self._closed:
            raise StudyError(f"the study in {self.run_dir} is closed; continue it with "
                             f"hpsearch.Study.load({str(self.run_dir)!r})")
        if self._broken is not None:
            raise StudyError(f"the study in {self.run_dir} stopped on an error ({self._broken}); what was "
                             f"stored is kept: continue it with hpsearch.Study.load({str(self.run_dir)!r})")

    def close(self) -> None:
        """Release the run directory (its lock). Trials out are stored ``interrupted``:
        :meth:`load` asks them again."""
        if self._closed:
            return
        try:
            if not self._ended and self._broken is None:
                with _whole():
                    out = self._engine.in_flight
                    self._engine.interrupt()
                    self._engine.end(f"study closed with {len(out)} evaluation(s) not told" if out
                                     else "study closed")
        finally:
            self._closed = True
            self._store.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------------
    @property
    def best(self) -> StoredTrial | list[StoredTrial] | None:
        """The best successful evaluation so far (a larger budget first in a multi-fidelity search);
        for a multi-objective study, the Pareto front (:meth:`pareto`)."""
        if self._engine.problem.multi_objective:
            return self.pareto()
        return self._engine.summary.best

    def pareto(self) -> list[StoredTrial]:
        """The Pareto-optimal evaluations so far, best first (Pareto rank, then crowding distance;
        full-budget ones only in a multi-fidelity search); for one objective, ``[best]`` (or ``[]``)."""
        self._usable()
        if not self._engine.problem.multi_objective:
            return [] if self._engine.summary.best is None else [self._engine.summary.best]
        return list(RunHistory.from_store(self._store).front)

    def results(self, finished_only: bool = True) -> Any:
        """The evaluations as a pandas DataFrame with the columns of ``results.csv``, in completion
        order (``finished_only=False``: the trials out too)."""
        self._usable()
        return self._store.dataframe(finished_only=finished_only)

    @property
    def ended(self) -> str | None:
        """Why the search ended (one line), or None while it goes on."""
        return self._engine.summary.ended

    def __repr__(self) -> str:
        state = "closed" if self._closed else "done" if self._ended else f"{len(self._handed)} out"
        return f"Study({str(self.run_dir)!r}, {self._engine.summary.n_finished} told, {state})"
