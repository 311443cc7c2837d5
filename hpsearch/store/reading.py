"""Opening a run store for reading: every committed row, and nothing written beside it.

Readers (``hps results``, ``plot``, ``compare``, the dashboard) may run while a
driver writes, after a ``kill -9``, on a copy made without its ``-shm`` file,
or on read-only storage; :func:`connect_readonly` sees every committed row in
all of these cases and never creates, changes, deletes or checkpoints a file.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import time
import urllib.parse
import weakref
from pathlib import Path
from typing import Any

from .errors import StoreError

__all__ = ["connect_readonly"]


def _files(path: Path) -> tuple:
    """``(inode, size, mtime)`` of the database, its -wal and its -shm (None for a missing file)."""
    out = []
    for suffix in ("", "-wal", "-shm"):
        try:
            st = os.stat(f"{path}{suffix}")
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


#: SQLITE_READONLY_RECOVERY and _CANTINIT: a reader whose -shm is read-only cannot rebuild the WAL
#: index, so while a driver that has just started rebuilds it, a read fails with these; it is retried.
_WAIT_CODES = (264, 1288)
_WAIT_S = 5.0


def _recovering(exc: sqlite3.OperationalError, sql: str) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code in _WAIT_CODES
    return "readonly" in str(exc) and sql.lstrip()[:6].upper() == "SELECT"  # Python 3.10: no error codes


class _Reader(sqlite3.Connection):
    """A read-only connection that waits (up to ``_WAIT_S``) while a driver starting up rebuilds the
    WAL index, instead of failing a read."""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        waited, pause = 0.0, 0.002
        while True:
            try:
                return super().execute(sql, parameters)
            except sqlite3.OperationalError as exc:
                if waited >= _WAIT_S or not _recovering(exc, sql):
                    raise
            time.sleep(pause)
            waited += pause
            pause = min(2 * pause, 0.1)


class _PrivateCopy(_Reader):
    """A connection to a private copy of a database; the copy's folder goes when it closes."""

    cleanup: Any = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.cleanup is not None:
                self.cleanup()


def _open_ro(path: Path, query: str, factory: type = _Reader) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{urllib.parse.quote(str(path))}?{query}", uri=True, isolation_level=None,
                           check_same_thread=False, factory=factory)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _read_copy(path: Path, shown: Path) -> sqlite3.Connection | None:
    """The database and its -wal copied to a private temporary folder and opened there
    (None when the files changed during the copy)."""
    before = _files(path)
    folder = tempfile.mkdtemp(prefix="hps-read-")
    try:
        for suffix in ("", "-wal"):
            shutil.copyfile(f"{path}{suffix}", os.path.join(folder, path.name + suffix))
        if _files(path) != before:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        conn = _open_ro(Path(folder) / path.name, "mode=ro", _PrivateCopy)
    except FileNotFoundError:  # a driver came and went: look again
        shutil.rmtree(folder, ignore_errors=True)
        return None
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if str(exc.filename).startswith(str(path)):
            raise StoreError(f"{shown}: cannot read {exc.filename} ({exc.strerror})") from None
        size = sum(s[1] for s in before[:2] if s) / 1e6
        raise StoreError(f"{shown}: reading it needs a private copy of it and its -wal, and copying them to "
                         f"{tempfile.gettempdir()} failed ({exc.strerror}); set TMPDIR to a folder with "
                         f"{size:.0f} MB free") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    conn.cleanup = weakref.finalize(conn, shutil.rmtree, folder, True)
    return conn


def connect_readonly(path: Path, shown: Path) -> sqlite3.Connection:
    """A connection that sees every committed row and never writes, also on read-only storage.

    Nothing beside the database is created, changed or deleted, and nothing is
    checkpointed (a driver may start at any time):

    - a -wal and a -shm: ``mode=ro`` with the -shm read-only; SQLite uses a live
      driver's index, or else indexes the -wal in private memory (a read waits
      while a driver starting up rebuilds the index: :class:`_Reader`);
    - no -wal (or an empty one): every committed row is in the database file,
      opened ``immutable=1`` (nothing is created beside it);
    - a -wal without a -shm (copied without it): SQLite could read the -wal only
      by creating a -shm, so the database and its -wal are read from a private
      copy in a temporary folder, removed when the connection closes.

    Raises:
        StoreError: naming ``shown``: the database cannot be read, or its files kept changing.
    """
    path = path.resolve()
    for _ in range(5):
        seen = _files(path)
        _, wal, shm = seen
        try:
            if wal is not None and shm is not None:
                with contextlib.suppress(sqlite3.OperationalError):  # an SQLite too old for it: a copy
                    return _open_ro(path, "mode=ro&readonly_shm=1")
            elif wal is None or wal[1] == 0:
                conn = _open_ro(path, "mode=ro&immutable=1")
                if _files(path)[1:] == seen[1:]:
                    return conn
                conn.close()  # a driver started meanwhile: open again as its files now need
                continue
            conn = _read_copy(path, shown)
            if conn is not None:
                return conn
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{shown}: not a readable run store ({exc})") from None
    raise StoreError(f"{shown}: its files kept changing while being opened for reading; try again")
