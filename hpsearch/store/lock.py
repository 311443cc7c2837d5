"""One driver per run directory: an OS-level lock that dies with its process.

``hps run``, ``hps resume`` and ``hps compare`` hold ``RUN_DIR/.lock`` with
:func:`fcntl.flock` for as long as they write the run store; the holder's pid is
written into the file so that a second driver can name it. The kernel drops
the lock when the holder exits in any way (``kill -9`` included), so a stale
lock cannot exist. Readers (``hps results``, ``hps plot``) never take it.

A process forked by the holder (e.g. by a ``run()`` under ``--evaluator serial``)
would share the lock through its copy of the descriptor and keep it after the
holder exits: :func:`os.register_at_fork` closes that copy in every child, so the
lock belongs to the holder alone.

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> with RunDirLock(d):
    ...     try:
    ...         RunDirLock(d).acquire()
    ...     except DirectoryInUse as exc:
    ...         str(exc).endswith("already open in this process (a Study, run or store not closed yet); "
    ...                               "close it first")
    True
"""
from __future__ import annotations

import contextlib
import errno
import os
import time
import weakref
from pathlib import Path

from ..errors import UsageError

__all__ = ["RunDirLock", "DirectoryInUse", "LOCK_NAME"]

LOCK_NAME = ".lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock (the store is still crash-safe)
    fcntl = None  # type: ignore[assignment]


#: the locks this process holds (a forked child closes its copies of their descriptors)
_HELD: weakref.WeakSet[RunDirLock] = weakref.WeakSet()


def _forget_in_child() -> None:
    """In a forked child: close the inherited lock descriptors (never ``LOCK_UN``, which would
    release the parent's lock too), so the lock dies with the parent alone."""
    for lock in list(_HELD):
        if lock._fd is not None:
            with contextlib.suppress(OSError):
                os.close(lock._fd)
            lock._fd = None
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


class DirectoryInUse(UsageError):
    """Another live process holds the directory's lock (a usage error: one line, exit 2)."""


class RunDirLock:
    """An exclusive, non-blocking :func:`fcntl.flock` on ``DIR/.lock`` (the directory is created).

    Args:
        directory: the run (or comparison) directory.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunDirLock:
        """Take the lock or raise :class:`DirectoryInUse` naming the holder's pid."""
        if self._fd is not None or fcntl is None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            holder = _holder(fd)
            os.close(fd)
            if holder == os.getpid():
                raise DirectoryInUse(f"{self.directory}: already open in this process (a Study, run or "
                                     "store not closed yet); close it first") from None
            who = f"pid {holder}" if holder else "pid unknown"
            raise DirectoryInUse(f"{self.directory}: in use by another hps process ({who})") from None
        with contextlib.suppress(OSError):  # the pid is informative only (a full disk must not stop us)
            text = f"{os.getpid()}\n".encode()
            os.pwrite(fd, text, 0)
            os.ftruncate(fd, len(text))
        self._fd = fd
        _HELD.add(self)
        return self

    def release(self) -> None:
        """Drop the lock (the file stays: removing it would race with a new holder)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        _HELD.discard(self)

    def __enter__(self) -> RunDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holder(fd: int, wait: float = 1.0) -> int | None:
    """The holder's pid: a new holder may not have replaced its predecessor's pid yet, so wait a
    little for the file to name a live process."""
    end = time.monotonic() + wait
    while True:
        pid = _read_pid(fd)
        if pid is not None and _alive(pid):
            return pid
        if time.monotonic() >= end:
            return None
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
