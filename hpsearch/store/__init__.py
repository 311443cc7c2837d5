"""The run store: one SQLite database per run directory, its lock, and the run's history.

Only the run layer writes through :class:`RunStore`; every view (``hps
results``, ``plot``, ``compare``, the dashboard) reads through it.
"""
from __future__ import annotations

from .history import RunHistory, Tally
from .lock import LOCK_NAME, DirectoryInUse, RunDirLock
from .runstore import (
    CSV_FIXED_HEAD,
    CSV_FIXED_TAIL,
    CSV_NAME,
    DB_NAME,
    RunStore,
    StoredTrial,
    StoreError,
    StoreFull,
    is_run_dir,
    trained_resource,
)
from .view import Run, load_run

__all__ = ["RunStore", "StoredTrial", "StoreError", "StoreFull", "is_run_dir", "DB_NAME", "CSV_NAME",
           "CSV_FIXED_HEAD", "CSV_FIXED_TAIL", "LOCK_NAME", "DirectoryInUse", "RunDirLock",
           "RunHistory", "Tally", "trained_resource", "Run", "load_run"]
