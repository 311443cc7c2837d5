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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .search.base import Suggestion
from .trial import FINISHED, TrialResult

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
    """One row of the ``trials`` table, decoded."""

    trial_id: int
    config_id: int
    bracket: int | None
    rung: int | None
    budget: Any
    previous_budget: Any
    params: dict
    objective: float | None
    metrics: dict
    status: str
    error: str | None
    started_at: float | None
    finished_at: float | None
    duration_s: float | None
    worker: str | None
    ask_seq: int
    ask_n: int
    tell_seq: int | None
    info: dict

    def suggestion(self) -> Suggestion:
        return Suggestion(config=self.params, config_id=self.config_id, budget=self.budget,
                          previous_budget=self.previous_budget, bracket=self.bracket,
                          rung=self.rung, info=self.info)


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
                 json.dumps(s.config), "running", ask_seq, ask_n, json.dumps(s.info) if s.info else None)
                for tid, s in zip(trial_ids, suggestions)]
        c = self.conn
        c.execute("BEGIN")
        c.executemany(
            "INSERT INTO trials (trial_id, config_id, bracket, rung, budget, previous_budget, params,"
            " status, ask_seq, ask_n, info) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        c.execute("COMMIT")
        for tid, s in zip(trial_ids, suggestions):
            self._running[tid] = StoredTrial(
                tid, s.config_id, s.bracket, s.rung, _num(s.budget), _num(s.previous_budget),
                dict(s.config), None, {}, "running", None, None, None, None, None, ask_seq, ask_n,
                None, dict(s.info))

    def finish_trial(self, result: TrialResult, tell_seq: int) -> StoredTrial:
        """Store a finished evaluation (committed), append it to results.csv, return its row."""
        c = self.conn
        c.execute("BEGIN")
        c.execute(
            "UPDATE trials SET objective=?, metrics=?, status=?, error=?, started_at=?, finished_at=?,"
            " duration_s=?, worker=?, tell_seq=? WHERE trial_id=?",
            (result.objective, json.dumps(result.metrics) if result.metrics else None, result.status,
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
        t.objective, t.metrics, t.status, t.error = r.objective, r.metrics, r.status, r.error
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
                "UPDATE trials SET status='interrupted' WHERE trial_id=? AND status='running'", ids)
            self.conn.execute("COMMIT")

    # -- reading -------------------------------------------------------------------
    _COLUMNS = ("trial_id, config_id, bracket, rung, budget, previous_budget, params, objective,"
                " metrics, status, error, started_at, finished_at, duration_s, worker, ask_seq,"
                " ask_n, tell_seq, info")

    @staticmethod
    def _decode(row: tuple) -> StoredTrial:
        r = list(row)
        r[6] = json.loads(r[6])
        r[8] = json.loads(r[8]) if r[8] else {}
        r[18] = json.loads(r[18]) if r[18] else {}
        return StoredTrial(*r)

    def get_trial(self, trial_id: int) -> StoredTrial:
        row = self.conn.execute(f"SELECT {self._COLUMNS} FROM trials WHERE trial_id=?",
                                (trial_id,)).fetchone()
        return self._decode(row)

    def trials(self, finished_only: bool = False, order: str = "trial_id") -> list[StoredTrial]:
        """Stored evaluations, by ``trial_id`` or by completion (``tell_seq``)."""
        where = f" WHERE status IN {FINISHED!r}" if finished_only else ""
        order_by = {"trial_id": "trial_id", "tell_seq": "tell_seq IS NULL, tell_seq, trial_id"}[order]
        rows = self.conn.execute(f"SELECT {self._COLUMNS} FROM trials{where} ORDER BY {order_by}")
        return [self._decode(r) for r in rows]

    def counts(self) -> dict[str, int]:
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
                + [t.status, t.error or "", _iso(t.started_at), _iso(t.finished_at),
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
        """The evaluations as a pandas DataFrame with the results.csv columns.

        A parameter inactive in an evaluation (a conditional dimension) is
        missing: NaN in a numeric column, None in another (an empty cell in
        results.csv, a key absent from the stored params).
        """
        import pandas as pd

        trials = self.trials(finished_only=finished_only, order="tell_seq")
        df = pd.DataFrame([self.csv_row(t) for t in trials], columns=self.csv_header())
        for n in self.param_names:  # an inactive dimension is missing (NaN / None), not ""
            df[f"p:{n}"] = pd.Series([t.params.get(n) for t in trials], index=df.index,
                                     dtype=None if trials else object)
        for col in ("started_at", "finished_at"):
            df[col] = pd.to_datetime(df[col].replace("", None), utc=True, format="ISO8601")
        return df


def iter_csv(path: str | os.PathLike) -> Iterator[dict]:
    """Read a results.csv back as dicts of strings."""
    with open(path, newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)
