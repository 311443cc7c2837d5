"""The ``process`` evaluator (the default): a pool of reused local worker processes.

``--workers N`` worker processes each load the problem folder once and then
run one trial after another (see :mod:`hpsearch.evaluators._worker`). A
worker starts when a trial first needs it (an idle running worker is used
first), so the first trial goes to its worker at once, without waiting for
the others to start, and a run never starts more workers than it has trials
at once. Each worker is forked from the run's fork server (one process that
imported numpy and hpsearch's worker modules once, never the problem folder;
see :mod:`hpsearch.evaluators._zygote`), which takes milliseconds where a fresh
interpreter takes a few hundred; without ``fork`` (or with
``HPS_WORKER_START=popen``) each worker is a fresh interpreter. Workers are
started by :data:`STARTERS` background threads, so with many trials at
once the driver goes on serving the workers that are up while the others start,
and starts them several at a time. The
driver hands a trial to an idle worker over that worker's pipe and sleeps in
:func:`multiprocessing.connection.wait` on every worker's pipe and process
handle until a result arrives, a worker dies, or the earliest trial timeout is
due, so it never polls.

- Each ``trial.report`` is a blocking round trip: the worker sends the report
  over its pipe, the driver hands it to the engine (which stores it and asks
  the pruner) and answers "go" or "stop", so ``trial.report`` returns the
  decision on the report that caused it. A trial told to stop that has not
  returned ``stop_grace`` seconds later (``--stop-grace``, default 10 s) has its
  worker stopped like a timeout and is stored ``stopped`` with its last report.
- ``--trial-timeout``: an overrunning trial's worker and every process it
  started (its process group) get SIGTERM, then SIGKILL after a short grace;
  the evaluation is stored as ``timeout`` and a fresh worker takes the slot.
  A worker still importing the problem folder gets ``max(120 s, trial timeout)``.
- A worker that dies (``os._exit``, a signal, a segfault, the out-of-memory
  killer) fails only the evaluation it was running, with a reason such as
  ``worker died (exit code -9: SIGKILL, ...)``; it is replaced.
- Each trial's stdout/stderr (file descriptors 1 and 2) go to
  ``RUN_DIR/logs/trial-<id>.log`` (removed if empty); output of a worker
  between trials (e.g. while importing the problem) to ``RUN_DIR/logs/worker-<n>.log``.
- ``gpu_slots`` (from ``--gpus``/``--gpus-per-trial``, see
  :mod:`~hpsearch.evaluators.devices`): worker ``i`` always sees the GPUs
  ``gpu_slots[i]`` (``CUDA_VISIBLE_DEVICES``), a replacement worker too.
- Each worker's numeric libraries get ``max(1, cpu_count // workers)`` threads
  (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``,
  ``TF_NUM_INTRAOP_THREADS``, ...), unless set in the environment already;
  ``HPS_THREADS_PER_WORKER=K`` (or the ``threads_per_worker`` option) sets K for all.
"""
from __future__ import annotations

import contextlib
import math
import os
import select
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..problem.inline import ship
from ..problem.loader import LoadedProblem
from ..trial import Status, TrialResult, TrialSpec, stopped_result, visible_devices
from ._worker import WorkerProcess, death_reason, thread_env
from ._zygote import ForkServer, fork_server
from .base import Evaluator, EvaluatorError
from .devices import device_env

__all__ = ["ProcessEvaluator", "default_threads", "LOAD_TIMEOUT"]

#: With a trial timeout, a worker gets at least this many seconds to import the problem folder.
LOAD_TIMEOUT = 120.0
#: Threads that start worker processes (while the driver serves the workers that are up).
STARTERS = 4
#: Workers per trial the engine keeps queued in the evaluator beyond one per worker.
QUEUE_PER = 16


def default_threads(workers: int) -> int:
    """Threads per worker so that ``workers`` workers do not oversubscribe the cores."""
    env = os.environ.get("HPS_THREADS_PER_WORKER")
    if env:
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise EvaluatorError(f"HPS_THREADS_PER_WORKER must be an integer >= 1, got {env!r}")
        return n
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def _ready(watch: list, timeout: float | None) -> list:
    """Those of ``watch`` (descriptors, or objects with ``fileno()``) readable within ``timeout`` seconds.

    :func:`multiprocessing.connection.wait` with one ``poll`` object: registering a hundred
    descriptors in a new selector each turn cost more driver time than a trial's result.
    """
    if not hasattr(select, "poll"):
        from multiprocessing.connection import wait

        return wait(watch, timeout)
    poller = select.poll()
    by_fd = {}
    for w in watch:
        fd = w if isinstance(w, int) else w.fileno()
        by_fd[fd] = w
        poller.register(fd, select.POLLIN)
    ms = None if timeout is None else math.ceil(max(timeout, 0.0) * 1000)
    return [by_fd[fd] for fd, _ in poller.poll(ms)]


class _Slot:
    """One worker position: its current process and the trial it runs."""

    def __init__(self, index: int):
        self.index = index
        self.proc: WorkerProcess | None = None
        self.spec: TrialSpec | None = None
        self.clock: float | None = None  # monotonic start of the trial, once the worker is ready
        self.wall: float = 0.0
        self.sent: float = 0.0  # monotonic time the trial was handed over
        self.env: dict = {}  # every process of this slot starts with it (its GPUs)
        self.last_report: dict | None = None
        self.stop_at: float | None = None  # monotonic deadline of a trial told to stop
        self.spawned: float | None = None  # monotonic start of its process, until it is ready
        self.starting: Future | None = None  # its process being started by a starter thread

    @property
    def name(self) -> str:
        return f"w{self.index}/{self.proc.pid}" if self.proc else f"w{self.index}"


class ProcessEvaluator(Evaluator):
    """``workers`` reused local worker processes.

    Args:
        threads_per_worker: threads for each worker's numeric libraries
            (default ``max(1, cpu_count // workers)``).
        grace: seconds between SIGTERM and SIGKILL when a worker is stopped.
        gpu_slots: the GPU ids of each worker (one list per worker; an empty list hides
            every GPU); None leaves ``CUDA_VISIBLE_DEVICES`` as the driver has it.
        loaded: a problem made in Python (``folder`` None): its ``run`` is sent to the workers by
            reference (see :func:`hpsearch.problem.inline.ship`, which refuses what cannot be).
    """

    name = "process"

    def __init__(self, folder, workers=1, trial_timeout=None, run_dir=None,
                 threads_per_worker: int | None = None, grace: float = 1.0,
                 gpu_slots: list[list[str]] | None = None, loaded: LoadedProblem | None = None,
                 **options):
        super().__init__(folder, workers, trial_timeout, run_dir, **options)
        if workers < 1:
            raise EvaluatorError(f"--workers must be >= 1, got {workers}")
        #: what each worker loads: the problem folder, or a problem made in Python as bytes
        self._source: Path | bytes = ship(loaded, "process") if loaded is not None and loaded.folder is None \
            else self.folder
        self.threads = threads_per_worker or default_threads(workers)
        self.grace = grace
        self._env = thread_env(self.threads)
        if gpu_slots is not None and len(gpu_slots) != workers:
            raise EvaluatorError(f"gpu_slots: one list of GPU ids per worker ({workers}), "
                                 f"got {len(gpu_slots)}")
        self._slots = [_Slot(i) for i in range(workers)]
        for slot in self._slots:
            slot.env = self._env if gpu_slots is None else device_env(self._env, gpu_slots[slot.index])
        self._pending: deque[TrialSpec] = deque()
        self._results: list[TrialResult] = []
        self._dying: list[tuple[WorkerProcess, float]] = []  # (process, when to SIGKILL)
        self._load_failures = 0
        self._load_error: str | None = None
        self._started = False
        self._starters: ThreadPoolExecutor | None = None
        self._wake: tuple[int, int] | None = None  # a pipe a starter thread writes to when it is done
        self._abandoned: list[Future] = []  # starts of workers whose trial ended meanwhile
        self._forks: ForkServer | None = None  # forks the workers, where the platform can

    @property
    def queued(self) -> int:
        """One trial kept waiting in the driver per :data:`QUEUE_PER` workers (none below that): a worker
        whose result is read gets it at once, before the engine stores the result and asks for more."""
        return self.workers // QUEUE_PER

    # -- paths ---------------------------------------------------------------------------------
    def _log(self, stem: str) -> Path | None:
        return None if self.run_dir is None else Path(self.run_dir) / "logs" / f"{stem}.log"

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the fork server and wait until it has imported the workers' modules (the run's start-up,
        as a Dask cluster's start is); each worker starts when a trial first needs it (:meth:`_dispatch`)."""
        self._started = True
        if self._forks is None:
            self._forks = fork_server(self._env, self._log("fork-server"))
            if self._forks is not None and not self._forks.wait_ready(LOAD_TIMEOUT):
                self._forks.close()  # it could not start or refused: workers start as interpreters
                self._forks = None

    def _spawn(self, slot: _Slot) -> None:
        slot.spawned = time.monotonic()
        slot.proc = WorkerProcess(self._source, slot.env, self._log(f"worker-{slot.index}"), self._forks)

    def _spawn_later(self, slot: _Slot) -> None:
        """Start the slot's process in a starter thread; :meth:`_take_started` sends it its trial."""
        if self._starters is None:
            self._starters = ThreadPoolExecutor(STARTERS, thread_name_prefix="hps-worker-start")
            self._wake = os.pipe()
            os.set_blocking(self._wake[0], False)
        slot.spawned = time.monotonic()
        slot.starting = self._starters.submit(WorkerProcess, self._source, slot.env,
                                              self._log(f"worker-{slot.index}"), self._forks)
        slot.starting.add_done_callback(self._woken)

    def _woken(self, _: Future) -> None:
        with contextlib.suppress(OSError, TypeError):
            os.write(self._wake[1], b"!")

    def _take_started(self) -> None:
        """Give each worker whose start finished its slot and its trial (a failed start raises)."""
        if self._wake is not None:
            with contextlib.suppress(OSError):
                while os.read(self._wake[0], 4096):
                    pass
        for fut in [f for f in self._abandoned if f.done()]:
            self._abandoned.remove(fut)
            if fut.exception() is None:
                proc = fut.result()
                proc.terminate()
                self._dying.append((proc, time.monotonic() + self.grace))
        for slot in self._slots:
            if slot.starting is not None and slot.starting.done():
                fut, slot.starting = slot.starting, None
                slot.proc = fut.result()
                if slot.spec is not None:
                    self._send(slot)

    def _recycle(self, slot: _Slot) -> None:
        """Replace an idle worker that ran its problem's MAX_TRIALS_PER_WORKER trials."""
        proc = slot.proc
        proc.send(None)  # exits cleanly between trials
        self._dying.append((proc, time.monotonic() + max(self.grace, 5.0)))
        self._spawn(slot)

    def close(self) -> None:
        procs = []
        for slot in self._slots:  # workers still starting: wait for them, then stop them too
            if slot.starting is not None:
                with contextlib.suppress(Exception):
                    slot.proc = slot.proc or slot.starting.result()
                slot.starting = None
        for fut in self._abandoned:
            with contextlib.suppress(Exception):
                self._dying.append((fut.result(), 0.0))
        self._abandoned.clear()
        for slot in self._slots:
            if slot.proc is not None:
                if slot.spec is None:
                    slot.proc.send(None)
                else:
                    slot.proc.terminate()
                procs.append(slot.proc)
                slot.proc, slot.spec = None, None
        procs += [p for p, _ in self._dying]
        self._dying.clear()
        self._pending.clear()
        end = time.monotonic() + max(self.grace, 2.0)
        for p in procs:
            try:
                p.popen.wait(max(end - time.monotonic(), 0.01))
            except Exception:  # noqa: BLE001 - TimeoutExpired: kill below
                pass
            p.kill(0.2)
        if self._starters is not None:  # after the workers: a process gets SIGTERM when its starter exits
            self._starters.shutdown(wait=True)
            self._starters = None
            for fd in self._wake:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._wake = None
        if self._forks is not None:
            self._forks.close()
            self._forks = None

    # -- submitting ----------------------------------------------------------------------------
    def submit(self, spec: TrialSpec) -> None:
        if not self._started:
            self.start()
        self._pending.append(spec)
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand pending trials to idle workers, starting workers for free slots that have none."""
        # idle workers that are ready first, then ones still loading or starting, then slots with none
        order = sorted(self._slots, key=lambda s: (s.proc is None and s.starting is None,
                                                   s.proc is None or not s.proc.ready))
        for slot in order:
            if not self._pending:
                return
            if slot.spec is not None:
                continue
            spec = self._pending.popleft()
            if self._load_error is not None:
                self._results.append(self._failure(spec, slot, self._load_error))
                continue
            slot.spec, slot.last_report, slot.stop_at = spec, None, None
            slot.wall, slot.sent = time.time(), time.monotonic()
            slot.clock = None
            if slot.proc is None and slot.starting is None:
                self._spawn_later(slot)
            if slot.proc is not None:
                self._send(slot)

    def _send(self, slot: _Slot) -> None:
        """Send the slot's trial to its process."""
        spec = slot.spec
        slot.clock = time.monotonic() if slot.proc.ready else None
        log = self._log(f"trial-{spec.trial_id}")
        if not slot.proc.send((spec, None if log is None else str(log), slot.name)):
            slot.clock = slot.clock or time.monotonic()  # dead already: found by wait()

    def in_flight(self) -> list[int]:
        return [s.spec.trial_id for s in self._slots if s.spec is not None] + \
            [s.trial_id for s in self._pending]

    def cancel(self) -> list[int]:
        ids = self.in_flight()
        self._pending.clear()
        for slot in self._slots:
            if slot.spec is not None:
                self._retire(slot)
        return ids

    def _retire(self, slot: _Slot) -> None:
        """Stop a slot's process without waiting (SIGTERM now, SIGKILL after the grace)."""
        proc = slot.proc
        slot.proc, slot.spec, slot.clock = None, None, None
        if slot.starting is not None:  # stopped once started
            self._abandoned.append(slot.starting)
            slot.starting = None
        if proc is not None:
            proc.terminate()
            self._dying.append((proc, time.monotonic() + self.grace))

    # -- collecting ----------------------------------------------------------------------------
    def _timeout_of(self, spec: TrialSpec) -> float | None:
        return spec.timeout or self.trial_timeout

    def _failure(self, spec: TrialSpec, slot: _Slot, error: str,
                 status: Status = Status.FAILED) -> TrialResult:
        now = time.time()
        started = slot.wall or now
        return TrialResult(trial_id=spec.trial_id, status=status, error=error, started_at=started,
                           finished_at=now, duration_s=max(now - started, 0.0), worker=slot.name,
                           devices=visible_devices(slot.env))

    def wait(self, timeout=None, deadline=None) -> list[TrialResult]:
        end = None if timeout is None else time.monotonic() + timeout
        if deadline is not None:
            end = deadline if end is None else min(end, deadline)
        while True:
            self._take_started()
            self._dispatch()
            self._reap()
            if self._results:
                out, self._results = self._results, []
                return out
            busy = [s for s in self._slots if s.spec is not None]
            if not busy:
                return []
            now = time.monotonic()
            due = [end] if end is not None else []
            for s in busy:
                t = self._timeout_of(s.spec)
                if t and s.clock is not None:
                    due.append(s.clock + t)
                elif t:
                    due.append(s.sent + self._load_limit(s.spec))
                if s.stop_at is not None:
                    due.append(s.stop_at)
            due += [kill_at for _, kill_at in self._dying]
            limit = max(min(due) - now, 0.0) if due else None
            owner: dict = {}  # what _ready hands back (a Connection, a pidfd) -> its slot
            watch = [] if self._wake is None else [self._wake[0]]
            for s in self._slots:
                if s.proc is not None:
                    for w in s.proc.waitables():
                        owner[w if isinstance(w, int) else id(w)] = s
                        watch.append(w)
            fired = _ready(watch, limit)
            hit: list[_Slot] = []
            for f in fired:
                s = owner.get(f if isinstance(f, int) else id(f))
                if s is not None and s not in hit:
                    hit.append(s)
            for s in hit:
                if s.proc is not None:
                    self._read(s)
            self._check_timeouts()
            self._take_started()
            if self._results and self._pending:
                self._dispatch()  # queued trials go to the workers just freed before returning
            if not self._results and end is not None and time.monotonic() >= end:
                self._reap()
                return []

    def _read(self, slot: _Slot) -> None:
        """Take every message a worker sent; notice its death."""
        proc = slot.proc

        def on_report(trial_id: int, report: dict) -> bool:
            if slot.spec is None or trial_id != slot.spec.trial_id:
                return True
            slot.last_report = report
            stop = self._report(trial_id, report)
            if stop and slot.stop_at is None:
                slot.stop_at = time.monotonic() + slot.spec.stop_grace
            return stop or slot.stop_at is not None

        got = proc.receive(on_report)
        if got.ready:
            self._load_failures = 0
            if slot.spawned is not None:
                self.starting_s += time.monotonic() - slot.spawned
                slot.spawned = None
            if slot.spec is not None and slot.clock is None:
                slot.clock = time.monotonic()
        for result in got.results:
            if slot.spec is not None and result.trial_id == slot.spec.trial_id:
                self._results.append(result)
                slot.spec, slot.clock = None, None
                if not got.dead and proc.finished_one():
                    self._recycle(slot)
                    return
        if got.load_error is not None:
            self._load_failures += 1
            error = f"worker could not load the problem: {got.load_error}"
            if self._load_failures >= 2 * len(self._slots):
                self._load_error = error
            if slot.spec is not None:
                self._results.append(self._failure(slot.spec, slot, error))
                slot.spec = None
        if got.dead:
            code = proc.exit_code()
            proc.kill(0.0)  # the group: children of its trial
            if slot.spec is not None:
                self._results.append(self._failure(slot.spec, slot, death_reason(code)))
            slot.proc, slot.spec, slot.clock = None, None, None
            if self._pending or self._load_error is None:
                self._spawn(slot)  # replace it now, so it is ready when the next trial comes

    def _load_limit(self, spec: TrialSpec) -> float | None:
        """How long a worker with a trial timeout may take to load the problem."""
        t = self._timeout_of(spec)
        return None if not t else max(LOAD_TIMEOUT, t)

    def _check_timeouts(self) -> None:
        now = time.monotonic()
        for slot in self._slots:
            if slot.spec is None:
                continue
            if slot.clock is None:
                limit = self._load_limit(slot.spec)
                if limit and now - slot.sent >= limit:
                    self._results.append(self._failure(
                        slot.spec, slot, f"worker did not load the problem within {limit:g} s"))
                    self._retire(slot)
                    self._spawn(slot)
                continue
            if slot.stop_at is not None and now >= slot.stop_at:
                self._results.append(stopped_result(
                    slot.spec, slot.last_report, slot.wall, slot.name,
                    error=f"ignored the stop decision for {slot.spec.stop_grace:g} s; "
                          "its worker was stopped"))
                self._retire(slot)
                self._spawn(slot)
                continue
            t = self._timeout_of(slot.spec)
            if t and now - slot.clock >= t:
                result = self._failure(slot.spec, slot, f"trial exceeded the trial timeout of {t:g} s; "
                                       "its worker was stopped", status=Status.TIMEOUT)
                result.duration_s = now - slot.clock
                self._results.append(result)
                self._retire(slot)
                self._spawn(slot)

    def _reap(self) -> None:
        now = time.monotonic()
        keep = []
        for proc, kill_at in self._dying:
            if not proc.alive():
                proc.kill(0.0)  # reaped: also SIGKILL whatever its trial left in its process group
            elif now >= kill_at:
                proc.kill(0.0)
            else:
                keep.append((proc, kill_at))
        self._dying = keep
