"""What one evaluation is: the spec sent to a worker, the ``trial`` handed to
``run``, the result sent back, and :func:`execute_trial`, which every evaluator
calls to run user code and turn whatever happens into a :class:`TrialResult`.
"""
from __future__ import annotations

import math
import numbers
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["TrialSpec", "TrialResult", "Trial", "TrialTimeout", "TrialStopped", "StopRun", "execute_trial",
           "stopped_result", "finite_number", "Status", "FINISHED", "STOP_GRACE", "visible_devices",
           "DEVICE_VARS"]


class Status(str, Enum):
    """The status of a stored evaluation; the value is what the store and results.csv hold.

    ``running`` and ``interrupted`` are re-run on resume; ``stopped`` is a trial a
    pruner (or ``--stop-when``) ended early, with its last reported values.

    >>> Status("done") is Status.DONE, f"{Status.TIMEOUT}", Status.FAILED == "failed"
    (True, 'timeout', True)
    """

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    TIMEOUT = "timeout"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


#: the statuses of a finished evaluation (told to the search).
FINISHED = (Status.DONE, Status.FAILED, Status.TIMEOUT, Status.STOPPED)
#: Seconds a run function gets, after ``trial.report`` first returned True, before it is stopped.
STOP_GRACE = 10.0


class BadReturn(ValueError):
    """``run`` returned something that is not a finite objective."""


class TrialTimeout(Exception):
    """Raised inside a trial that overran ``--trial-timeout``."""


class TrialStopped(Exception):
    """Raised inside a trial that ignored a stop decision for longer than its grace period."""


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
    #: every objective of a multi-objective problem (``objective`` is the first); empty for one objective
    objectives: tuple = ()
    timeout: float | None = None
    stop_grace: float = STOP_GRACE


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
    step: Any = None  # the last reported step (a stopped trial's resource reached), None without reports
    devices: list = field(default_factory=list)  # GPU ids the trial's process could see
    #: virtual seconds (the simulated evaluator's clock) when the trial started and ended; None elsewhere
    virtual_start: float | None = None
    virtual_end: float | None = None


#: Where a process's GPUs are named, first found wins: CUDA, then ROCm (HIP, then the ROCr runtime).
DEVICE_VARS = ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")


def visible_devices(env: Any = None) -> list[str]:
    """The GPU ids a process with environment ``env`` (default: this one) may use.

    Read from ``CUDA_VISIBLE_DEVICES`` (else the ROCm equivalents), which the
    ``process`` evaluator sets for each worker from ``--gpus`` and a Dask worker
    is started with; empty when none is set, or when it hides every GPU
    (``""`` or ``-1``).

    >>> visible_devices({"CUDA_VISIBLE_DEVICES": "2,3"})
    ['2', '3']
    >>> visible_devices({"CUDA_VISIBLE_DEVICES": "-1"})
    []
    """
    env = os.environ if env is None else env
    for var in DEVICE_VARS:
        if var in env:
            ids = [d.strip() for d in env[var].split(",") if d.strip()]
            return [] if ids[:1] == ["-1"] else ids
    return []


class Trial:
    """The optional second argument of ``run(config, trial)``.

    Attributes:
        id: the evaluation's ``trial_id``.
        config_id: shared by the rungs of one configuration.
        budget: the resource value of this evaluation (cumulative, e.g. total epochs).
        previous_budget: how much of the resource the checkpoint already holds
            (0 if none): train ``budget - previous_budget`` more.
        seed: a seed for this configuration, derived from the run's seed.
        devices: the GPU ids this trial may use (``CUDA_VISIBLE_DEVICES`` of its
            process, e.g. ``['2', '3']`` with ``--gpus-per-trial 2``); empty on CPU.
            Inside the process the frameworks number them from 0.

    ``report`` streams intermediate metrics to the driver and returns True once
    the trial should stop (see :attr:`should_stop`).
    """

    def __init__(self, spec: TrialSpec, reporter: Callable[[dict], bool] | None = None):
        self._spec = spec
        self.id = spec.trial_id
        self.config_id = spec.config_id
        self.budget = spec.budget
        self.previous_budget = spec.previous_budget
        self.seed = spec.seed
        self.devices: list[str] = visible_devices()
        self.reports: list[dict] = []
        self._reporter = reporter
        self._stop_at: float | None = None  # monotonic time of the stop decision
        self._pid = os.getpid()  # a process forked by run() has its own pid: it never reports

    @property
    def should_stop(self) -> bool:
        """True once the driver decided that this trial should stop (a pruner, or the run's
        ``--stop-when`` condition): return the last values."""
        return self._stop_at is not None

    @property
    def checkpoint_dir(self) -> Path:
        """A directory that persists across the rungs of this configuration (created on use)."""
        root = self._spec.checkpoint_root
        if root is None:
            raise RuntimeError("this evaluation has no checkpoint directory (no run directory)")
        path = Path(root) / f"config-{self.config_id}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def report(self, step: int | float, **metrics: Any) -> bool:
        """Send intermediate metrics to the driver (stored at once); True means "stop now".

        ``step`` counts the resource trained so far (e.g. epochs, cumulative across
        warm-started rungs). When this returns True (a pruner or the run's stop
        condition decided), return the last values: ``if trial.report(e, acc=a): break``.
        A run function that keeps going is stopped ``stop_grace`` seconds later
        (raised here at its next report, or its worker is killed) and stored ``stopped``.
        """
        if self._stop_at is not None and time.monotonic() - self._stop_at > self._spec.stop_grace:
            raise TrialStopped(f"ignored the stop decision for {self._spec.stop_grace:g} s")
        rep = {"step": _plain(step), **{k: _plain(v) for k, v in metrics.items()}}
        self.reports.append(rep)
        if os.getpid() != self._pid:  # a forked copy of the trial's process is not the trial
            return self.should_stop
        if self._reporter is not None and self._reporter(rep) and self._stop_at is None:
            self._stop_at = time.monotonic()
        return self.should_stop

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


def parse_return(value: Any, objective: str, objectives: tuple = ()) -> tuple[float, dict]:
    """Read ``run``'s return value: a number, or a dict holding the objective.

    With ``objectives`` (a multi-objective problem, ``objective`` the first of
    them) the value must be a dict holding every objective as a finite number.

    Raises:
        BadReturn: with the reason the evaluation failed.
    """
    metrics: dict = {}
    if len(objectives) > 1:
        names = ", ".join(map(repr, objectives))
        if not isinstance(value, dict):
            raise BadReturn(f"run() returned {type(value).__name__} {value!r:.60}; a multi-objective "
                            f"problem needs a dict with the keys {names}")
        for name in objectives:
            if name not in value:
                keys = ", ".join(map(str, value)) or "none"
                raise BadReturn(f"run() returned a dict without the objective {name!r} (keys: {keys})")
            v = _plain(value[name])
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise BadReturn(f"objective {name!r} is {v!r:.60} (not a finite number)")
    if len(objectives) > 1:  # every objective stays in the metrics too, under its name
        metrics = {str(k): _plain(v) for k, v in value.items()}
        value = value[objective]
    elif isinstance(value, dict):
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


def finite_number(x: Any) -> float | None:
    """``x`` as a float if it is a finite real number (not a bool), else None."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x):
        return None
    return float(x)


def stopped_result(spec: TrialSpec, last: dict | None, started: float, worker: str,
                   error: str | None = None) -> TrialResult:
    """A ``stopped`` result from a trial's last report (a trial killed after its grace period).

    The objective is the last reported value of the objective metric (None if never reported).
    """
    last = dict(last or {})
    step = last.pop("step", None)
    # a multi-objective problem keeps every objective in the metrics, the first one too
    obj = finite_number(last.get(spec.objective) if spec.objectives else last.pop(spec.objective, None))
    now = time.time()
    return TrialResult(trial_id=spec.trial_id, status=Status.STOPPED, objective=obj, metrics=last,
                       error=error, started_at=started, finished_at=now, duration_s=max(now - started, 0.0),
                       worker=worker, step=step)


def execute_trial(run: Callable, accepts_trial: bool, spec: TrialSpec, worker: str = "",
                  reporter: Callable[[dict], bool] | None = None) -> TrialResult:
    """Run ``run`` on one spec and capture the outcome; never raises for user errors.

    ``reporter(report) -> stop?`` carries each ``trial.report`` to the driver and
    its decision back (None: reports are only collected). A trial that returns
    after a stop decision is ``stopped`` with what it returned; one that ignores
    it past ``spec.stop_grace`` is ``stopped`` with its last reported values.
    ``KeyboardInterrupt`` and :class:`StopRun` pass through (the caller decides);
    :class:`TrialTimeout` becomes status ``timeout``; ``sys.exit()`` inside ``run``
    fails the trial (``run() called sys.exit(0)``), as with every evaluator.

    A process that ``run`` forks (``os.fork()``) and that leaves ``run`` (returns or
    raises) exits there, with the exit code Python would give it: it never acts as
    the caller (never stores a result, never reports).
    """
    trial = Trial(spec, reporter)
    started = time.time()
    t0 = time.perf_counter()
    status, obj, metrics, error = Status.DONE, None, {}, None
    try:
        value = _call(run, (dict(spec.config), trial) if accepts_trial else (dict(spec.config),))
        obj, metrics = parse_return(value, spec.objective, spec.objectives)
    except TrialTimeout:
        status, error = Status.TIMEOUT, f"trial exceeded the trial timeout of {spec.timeout:g} s"
    except TrialStopped as exc:
        result = stopped_result(spec, trial.reports[-1] if trial.reports else None, started,
                                worker or f"pid-{os.getpid()}", error=str(exc))
        result.reports = trial.reports
        result.devices = list(trial.devices)
        return result
    except (KeyboardInterrupt, StopRun):
        raise
    except SystemExit as exc:
        status, error = Status.FAILED, f"run() called {exit_call(exc)}"
    except BadReturn as exc:
        status, error = Status.FAILED, str(exc)
    except BaseException as exc:  # noqa: BLE001 - any user error fails only this trial
        status, error = Status.FAILED, _describe(exc)
    if status == Status.DONE and trial.should_stop:
        status = Status.STOPPED
    duration = time.perf_counter() - t0
    return TrialResult(trial_id=spec.trial_id, status=status, objective=obj, metrics=metrics,
                       error=error, started_at=started, finished_at=started + duration,
                       duration_s=duration, worker=worker or f"pid-{os.getpid()}",
                       reports=trial.reports, devices=list(trial.devices),
                       step=trial.reports[-1]["step"] if trial.reports else None)


def _call(run: Callable, args: tuple) -> Any:
    """``run(*args)``; a process forked inside ``run`` leaves when it gets back here."""
    pid = os.getpid()
    try:
        value = run(*args)
    except BaseException as exc:
        if os.getpid() != pid:
            _leave_forked_copy(exc)
        raise
    if os.getpid() != pid:
        _leave_forked_copy(None)
    return value


def _leave_forked_copy(exc: BaseException | None) -> NoReturn:
    """End a process that ``run`` forked and that left ``run``, as Python would end it.

    Exit code 0 after a return, ``sys.exit``'s code, 130 after ``KeyboardInterrupt``, else 1
    (with the traceback on stderr). ``os._exit``: no ``finally`` or ``atexit`` of the
    process it was forked from runs, so it never stores, locks or prints as that process.
    """
    code = 0
    if isinstance(exc, SystemExit):
        if isinstance(exc.code, int):
            code = exc.code
        elif exc.code is not None:
            print(exc.code, file=sys.stderr)
            code = 1
    elif isinstance(exc, KeyboardInterrupt):
        code = 130
    elif exc is not None:
        traceback.print_exception(type(exc), exc, exc.__traceback__)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or broken stream: nothing more to say
            pass
    os._exit(code & 0xFF)


def exit_call(exc: SystemExit) -> str:
    """``sys.exit(0)``, ``sys.exit()``, ``sys.exit('message')``: what the user's code called."""
    return "sys.exit()" if exc.code is None else f"sys.exit({exc.code!r})"


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
