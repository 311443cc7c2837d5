"""The evaluator interface: run trial specs somewhere, hand back results.

Evaluators never choose configurations and never touch the store: the engine
submits :class:`~hpsearch.trial.TrialSpec` objects and collects
:class:`~hpsearch.trial.TrialResult` objects. Every implementation runs the
shared contract tests in ``tests/evaluators/contract.py``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..trial import TrialResult, TrialSpec

__all__ = ["Evaluator", "EvaluatorError"]


class EvaluatorError(UsageError):
    """An evaluator cannot start as configured (a usage error: bad address, bad option)."""


class Evaluator:
    """Base class.

    Args:
        folder: the problem folder (workers import ``model_run.py`` from it); None for a problem
            made in Python, given as ``loaded`` (see :mod:`hpsearch.problem.inline`).
        workers: how many evaluations may run at once.
        trial_timeout: seconds after which a trial is stopped and stored as ``timeout``.
            A trial told to stop (``trial.report`` returned True) that goes on for its
            spec's ``stop_grace`` seconds is stopped the same way and stored ``stopped``.
        run_dir: the run directory (for per-trial logs).
    """

    name = "evaluator"

    def __init__(self, folder: Path | None, workers: int = 1, trial_timeout: float | None = None,
                 run_dir: Path | None = None, **options):
        self.folder = None if folder is None else Path(folder)
        self.workers = workers
        self.trial_timeout = trial_timeout
        self.run_dir = run_dir
        self.options = options
        #: ``on_report(trial_id, report) -> stop?``: set by the engine; each evaluator carries every
        #: ``trial.report`` up to it while the trial runs, and its decision back down.
        self.on_report: Callable[[int, dict], bool] | None = None
        #: worker-seconds spent bringing workers up outside :meth:`start` (a worker started when a
        #: trial first needs it, or replacing one): from its start until it can take a trial
        #: (``RunSummary.starting_s``).
        self.starting_s = 0.0

    def _report(self, trial_id: int, report: dict) -> bool:
        """Hand one report to the engine; True if the trial should stop."""
        return bool(self.on_report(trial_id, report)) if self.on_report is not None else False

    @property
    def capacity(self) -> int:
        """How many evaluations may run at once."""
        return self.workers

    @property
    def queued(self) -> int:
        """Evaluations the engine keeps submitted beyond :attr:`capacity` (0: none), so that a worker
        that finishes one takes the next at once, without waiting for the driver to hear of it."""
        return 0

    def start(self) -> None:
        """Acquire workers (called once before the first submit)."""

    def restore(self, trials: Sequence[Any]) -> None:
        """Called once before :meth:`start` with the run's stored trials (a resumed run's history,
        :class:`~hpsearch.store.StoredTrial` objects; empty for a new run); only an evaluator with
        state of its own (the simulated evaluator's virtual clock) uses it."""

    def submit(self, spec: TrialSpec) -> None:
        """Queue one evaluation; returns at once."""
        raise NotImplementedError

    def wait(self, timeout: float | None = None, deadline: float | None = None) -> list[TrialResult]:
        """Block until at least one evaluation finishes, or ``timeout`` seconds pass.

        ``deadline`` (a ``time.monotonic()`` value) is when the whole run must stop;
        an evaluator that cannot otherwise be interrupted raises
        :class:`~hpsearch.trial.StopRun` then.
        """
        raise NotImplementedError

    def in_flight(self) -> list[int]:
        """trial_ids submitted and not yet returned by :meth:`wait`."""
        raise NotImplementedError

    def cancel(self) -> list[int]:
        """Stop every evaluation in flight; return their trial_ids."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers."""
