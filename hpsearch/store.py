"""The run store: one SQLite database (WAL) per run directory, plus ``results.csv``.

Only the driver process writes. Each evaluation is inserted as ``running`` when
it is submitted and updated when it finishes, each change committed at once, so
a ``kill -9`` loses nothing that finished. ``results.csv`` is appended one row
per finished evaluation and rewritten from the database when needed (a new
metric column, a resume), so the database is always the truth.

The database also keeps the run's settings (so ``hps resume RUN_DIR`` needs no
other argument) and the order of asks and tells (``ask_seq``/``tell_seq`` on
one counter), which is what an exact resume replays.
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .search.base import Suggestion
from .trial import FINISHED, Status, TrialResult

__all__ = ["RunStore", "StoredTrial", "StoreError", "CSV_FIXED_HEAD", "CSV_FIXED_TAIL", "is_run_dir"]

DB_NAME = "results.db"
CSV_NAME = "results.csv"
SCHEMA_VERSION = 1

CSV_FIXED_HEAD = ["trial_id", "config_id", "bracket", "rung", "budget"]
CSV_FIXED_TAIL = ["status", "error", "started_at", "finished_at", "duration_s", "worker"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    trial_id INTEGER PRIMARY KEY,
    config_id INTEGER NOT NULL,
    bracket INTEGER,
    rung INTEGER,
    budget NUMERIC,
    previous_budget NUMERIC,
    params TEXT NOT NULL,
    objective REAL,
    metrics TEXT,
    status TEXT NOT NULL,
    error TEXT,
    started_at REAL,
    finished_at REAL,
    duration_s REAL,
    worker TEXT,
    ask_seq INTEGER NOT NULL,
    ask_n INTEGER NOT NULL,
    tell_seq INTEGER,
    info TEXT
);
CREATE TABLE IF NOT EXISTS reports (
    trial_id INTEGER NOT NULL, step REAL, metrics TEXT NOT NULL
);
"""


class StoreError(Exception):
    """A run directory that cannot be used as asked (a usage error)."""


def is_run_dir(path: str | os.PathLike) -> bool:
    """True if ``path`` holds a run store."""
    return (Path(path) / DB_NAME).is_file()


@dataclass
class StoredTrial:
    """One row of the ``trials`` table, decoded; built by keyword (:meth:`from_row`)."""

    trial_id: int
    config_id: int
    params: dict
    ask_seq: int
    ask_n: int
    status: Status = Status.RUNNING
    bracket: int | None = None
    rung: int | None = None
    budget: Any = None
    previous_budget: Any = None
    objective: float | None = None
    metrics: dict = field(default_factory=dict)
    error: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float | None = None
    worker: str | None = None
    tell_seq: int | None = None
    info: dict = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoredTrial:
        """From a ``trials`` row (an ``sqlite3.Row`` or a dict): JSON columns decoded, status typed."""
        values = {k: row[k] for k in row.keys()} if hasattr(row, "keys") else dict(row)
        values["params"] = json.loads(values["params"])
        for key in ("metrics", "info"):
            values[key] = json.loads(values[key]) if values.get(key) else {}
        values["status"] = Status(values["status"])
        return cls(**values)


_COLUMNS = ", ".join(f.name for f in fields(StoredTrial))


def _iso(t: float | None) -> str:
    if t is None:
        return ""
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).isoformat(timespec="milliseconds")


def _num(x: Any) -> Any:
    """Plain number for SQLite (NUMERIC keeps ints as ints)."""
    if x is None or isinstance(x, (int, float, str)):
        return x
    return x.item() if hasattr(x, "item") else x


class RunStore:
    """The run directory's database. Use :meth:`create` or :meth:`open`.

    Example:
        >>> import tempfile
        >>> s = RunStore.create(tempfile.mkdtemp() + "/run", {"algo": "random"}, ["x"])
        >>> s.settings["algo"]
        'random'
    """

    def __init__(self, run_dir: Path, conn: sqlite3.Connection):
        self.run_dir = run_dir
        self.conn = conn
        self.settings: dict = self._get_meta("settings") or {}
        self.param_names: list[str] = self._get_meta("param_names") or []
        self.metric_names: list[str] = self._get_meta("metric_names") or []
        self._csv_file = None
        self._csv_writer = None
        self._running: dict[int, StoredTrial] = {}  # submitted this session, not yet finished

    # -- opening ---------------------------------------------------------------
    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: every commit survives a crash of the process (kill -9);
        # only a power loss can drop the last commits.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    @classmethod
    def create(cls, run_dir: str | os.PathLike, settings: dict, param_names: list[str]) -> RunStore:
        """Make a new run directory (refuses one that already holds a run)."""
        run_dir = Path(run_dir)
        if is_run_dir(run_dir):
            raise StoreError(f"--run-dir {run_dir}: already holds a run; continue it with "
                             f"'hps resume {run_dir}' or choose another directory")
        run_dir.mkdir(parents=True, exist_ok=True)
        conn = cls._connect(run_dir / DB_NAME)
        conn.executescript(_SCHEMA)
        conn.execute("BEGIN")
        for key, value in (("schema_version", SCHEMA_VERSION), ("settings", settings),
                           ("param_names", list(param_names)), ("metric_names", [])):
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))
        conn.execute("COMMIT")
        store = cls(run_dir, conn)
        store.rewrite_csv()
        return store

    @classmethod
    def open(cls, run_dir: str | os.PathLike, readonly: bool = False) -> RunStore:
        """Open an existing run directory."""
        run_dir = Path(run_dir)
        if not is_run_dir(run_dir):
            raise StoreError(f"{run_dir}: not a run directory (no {DB_NAME} in it)")
        if readonly:
            # A read-write connection that refuses writes: a read-only one would leave the
            # -wal and -shm files behind when it closes (SQLite cannot delete them for it).
            path = (run_dir / DB_NAME).resolve()
            mode = "rw" if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK) else "ro"
            conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA query_only=ON")
        else:
            conn = cls._connect(run_dir / DB_NAME)
        try:
            version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{run_dir / DB_NAME}: not a readable run store ({exc})") from None
        if version is None or json.loads(version[0]) != SCHEMA_VERSION:
            raise StoreError(f"{run_dir / DB_NAME}: unknown store format {version and version[0]}")
        return cls(run_dir, conn)

    def close(self) -> None:
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = self._csv_writer = None
        self.conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- meta --------------------------------------------------------------------
    def _get_meta(self, key: str) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_meta(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def update_settings(self, **changes: Any) -> None:
        """Change stored settings (e.g. a larger ``max_evals`` on resume)."""
        self.settings.update(changes)
        self.set_meta("settings", self.settings)

    # -- writing -------------------------------------------------------------------
    def add_trials(self, trial_ids: list[int], suggestions: list[Suggestion], ask_seq: int,
                   ask_n: int) -> None:
        """Record submitted evaluations as ``running`` (one transaction)."""
        rows = [(tid, s.config_id, s.bracket, s.rung, _num(s.budget), _num(s.previous_budget),
                 json.dumps(s.config), Status.RUNNING.value, ask_seq, ask_n,
                 json.dumps(s.info) if s.info else None)
                for tid, s in zip(trial_ids, suggestions)]
        c = self.conn
        c.execute("BEGIN")
        c.executemany(
            "INSERT INTO trials (trial_id, config_id, bracket, rung, budget, previous_budget, params,"
            " status, ask_seq, ask_n, info) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        c.execute("COMMIT")
        for tid, s in zip(trial_ids, suggestions):
            self._running[tid] = StoredTrial(
                trial_id=tid, config_id=s.config_id, params=dict(s.config), ask_seq=ask_seq, ask_n=ask_n,
                bracket=s.bracket, rung=s.rung, budget=_num(s.budget),
                previous_budget=_num(s.previous_budget), info=dict(s.info))

    def finish_trial(self, result: TrialResult, tell_seq: int) -> StoredTrial:
        """Store a finished evaluation (committed), append it to results.csv, return its row."""
        c = self.conn
        c.execute("BEGIN")
        c.execute(
            "UPDATE trials SET objective=?, metrics=?, status=?, error=?, started_at=?, finished_at=?,"
            " duration_s=?, worker=?, tell_seq=? WHERE trial_id=?",
            (result.objective, json.dumps(result.metrics) if result.metrics else None,
             Status(result.status).value,
             result.error, result.started_at, result.finished_at, result.duration_s, result.worker,
             tell_seq, result.trial_id))
        if result.reports:
            c.execute("DELETE FROM reports WHERE trial_id=?", (result.trial_id,))
            c.executemany("INSERT INTO reports VALUES (?,?,?)",
                          [(result.trial_id, r.get("step"), json.dumps(r)) for r in result.reports])
        new_metrics = [m for m in result.metrics if m not in self.metric_names]
        if new_metrics:
            self.metric_names.extend(new_metrics)
            self.set_meta("metric_names", self.metric_names)
        c.execute("COMMIT")
        t = self._running.pop(result.trial_id, None) or self.get_trial(result.trial_id)
        r = result
        t.objective, t.metrics, t.status, t.error = r.objective, r.metrics, Status(r.status), r.error
        t.started_at, t.finished_at, t.duration_s = r.started_at, r.finished_at, r.duration_s
        t.worker, t.tell_seq = r.worker, tell_seq
        if new_metrics:
            self.rewrite_csv()
        else:
            self._append_csv(t)
        return t

    def mark_interrupted(self, trial_ids: Iterable[int]) -> None:
        """Mark evaluations that were cut off; ``resume`` runs them again."""
        ids = [(t,) for t in trial_ids]
        if ids:
            self.conn.execute("BEGIN")
            self.conn.executemany(
                "UPDATE trials SET status=? WHERE trial_id=? AND status=?",
                [(Status.INTERRUPTED.value, i, Status.RUNNING.value) for (i,) in ids])
            self.conn.execute("COMMIT")

    # -- reading -------------------------------------------------------------------
    def get_trial(self, trial_id: int) -> StoredTrial:
        cur = self.conn.execute(f"SELECT {_COLUMNS} FROM trials WHERE trial_id=?", (trial_id,))
        return self._decode(cur, cur.fetchone())

    def trials(self, finished_only: bool = False, order: str = "trial_id") -> list[StoredTrial]:
        """Stored evaluations, by ``trial_id`` or by completion (``tell_seq``)."""
        where = f" WHERE status IN ({', '.join('?' * len(FINISHED))})" if finished_only else ""
        order_by = {"trial_id": "trial_id", "tell_seq": "tell_seq IS NULL, tell_seq, trial_id"}[order]
        cur = self.conn.execute(f"SELECT {_COLUMNS} FROM trials{where} ORDER BY {order_by}",
                                [s.value for s in FINISHED] if finished_only else [])
        return [self._decode(cur, r) for r in cur]

    @staticmethod
    def _decode(cursor: sqlite3.Cursor, row: tuple) -> StoredTrial:
        return StoredTrial.from_row(dict(zip((c[0] for c in cursor.description), row)))

    def counts(self) -> dict[str, int]:
        """Evaluations per status (keys are the status values: ``done``, ``failed``, ...)."""
        return dict(self.conn.execute("SELECT status, COUNT(*) FROM trials GROUP BY status").fetchall())

    def next_ids(self) -> tuple[int, int]:
        """The next trial_id and the next event sequence number."""
        tid, seq_a, seq_t = self.conn.execute(
            "SELECT MAX(trial_id), MAX(ask_seq), MAX(tell_seq) FROM trials").fetchone()
        return (tid + 1 if tid is not None else 0,
                max(x for x in (seq_a, seq_t, -1) if x is not None) + 1)

    def reports(self, trial_id: int) -> list[dict]:
        rows = self.conn.execute("SELECT metrics FROM reports WHERE trial_id=? ORDER BY rowid",
                                 (trial_id,))
        return [json.loads(r[0]) for r in rows]

    # -- export --------------------------------------------------------------------
    def csv_header(self) -> list[str]:
        return (CSV_FIXED_HEAD + [f"p:{n}" for n in self.param_names] + ["objective"]
                + [f"m:{m}" for m in self.metric_names] + CSV_FIXED_TAIL)

    def csv_row(self, t: StoredTrial) -> list:
        def cell(v: Any) -> Any:
            return "" if v is None else v

        return ([t.trial_id, t.config_id, cell(t.bracket), cell(t.rung), cell(t.budget)]
                + [cell(t.params.get(n)) for n in self.param_names]
                + [cell(t.objective)]
                + [cell(t.metrics.get(m)) for m in self.metric_names]
                + [t.status.value, t.error or "", _iso(t.started_at), _iso(t.finished_at),
                   "" if t.duration_s is None else round(t.duration_s, 6), t.worker or ""])

    @property
    def csv_path(self) -> Path:
        return self.run_dir / CSV_NAME

    def rewrite_csv(self) -> None:
        """Write results.csv anew from the database: finished rows in completion order."""
        if self._csv_file is not None:
            self._csv_file.close()
        tmp = self.csv_path.with_suffix(".csv.tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(self.csv_header())
            for t in self.trials(finished_only=True, order="tell_seq"):
                w.writerow(self.csv_row(t))
        os.replace(tmp, self.csv_path)
        self._csv_file = open(self.csv_path, "a", newline="", encoding="utf-8")
        self._csv_writer = csv.writer(self._csv_file)

    def _append_csv(self, t: StoredTrial) -> None:
        if self._csv_writer is None:
            self.rewrite_csv()
            return
        self._csv_writer.writerow(self.csv_row(t))
        self._csv_file.flush()

    def dataframe(self, finished_only: bool = True):
        """The evaluations as a pandas DataFrame with the results.csv columns."""
        import pandas as pd

        rows = [self.csv_row(t) for t in self.trials(finished_only=finished_only, order="tell_seq")]
        df = pd.DataFrame(rows, columns=self.csv_header())
        for col in ("started_at", "finished_at"):
            df[col] = pd.to_datetime(df[col].replace("", None), utc=True, format="ISO8601")
        return df
