"""What one evaluation is: the spec sent to a worker, the ``trial`` handed to
``run``, the result sent back, and :func:`execute_trial`, which every evaluator
calls to run user code and turn whatever happens into a :class:`TrialResult`.
"""
from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

__all__ = ["TrialSpec", "TrialResult", "Trial", "TrialTimeout", "StopRun", "execute_trial", "Status",
           "FINISHED"]


class Status(str, Enum):
    """The status of a stored evaluation; the value is what the store and results.csv hold.

    ``running`` and ``interrupted`` are re-run on resume.

    >>> Status("done") is Status.DONE, f"{Status.TIMEOUT}", Status.FAILED == "failed"
    (True, 'timeout', True)
    """

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


#: the statuses of a finished evaluation (told to the search).
FINISHED = (Status.DONE, Status.FAILED, Status.TIMEOUT)


class BadReturn(ValueError):
    """``run`` returned something that is not a finite objective."""


class TrialTimeout(Exception):
    """Raised inside a trial that overran ``--trial-timeout``."""


class StopRun(BaseException):
    """Raised inside a trial to cut it off because the whole run must stop."""


@dataclass
class TrialSpec:
    """Everything a worker needs to run one evaluation (picklable, no user code)."""

    trial_id: int
    config_id: int
    config: dict
    budget: Any = None
    previous_budget: Any = 0
    bracket: int | None = None
    rung: int | None = None
    seed: int = 0
    checkpoint_root: str | None = None
    objective: str = "objective"
    timeout: float | None = None


@dataclass
class TrialResult:
    """The outcome of one evaluation, as sent back by a worker."""

    trial_id: int
    status: Status
    objective: float | None = None
    metrics: dict = field(default_factory=dict)
    error: str | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    duration_s: float = 0.0
    worker: str = ""
    reports: list = field(default_factory=list)


class Trial:
    """The optional second argument of ``run(config, trial)``.

    Attributes:
        id: the evaluation's ``trial_id``.
        config_id: shared by the rungs of one configuration.
        budget: the resource value of this evaluation (cumulative, e.g. total epochs).
        previous_budget: how much of the resource the checkpoint already holds
            (0 if none): train ``budget - previous_budget`` more.
        seed: a seed for this configuration, derived from the run's seed.
    """

    def __init__(self, spec: TrialSpec):
        self._spec = spec
        self.id = spec.trial_id
        self.config_id = spec.config_id
        self.budget = spec.budget
        self.previous_budget = spec.previous_budget
        self.seed = spec.seed
        self.reports: list[dict] = []

    @property
    def checkpoint_dir(self) -> Path:
        """A directory that persists across the rungs of this configuration (created on use)."""
        root = self._spec.checkpoint_root
        if root is None:
            raise RuntimeError("this evaluation has no checkpoint directory (no run directory)")
        path = Path(root) / f"config-{self.config_id}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def report(self, step: int | float, **metrics: Any) -> None:
        """Record intermediate metrics (stored with the evaluation)."""
        self.reports.append({"step": step, **{k: _plain(v) for k, v in metrics.items()}})

    def __repr__(self) -> str:
        return f"Trial(id={self.id}, config_id={self.config_id}, budget={self.budget!r})"


def _plain(v: Any) -> Any:
    """numpy scalars and the like to plain Python, so they store as JSON."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    item = getattr(v, "item", None)
    if callable(item):
        try:
            return _plain(item())
        except (TypeError, ValueError):
            pass
    return repr(v)


def parse_return(value: Any, objective: str) -> tuple[float, dict]:
    """Read ``run``'s return value: a number, or a dict holding the objective.

    Raises:
        BadReturn: with the reason the evaluation failed.
    """
    metrics: dict = {}
    if isinstance(value, dict):
        if objective not in value:
            keys = ", ".join(map(str, value)) or "none"
            raise BadReturn(f"run() returned a dict without the objective {objective!r} (keys: {keys})")
        metrics = {str(k): _plain(v) for k, v in value.items() if k != objective}
        value = value[objective]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        item = getattr(value, "item", None)
        if callable(item) and not isinstance(value, (list, tuple, dict, str)):
            try:
                value = item()
            except (TypeError, ValueError):
                pass
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise BadReturn(f"run() returned {type(value).__name__} {value!r:.60}; expected a number "
                             f"or a dict with the key {objective!r}")
    value = float(value)
    if not math.isfinite(value):
        raise BadReturn(f"objective is {value} (not a finite number)")
    return value, metrics


def execute_trial(run: Callable, accepts_trial: bool, spec: TrialSpec, worker: str = "") -> TrialResult:
    """Run ``run`` on one spec and capture the outcome; never raises for user errors.

    ``KeyboardInterrupt`` and ``SystemExit`` pass through (the caller decides);
    :class:`TrialTimeout` becomes status ``timeout``.
    """
    trial = Trial(spec)
    started = time.time()
    t0 = time.perf_counter()
    status, obj, metrics, error = Status.DONE, None, {}, None
    try:
        value = run(dict(spec.config), trial) if accepts_trial else run(dict(spec.config))
        obj, metrics = parse_return(value, spec.objective)
    except TrialTimeout:
        status, error = Status.TIMEOUT, f"trial exceeded the trial timeout of {spec.timeout:g} s"
    except (KeyboardInterrupt, SystemExit, StopRun):
        raise
    except BadReturn as exc:
        status, error = Status.FAILED, str(exc)
    except BaseException as exc:  # noqa: BLE001 - any user error fails only this trial
        status, error = Status.FAILED, _describe(exc)
    duration = time.perf_counter() - t0
    return TrialResult(trial_id=spec.trial_id, status=status, objective=obj, metrics=metrics,
                       error=error, started_at=started, finished_at=started + duration,
                       duration_s=duration, worker=worker or f"pid-{os.getpid()}",
                       reports=trial.reports)


def _describe(exc: BaseException) -> str:
    """``Type: message (file:line)`` of the innermost frame, for the error column."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    where = ""
    if last is not None:
        code = last.tb_frame.f_code
        where = f" ({os.path.basename(code.co_filename)}:{last.tb_lineno})"
    return f"{type(exc).__name__}: {exc}{where}"
