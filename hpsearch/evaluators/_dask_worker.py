"""The part of the ``dask`` evaluator that runs on Dask workers (imports ``distributed``).

- :class:`ProblemUpload` is a worker plugin holding the problem folder as zip
  bytes; every worker, including ones that join or restart later, unpacks it
  once per machine into ``$TMPDIR/hpsearch-problems-<uid>/<sha256>/<name>``
  (keyed by content, so an edited folder never meets a stale copy). That
  directory is private to the user (mode 0700, owner checked, never a
  symlink), and a copy found there is used only if its files equal the
  shipped ones (else it is unpacked again): nothing is trusted by its name.
- :func:`run_trial` is the task: it takes an idle
  :class:`~hpsearch.evaluators._worker.WorkerProcess` of this Dask worker that
  loaded the problem once (the plugin starts one per worker thread), runs the
  trial in it and gives it back. A trial past its timeout, or whose task was
  cancelled, has that process killed (and replaced next time), so the Dask
  worker itself is never blocked by user code, and a trial that crashes its
  process fails alone instead of killing the Dask worker.
"""
from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import threading
import time
import zipfile
from multiprocessing.connection import wait as wait_any
from pathlib import Path

from distributed import WorkerPlugin, get_worker

from ..problem.inline import INLINE_FILE
from ..trial import Status, TrialResult, TrialSpec, stopped_result, visible_devices
from ._worker import WorkerProcess, death_reason, read_capped, thread_env
from ._zygote import ForkServer, fork_server

__all__ = ["ProblemUpload", "run_trial", "pack_folder", "pack_inline", "unpack_folder", "LOG_LIMIT"]

#: The most bytes of a trial's output sent back to the driver (the head and the tail are kept).
LOG_LIMIT = 1 << 20
_SKIP_DIRS = {"__pycache__", ".git", ".ipynb_checkpoints"}
_CODE = (".py", ".so", ".pth", ".pyd", ".pickle")


def pack_folder(folder: Path) -> tuple[bytes, str]:
    """The folder as deterministic zip bytes, and their sha256 (skips caches and ``.pyc``)."""
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for f in sorted(names):
            if not f.endswith((".pyc", ".pyo")):
                path = Path(root) / f
                rel = path.relative_to(folder).as_posix()
                files.append((rel, path.stat().st_mode & 0o777, path.read_bytes()))
    return _zip(files)


def pack_inline(data: bytes) -> tuple[bytes, str]:
    """A problem made in Python (:func:`hpsearch.problem.inline.ship`'s bytes) as a folder's zip bytes
    holding one file, :data:`~hpsearch.problem.inline.INLINE_FILE`, and their sha256."""
    return _zip([(INLINE_FILE, 0o600, data)])


def _zip(files: list[tuple[str, int, bytes]]) -> tuple[bytes, str]:
    import hashlib

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, mode, data in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    data = buf.getvalue()
    return data, hashlib.sha256(data).hexdigest()[:20]


class UnsafeCache(RuntimeError):
    """The unpack directory is not private to this user."""


def cache_root() -> Path:
    """``$TMPDIR/hpsearch-problems-<uid>``: created 0700; refused unless ours, private, and no symlink."""
    root = Path(tempfile.gettempdir()) / f"hpsearch-problems-{os.getuid()}"
    try:
        os.mkdir(root, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(root)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise UnsafeCache(f"{root}: not a private directory of this user (owner uid {st.st_uid}, mode "
                          f"{stat.S_IMODE(st.st_mode):o}); remove it, hpsearch unpacks problem folders there")
    return root


def problem_dir(digest: str, name: str) -> Path:
    return cache_root() / digest / name


def _matches(data: bytes, target: Path) -> bool:
    """True if ``target`` holds the zip's files with the same bytes and no other code."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        expected = {i.filename: i for i in zf.infolist() if not i.is_dir()}
        found = set()
        for root, dirs, files in os.walk(target, followlinks=False):
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
            for f in files:
                if f.endswith((".pyc", ".pyo")):
                    continue
                path = Path(root) / f
                rel = path.relative_to(target).as_posix()
                if path.is_symlink():
                    return False
                if rel not in expected:
                    if f.endswith(_CODE):  # importable code that was not shipped
                        return False
                    continue  # a file the problem's own code wrote there (a data cache)
                found.add(rel)
                if path.read_bytes() != zf.read(expected[rel]):
                    return False
        return found == set(expected)


def unpack_folder(data: bytes, digest: str, name: str) -> Path:
    """Unpack once per machine into the user's private cache (atomically: concurrent workers may race).

    A copy already there is used only if it equals the shipped content.
    """
    target = problem_dir(digest, name)
    top = target.parent
    if top.is_dir():
        if target.is_dir() and _matches(data, target):
            return target
        shutil.rmtree(top, ignore_errors=True)  # stale, partial or tampered with: unpack again
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=top.parent))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            zf.extractall(tmp / name)
        try:
            os.rename(tmp, top)
        except OSError:
            if not (target.is_dir() and _matches(data, target)):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


class ProblemUpload(WorkerPlugin):
    """Ships a problem folder to every worker of the cluster and starts its trial processes early."""

    def __init__(self, data: bytes, digest: str, name: str, threads: int | None = None):
        self.data, self.digest, self.folder_name, self.threads = data, digest, name, threads
        self.name = f"hpsearch-problem-{digest}"  # how Dask names the plugin

    def setup(self, worker) -> None:
        folder = unpack_folder(self.data, self.digest, self.folder_name)
        try:
            n = int(worker.state.nthreads)
        except (AttributeError, TypeError, ValueError):
            n = 1
        with _lock:
            have = _started.get(str(folder), 0)
            for _ in range(max(n - have, 0)):
                _idle.setdefault(str(folder), []).append(_spawn(folder, self.threads))

    def teardown(self, worker) -> None:
        """The run is over: stop the idle trial processes of this folder."""
        with _lock:
            idle = _idle.pop(str(problem_dir(self.digest, self.folder_name)), [])
            _started[str(problem_dir(self.digest, self.folder_name))] = 0
            forks = list(_forks) if not any(_started.values()) else []
            if forks:
                _forks.clear()
        for proc in idle:
            proc.stop(1.0)
        for server in forks:  # no trial process left on this Dask worker
            server.close()


# Trial processes of this Dask worker process, per problem folder: idle ones wait in _idle;
# a task takes one (or starts one), gives it back after the trial unless it was killed.
_lock = threading.Lock()
_idle: dict[str, list[WorkerProcess]] = {}
_started: dict[str, int] = {}
_forks: list[ForkServer] = []  # this Dask worker's fork server (one environment at a time)


def _fork_server(env: dict) -> ForkServer | None:
    """This Dask worker process's fork server for ``env`` (started on first use; see ``_zygote``), or
    None for a single-threaded Dask worker, whose one trial process would cost a fork server as much."""
    try:
        slots = int(get_worker().state.nthreads)
    except (AttributeError, TypeError, ValueError):
        slots = 1
    if slots < 2:
        return None
    if _forks and _forks[0].serves(env):
        return _forks[0]
    for old in _forks:
        old.close()
    _forks.clear()
    forks = fork_server(env)
    if forks is not None:
        _forks.append(forks)
    return forks


def _spawn(folder: Path, threads: int | None) -> WorkerProcess:
    if threads is None and os.environ.get("OMP_NUM_THREADS", "").isdigit():
        threads = int(os.environ["OMP_NUM_THREADS"])  # what the Dask nanny chose
    _started[str(folder)] = _started.get(str(folder), 0) + 1
    env = thread_env(threads)
    return WorkerProcess(folder, env, forks=_fork_server(env))


def _take(folder: Path, threads: int | None) -> WorkerProcess:
    with _lock:
        idle = _idle.setdefault(str(folder), [])
        while idle:
            proc = idle.pop()
            if proc.alive():
                return proc
            proc.kill(0)
            _started[str(folder)] -= 1
        return _spawn(folder, threads)


def _give_back(folder: Path, proc: WorkerProcess) -> None:
    with _lock:
        if proc.alive() and not proc.worn_out:
            _idle.setdefault(str(folder), []).append(proc)
        elif proc.alive():  # ran its problem's MAX_TRIALS_PER_WORKER: let it exit, off this task
            threading.Thread(target=proc.stop, daemon=True).start()
            _started[str(folder)] -= 1
        else:
            proc.kill(0)  # reaped; SIGKILL what its trial left in its process group
            _started[str(folder)] -= 1


def _cancelled(worker, key) -> bool:
    try:
        ts = worker.state.tasks.get(key)
    except Exception:  # noqa: BLE001 - internals of distributed changed: never cancel
        return False
    return ts is None or ts.state in ("cancelled", "released", "forgotten")


class _Reports:
    """The task's side of streamed reports: forward each one to the driver as an event, answer the
    trial process at once with the stop decision known so far (the driver's named Event)."""

    def __init__(self, worker, token: str | None, spec: TrialSpec):
        self.worker, self.token, self.spec = worker, token, spec
        self.last: dict | None = None
        self.stop_at: float | None = None  # monotonic deadline once told to stop
        self._event = None

    def on_report(self, trial_id: int, report: dict) -> bool:
        """Forward a report; return the stop decision for the trial process."""
        self.last = report
        stop = self.stop_at is not None
        if self.token is not None:
            self.worker.log_event(f"hps-{self.token}-reports", (self.spec.trial_id, report))
            if not stop:
                stop = self._stopped()
        if stop and self.stop_at is None:
            self.stop_at = time.monotonic() + self.spec.stop_grace
        return stop

    def _stopped(self) -> bool:
        try:
            if self._event is None:
                from distributed import Event

                from .dask import stop_event_name

                self._event = Event(stop_event_name(self.token, self.spec.trial_id))
            return self._event.is_set()
        except Exception:  # noqa: BLE001 - no scheduler to ask: go on (the driver's timeouts still hold)
            return False


def run_trial(spec: TrialSpec, digest: str, name: str, threads: int | None,
              timeout: float | None, token: str | None = None) -> tuple[TrialResult, str]:
    """The Dask task: run one trial in this worker's reused process; return (result, its output).

    With ``token`` (the run's), the trial's reports go to the driver as events as they happen.
    """
    worker = get_worker()
    key = worker.get_current_task()
    folder = problem_dir(digest, name)
    if not folder.is_dir():
        raise RuntimeError(f"the problem folder {name} was not unpacked on this worker ({folder})")
    proc = _take(folder, threads)
    fd, log = tempfile.mkstemp(prefix=f"hps-trial-{spec.trial_id}-", suffix=".log")
    os.close(fd)
    label = f"{worker.address}/{proc.pid}"
    wall = time.time()
    clock = time.monotonic() if proc.ready else None
    result: TrialResult | None = None
    reports = _Reports(worker, token, spec)

    def failure(error: str, status: Status = Status.FAILED) -> TrialResult:
        now = time.time()
        return TrialResult(trial_id=spec.trial_id, status=status, error=error, started_at=wall,
                           finished_at=now, duration_s=now - wall, worker=label, devices=visible_devices())

    try:
        proc.send((spec, log, label))
        while result is None:
            limit = 0.5
            if timeout and clock is not None:
                limit = min(limit, max(clock + timeout - time.monotonic(), 0.0))
            if reports.stop_at is not None:
                limit = min(limit, max(reports.stop_at - time.monotonic(), 0.0))
            wait_any(proc.waitables(), limit)
            got = proc.receive(reports.on_report)
            if got.ready:
                clock, wall = time.monotonic(), time.time()
            if got.results:
                result = got.results[-1]
            if got.load_error is not None:
                result = failure(f"worker could not load the problem: {got.load_error}")
            if result is not None and not got.dead:
                proc.finished_one()
                break
            if got.dead:
                code = proc.exit_code()
                proc.kill(0)
                result = result or failure(death_reason(code))
                break
            if reports.stop_at is not None and time.monotonic() >= reports.stop_at:
                proc.kill()
                result = stopped_result(spec, reports.last, wall, label,
                                        error=f"ignored the stop decision for {spec.stop_grace:g} s; its "
                                        "worker was stopped")
                break
            if timeout and clock is not None and time.monotonic() - clock >= timeout:
                proc.kill()
                result = failure(f"trial exceeded the trial timeout of {timeout:g} s; its worker "
                                 "was stopped", status=Status.TIMEOUT)
                result.duration_s = time.monotonic() - clock
                break
            if _cancelled(worker, key):
                proc.kill()
                result = failure("cancelled")
                break
        return result, _tail(log)
    finally:
        _give_back(folder, proc)
        try:
            os.unlink(log)
        except OSError:
            pass


def _tail(path: str) -> str:
    try:
        return read_capped(path, LOG_LIMIT).decode("utf-8", "replace")
    except OSError:
        return ""
