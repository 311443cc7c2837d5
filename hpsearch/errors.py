"""The errors a user can cause, and the one place that maps outcomes to exit codes.

Every error that is the user's input (a bad flag, problem file, run directory or
option) derives from :class:`UsageError`; the CLI prints its message as one line
and exits 2, and the Python API raises it as is. A full disk is
:class:`DiskFull` (exit 3, resumable once space is freed).

    >>> exit_code(UsageError("--eta: must be >= 2, got 1"))
    2
    >>> import signal
    >>> interrupted_exit_code(signal.SIGINT), interrupted_exit_code(signal.SIGTERM)
    (130, 143)
"""
from __future__ import annotations

import signal

__all__ = ["UsageError", "DiskFull", "exit_code", "interrupted_exit_code", "EXIT_OK", "EXIT_ALL_FAILED",
           "EXIT_USAGE", "EXIT_DISK_FULL"]

#: the run finished (or stopped at a limit) with at least one successful evaluation.
EXIT_OK = 0
#: every evaluation failed (or, for ``hps plot``, nothing to draw yet).
EXIT_ALL_FAILED = 1
#: a usage error: one line, nothing written.
EXIT_USAGE = 2
#: the disk holding the run directory is full; nothing stored is lost.
EXIT_DISK_FULL = 3


class UsageError(Exception):
    """The user's input breaks a rule; the message is one line that names it and the value."""


class DiskFull(Exception):
    """The disk holding a run directory is full; what was stored is kept (free space, then resume)."""


def exit_code(exc: BaseException) -> int:
    """The exit code ``hps`` gives for an error that ends a command."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, DiskFull):
        return EXIT_DISK_FULL
    return EXIT_ALL_FAILED


def interrupted_exit_code(signum: int | None) -> int:
    """The shell's convention for a process ended by a signal: 128 + its number (130 for Ctrl-C)."""
    return 128 + int(signum if signum is not None else signal.SIGINT)
