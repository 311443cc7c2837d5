"""The store's own errors, and telling a full disk apart from other I/O errors."""
from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from ..errors import DiskFull, UsageError

__all__ = ["StoreError", "StoreFull", "is_disk_full", "free_bytes", "NEARLY_FULL_BYTES"]


class StoreError(UsageError):
    """A run directory that cannot be used as asked (a usage error)."""


class StoreFull(DiskFull):
    """The disk holding the run directory is full: nothing stored is lost, resume once space is freed."""


#: below this much free space, an I/O error from SQLite is taken for a full disk.
NEARLY_FULL_BYTES = 1 << 20


def is_disk_full(exc: BaseException, where: Path | None = None) -> bool:
    """True if ``exc`` means the disk is full.

    SQLite reports a full disk as SQLITE_FULL, but as a bare "disk I/O error"
    (SQLITE_IOERR) when the shared-memory or journal file cannot grow, as on a
    nearly full tmpfs; that case is told apart by the free space left at ``where``.
    """
    if isinstance(exc, sqlite3.OperationalError):
        if getattr(exc, "sqlite_errorcode", None) == 13 or "full" in str(exc):  # SQLITE_FULL
            return True
        ioerr = getattr(exc, "sqlite_errorcode", 0) & 0xFF == 10 or "disk I/O error" in str(exc)
        return ioerr and where is not None and free_bytes(where) < NEARLY_FULL_BYTES
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def free_bytes(path: Path) -> int:
    try:
        st = os.statvfs(path)
    except OSError:
        return NEARLY_FULL_BYTES  # unknown: not taken for full
    return st.f_bavail * st.f_frsize
