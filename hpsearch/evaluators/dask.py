"""The ``dask`` evaluator: trials run on a Dask cluster.

``--evaluator dask --dask-scheduler tcp://HOST:PORT`` (or ``--dask-scheduler PATH``
to a scheduler file) connects to a running cluster; without ``--dask-scheduler`` a
``LocalCluster`` of ``--workers`` single-threaded worker processes is started
and closed with the run. Dask is imported only when this evaluator is chosen.

How it works:

- The problem folder is zipped and registered as a worker plugin, so every
  worker (also one that joins or restarts later, on any machine) unpacks it once
  into a local cache keyed by the folder's content hash. No shared file system
  is needed.
- Each Dask worker keeps one reused child process per thread that loaded the
  problem once (the same worker process as the ``process`` evaluator, started
  by the plugin as the worker joins) and runs each trial there.
  ``--trial-timeout`` is enforced on the worker: the overrunning child is
  killed (SIGTERM, then SIGKILL), the evaluation is ``timeout``, and the next
  trial gets a fresh child (the clock starts once the child has loaded the
  problem). This keeps Dask workers healthy without
  ``client.restart_workers``, and a trial that crashes its process
  (``os._exit``, a segfault) is ``failed`` alone.
- A lost Dask worker (machine gone, process killed) loses only the trial it
  was running, which is retried elsewhere (see below).
- Trials send back their result and output; the driver writes the output to
  ``RUN_DIR/logs/trial-<id>.log`` and stays the only writer of the run store.
  Checkpoint directories (``trial.checkpoint_dir``) live under the driver's run
  directory: on machines that do not share it, warm start works only where the
  directory is reachable (put the run directory on shared storage).

Reports (``trial.report``) stream through Dask's event API: the task on the
Dask worker answers its trial process at once and forwards each report with
``Worker.log_event`` on a topic of this run; the driver subscribes to it, and
when the engine decides to stop a trial it sets a named ``distributed.Event``,
which the task checks at the trial's next report. So on Dask ``trial.report``
returns True at the report *after* the one that caused the decision. A trial
that goes on reporting for ``stop_grace`` seconds after it was told to stop has
its process killed and is stored ``stopped`` with its last report. Reports an
event did not deliver before the trial's result are taken from the result.

With 4 slots or more, one trial per 4 slots waits on the Dask scheduler
beyond the slots, so a worker that finishes a trial starts the next one
without a round trip through the driver (the searcher sees those trials as
pending, as it sees the running ones).

With a running cluster, capacity (evaluations kept in flight) is the larger of
``--workers`` and the cluster's worker threads, followed while the run goes on
(looked up at most once a second): a worker that joins during the run gets
trials at once, and one that leaves lowers it again (never below ``--workers``).

A Dask worker that dies (its machine, its process killed) takes only the trial
it was running: Dask reschedules that task on another worker, where the trial
runs again from its start (the reports it streamed before are kept, the new run's follow them).
A trial whose workers die ``distributed.scheduler.allowed-failures`` times
(default 3, a setting of the Dask scheduler) is stored ``failed``
(``KilledWorker``), and the search goes on.

GPUs: ``--gpus-per-trial K`` submits every trial with the Dask resource
``{"GPU": K}``, so it runs only on a worker started with ``--resources GPU=N``
(N >= K) and the scheduler never gives one worker's GPUs to two trials at once;
the trial process sees the devices of its Dask worker (its
``CUDA_VISIBLE_DEVICES``). Capacity is then the trials the cluster's GPUs can
hold at once (at least ``--workers``).
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections import deque
from pathlib import Path

from ..problem.inline import ship
from ..problem.loader import LoadedProblem
from ..trial import Status, TrialResult, TrialSpec
from .base import Evaluator, EvaluatorError
from .process import default_threads


def stop_event_name(token: str, trial_id: int) -> str:
    """The ``distributed.Event`` the driver sets to stop one trial of a run."""
    return f"hps-{token}-stop-{trial_id}"

__all__ = ["DaskEvaluator"]

#: Slots per trial kept queued on the Dask scheduler beyond the cluster's slots (see ``queued``).
QUEUE_PER = 4  # 16 kept 32 slots at ~80 % busy with 0.2-1 s trials, 4 at ~89 % (bench_utilisation)
INSTALL_HINT = '--evaluator dask needs Dask, which is not installed: pip install "hpsearch[dask]"'
_ADDRESS = re.compile(r"^([a-z0-9+]+://)?[^\s:/]+(:\d+)?/?$", re.IGNORECASE)


class DaskEvaluator(Evaluator):
    """Runs trials on a Dask cluster (a running one, or a ``LocalCluster`` it starts).

    Args:
        dask_scheduler: ``tcp://HOST:PORT`` or a scheduler file; None starts a LocalCluster.
        connect_timeout: seconds to wait for the Dask scheduler.
        loaded: a problem made in Python (``folder`` None): shipped as the bytes of
            :func:`hpsearch.problem.inline.ship` in place of a folder; its ``run`` must import
            on the cluster's machines (a module on their ``sys.path``).
    """

    name = "dask"

    def __init__(self, folder, workers=1, trial_timeout=None, run_dir=None,
                 dask_scheduler: str | None = None, threads_per_worker: int | None = None,
                 connect_timeout: float = 30.0, gpus_per_trial: int = 0,
                 loaded: LoadedProblem | None = None, **options):
        super().__init__(folder, workers, trial_timeout, run_dir, **options)
        self._inline: tuple[bytes, str] | None = None  # a problem made in Python: (its bytes, its name)
        if loaded is not None and loaded.folder is None:
            self._inline = (ship(loaded, "dask"), loaded.name)
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise EvaluatorError(INSTALL_HINT) from None
        if workers < 1:
            raise EvaluatorError(f"--workers must be >= 1, got {workers}")
        if dask_scheduler is not None:
            dask_scheduler = str(dask_scheduler).strip()
            if not (Path(dask_scheduler).expanduser().is_file() or _ADDRESS.match(dask_scheduler)):
                raise EvaluatorError(f"--dask-scheduler: expected an address such as tcp://HOST:PORT or an "
                                     f"existing scheduler file, got {dask_scheduler!r}")
        if gpus_per_trial and dask_scheduler is None:
            raise EvaluatorError(f"--gpus-per-trial {gpus_per_trial} with --evaluator dask needs "
                                 "--dask-scheduler: a cluster whose workers were started with --resources "
                                 "GPU=N")
        self.dask_scheduler = dask_scheduler
        self.gpus_per_trial = gpus_per_trial
        self.connect_timeout = connect_timeout
        self.threads = threads_per_worker or (default_threads(workers) if dask_scheduler is None else None)
        if dask_scheduler is not None and "HPS_THREADS_PER_WORKER" in os.environ:
            self.threads = default_threads(workers)
        self._capacity = workers
        self._looked = 0.0  # monotonic time the cluster's size was last looked up
        self._client = None
        self._cluster = None
        self._futures: dict = {}  # key -> (future, spec)
        self._done = None  # distributed.as_completed: gathers results as they finish
        self._token = secrets.token_hex(4)
        self._digest = self._name = None
        self._topic = f"hps-{self._token}-reports"
        self._inbox: deque = deque()  # (trial_id, report) from the event subscription
        self._stopping: set[int] = set()  # trials whose stop Event is set

    @property
    def capacity(self) -> int:
        """Evaluations to keep in flight: ``--workers``, or the running cluster's slots if more, as
        workers join or leave (looked up at most once a second)."""
        if self._client is not None and self._cluster is None and time.monotonic() - self._looked >= 1.0:
            self._looked = time.monotonic()
            try:
                self._capacity = max(self.workers, self._slots_on_cluster(strict=False))
            except Exception:  # noqa: BLE001 - the scheduler is busy or gone: keep the last size
                pass
        return self._capacity

    @property
    def queued(self) -> int:
        """One trial queued on the Dask scheduler per 4 slots (none below 4): a worker that frees
        takes it from the scheduler at once instead of after a round trip through the driver."""
        return self._capacity // QUEUE_PER

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._client is not None:
            return
        from distributed import Client, LocalCluster

        from ._dask_worker import ProblemUpload, pack_folder, pack_inline

        if self._inline is None:
            data, self._digest = pack_folder(self.folder)
            self._name = self.folder.name
        else:
            data, self._digest = pack_inline(self._inline[0])
            self._name = self._inline[1]
        upload = ProblemUpload(data, self._digest, self._name, self.threads)
        if self.dask_scheduler is None:
            # the plugin goes in with the workers: they unpack the folder and start their trial
            # processes while the cluster is still starting
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR,
                                         plugins={upload})
            self._client = Client(self._cluster)
            self._new_queue()
            self._subscribe()
            return
        path = Path(self.dask_scheduler).expanduser()
        try:
            if path.is_file():
                self._client = Client(scheduler_file=str(path), timeout=self.connect_timeout)
            else:
                self._client = Client(self.dask_scheduler, timeout=self.connect_timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise EvaluatorError(f"--dask-scheduler {self.dask_scheduler}: cannot connect to a Dask "
                                 f"scheduler ({type(exc).__name__}: {first})") from None
        self._capacity = max(self.workers, self._slots_on_cluster())
        self._looked = time.monotonic()
        self._client.register_plugin(upload, name=upload.name)
        self._new_queue()
        self._subscribe()

    def _subscribe(self) -> None:
        self._client.subscribe_topic(self._topic, self._on_event)

    def _on_event(self, event) -> None:
        """In the client's event loop: queue the report and wake :meth:`wait`."""
        self._inbox.append(event[1])
        done = self._done
        if done is not None:
            with done.thread_condition:
                done.thread_condition.notify_all()

    def _drain_reports(self) -> None:
        """Hand queued reports to the engine; set the stop Event of trials it stops."""
        from distributed import Event

        flying = {spec.trial_id for _, spec in self._futures.values()}
        while self._inbox:
            trial_id, report = self._inbox.popleft()
            if trial_id not in flying:
                continue  # its result came first: the engine takes the report from the result
            if self._report(trial_id, report) and trial_id not in self._stopping:
                self._stopping.add(trial_id)
                Event(stop_event_name(self._token, trial_id), client=self._client).set()

    def _clear_stop(self, trial_id: int) -> None:
        from distributed import Event

        try:  # a cleared Event nobody waits on is deleted, so a long-lived cluster does not pile them up
            Event(stop_event_name(self._token, trial_id), client=self._client).clear()
        except Exception:  # noqa: BLE001 - best effort: a leftover Event only costs the scheduler memory
            pass

    def _slots_on_cluster(self, strict: bool = True) -> int:
        """Trials the cluster can run at once: its threads, or with GPUs per trial its GPU slots.

        ``strict``: a cluster without a worker that offers the GPUs is an error (when the run starts).
        """
        info = self._client.scheduler_info()["workers"].values()
        if not self.gpus_per_trial:
            return sum(w.get("nthreads", 1) for w in info)
        k = self.gpus_per_trial
        slots = sum(min(w.get("nthreads", 1), int(w.get("resources", {}).get("GPU", 0) // k)) for w in info)
        if slots == 0 and strict:
            self.close()
            raise EvaluatorError(f"--gpus-per-trial {k}: no worker of the cluster at {self.dask_scheduler} "
                                 f"offers {k} GPU(s); start workers with CUDA_VISIBLE_DEVICES=... dask "
                                 f"worker ... --resources GPU={k}")
        return slots

    def _new_queue(self) -> None:
        from distributed import as_completed

        self._done = as_completed([], with_results=True, raise_errors=False)

    def close(self) -> None:
        if self._client is not None and self._futures:
            try:
                self._client.cancel([f for f, _ in self._futures.values()])
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        self._futures.clear()
        if self._client is not None and self._cluster is None and self._digest is not None:
            try:  # a running cluster outlives the run: stop this run's idle trial processes there
                self._client.unregister_worker_plugin(f"hpsearch-problem-{self._digest}")
            except Exception:  # noqa: BLE001 - best effort at shutdown
                pass
        for thing in (self._client, self._cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001 - best effort at shutdown
                    pass
        self._client = self._cluster = None

    # -- trials --------------------------------------------------------------------------------
    def submit(self, spec: TrialSpec) -> None:
        if self._client is None:
            self.start()
        from ._dask_worker import run_trial

        timeout = spec.timeout or self.trial_timeout
        key = f"hps-{self._token}-trial-{spec.trial_id}"
        resources = {"GPU": self.gpus_per_trial} if self.gpus_per_trial else None
        fut = self._client.submit(run_trial, spec, self._digest, self._name, self.threads, timeout,
                                  self._token, key=key, pure=False, resources=resources)
        self._futures[key] = (fut, spec)
        self._done.add(fut)

    def in_flight(self) -> list[int]:
        return [spec.trial_id for _, spec in self._futures.values()]

    def cancel(self) -> list[int]:
        ids = self.in_flight()
        if self._futures:
            try:
                self._client.cancel([f for f, _ in self._futures.values()])
            except Exception:  # noqa: BLE001 - the cluster may be gone already
                pass
        self._futures.clear()
        if self._client is not None:
            self._new_queue()
        return ids

    def wait(self, timeout=None, deadline=None) -> list[TrialResult]:
        if not self._futures:
            return []
        limit = timeout
        if deadline is not None:
            left = max(deadline - time.monotonic(), 0.0)
            limit = left if limit is None else min(limit, left)
        self._drain_reports()
        done = self._done
        # as_completed fetches each result in the client's event loop the moment it finishes and
        # notifies thread_condition; sleeping on it saves a round trip per trial over wait()+result()
        with done.thread_condition:
            if done.queue.empty() and not self._inbox:
                done.thread_condition.wait(limit)
        self._drain_reports()
        out = []
        for fut, value in done.next_batch(block=False):
            if fut.key in self._futures:
                out.append(self._collect(fut, value))
        return out

    def _collect(self, fut, value) -> TrialResult:
        _, spec = self._futures.pop(fut.key)
        if spec.trial_id in self._stopping:  # its stop Event has done its job: forget it on the scheduler
            self._stopping.discard(spec.trial_id)
            self._clear_stop(spec.trial_id)
        now = time.time()
        if fut.status == "finished":
            result, output = value
            if output and self.run_dir is not None:
                logs = Path(self.run_dir) / "logs"
                logs.mkdir(parents=True, exist_ok=True)
                (logs / f"trial-{spec.trial_id}.log").write_text(output)
        else:
            error = f"dask task {fut.status}"
            if fut.status == "error":
                exc = fut.exception()
                if type(exc).__name__ == "KilledWorker":
                    error = (f"dask worker lost while running this trial, too many times "
                             f"(KilledWorker: {exc})")
                else:
                    error = f"dask task failed: {type(exc).__name__}: {exc}"
            result = TrialResult(trial_id=spec.trial_id, status=Status.FAILED, error=error, started_at=now,
                                 finished_at=now, duration_s=0.0, worker="dask")
        fut.release()
        return result
