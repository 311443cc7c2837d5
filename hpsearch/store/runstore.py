"""The run store: one SQLite database (WAL) per run directory, plus ``results.csv``.

Only the driver process writes. Each evaluation is inserted as ``running`` when
it is submitted and updated when it finishes, each change committed at once, so
a ``kill -9`` loses nothing that finished. ``results.csv`` is appended one row
per finished evaluation and rewritten from the database when needed (a new
metric column, a resume), so the database is always the truth.

The database also keeps the run's settings (so ``hps resume RUN_DIR`` needs no
other argument) and the order of asks and tells (``ask_seq``/``tell_seq`` on
one counter), which is what an exact resume replays.

``trials.devices`` holds the GPU ids an evaluation ran on (comma-separated,
NULL on CPU); it is not a results.csv column (that layout is fixed) and
``hps results`` shows it when any evaluation has devices. Stores made before
it existed get the column when first opened for writing. The table
``virtual_times`` holds the simulated evaluator's virtual start and end of each
finished trial (read as :attr:`StoredTrial.virtual_start` and ``virtual_end``,
None for other evaluators); a store made before it gets it when first opened
for writing, and reads None for them when opened read-only.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

from ..problem.objective import objectives_of
from ..trial import FINISHED, Status, TrialResult
from .errors import StoreError, StoreFull, is_disk_full
from .front import Front
from .lock import DirectoryInUse, RunDirLock
from .reading import connect_readonly

__all__ = ["RunStore", "StoredTrial", "StoreError", "StoreFull", "CSV_FIXED_HEAD", "CSV_FIXED_TAIL",
           "is_run_dir", "trained_resource"]

DB_NAME = "results.db"
CSV_NAME = "results.csv"
SCHEMA_VERSION = 1

CSV_FIXED_HEAD = ["trial_id", "config_id", "bracket", "rung", "budget"]
CSV_FIXED_TAIL = ["status", "error", "started_at", "finished_at", "duration_s", "worker"]

#: The simulated evaluator's virtual times, one row per finished trial that has them (a table of its own,
#: so the trials table of a store made before it keeps its columns).
_VIRTUAL_TABLE = ("CREATE TABLE IF NOT EXISTS virtual_times "
                  "(trial_id INTEGER PRIMARY KEY, virtual_start REAL, virtual_end REAL);")
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
    info TEXT,
    step_reached NUMERIC,
    devices TEXT
);
CREATE TABLE IF NOT EXISTS reports (
    trial_id INTEGER NOT NULL, step REAL, metrics TEXT NOT NULL, seq INTEGER
);
""" + _VIRTUAL_TABLE
#: Columns added after the first release of the format (nullable; added on open for writing).
_ADDED_COLUMNS = (("trials", "step_reached", "NUMERIC"), ("trials", "devices", "TEXT"),
                  ("reports", "seq", "INTEGER"))


class Submission(Protocol):
    """What the store records of an evaluation when it is submitted (a search ``Suggestion`` is one).

    The store states what it needs rather than importing the search layer's type:
    the search sits above the store and may change its own classes freely.
    """

    config: dict
    config_id: int
    budget: Any
    previous_budget: Any
    bracket: int | None
    rung: int | None
    info: dict


def is_run_dir(path: str | os.PathLike) -> bool:
    """True if ``path`` holds a run store."""
    return (Path(path) / DB_NAME).is_file()


def trained_resource(status: str, budget: Any, previous_budget: Any, step_reached: Any) -> float:
    """Resource an evaluation trained: ``budget - previous_budget``, or up to ``step_reached``
    for a ``stopped`` one (0 without a resource, or for a stopped one that never reported).

    What every view charges an evaluation (:attr:`StoredTrial.resource_used`).

    >>> trained_resource("done", 9, 3, None), trained_resource("stopped", 9, 3, 5)
    (6.0, 2.0)
    """
    if budget is None:
        return 0.0
    full = float(budget) - float(previous_budget or 0)
    if status != Status.STOPPED:
        return full
    if step_reached is None:
        return 0.0
    return min(max(float(step_reached) - float(previous_budget or 0), 0.0), full)


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
    step_reached: Any = None  # the last reported step (where a ``stopped`` trial ended)
    devices: list[str] | None = None  # the GPU ids it ran on; None or empty on CPU
    #: when it started and ended on the simulated evaluator's virtual clock (seconds); None elsewhere
    virtual_start: float | None = None
    virtual_end: float | None = None

    @property
    def resource_used(self) -> float:
        """Resource this evaluation trained (:func:`trained_resource`)."""
        return trained_resource(self.status, self.budget, self.previous_budget, self.step_reached)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoredTrial:
        """From a ``trials`` row (an ``sqlite3.Row`` or a dict): JSON columns decoded, status typed."""
        values = {k: row[k] for k in row.keys()} if hasattr(row, "keys") else dict(row)
        values["params"] = json.loads(values["params"])
        for key in ("metrics", "info"):
            values[key] = json.loads(values[key]) if values.get(key) else {}
        values["status"] = Status(values["status"])
        values["devices"] = values["devices"].split(",") if values.get("devices") else []
        return cls(**values)


_COLUMNS = ", ".join(f.name for f in fields(StoredTrial))
_FROM = "trials LEFT JOIN virtual_times USING (trial_id)"


def _lock(run_dir: Path, shown: Path) -> RunDirLock:
    try:
        return RunDirLock(run_dir).acquire()
    except DirectoryInUse as exc:
        raise StoreError(f"{shown}: {str(exc).partition(': ')[2]}") from None
    except OSError as exc:
        if is_disk_full(exc):
            raise StoreFull(f"{shown}: the disk is full ({exc}); nothing was stored") from None
        raise StoreError(f"{shown}: cannot use this directory ({exc.strerror})") from None


def _remove_db(run_dir: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            (run_dir / (DB_NAME + suffix)).unlink()


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

    def __init__(self, run_dir: Path, conn: sqlite3.Connection, lock: RunDirLock | None = None,
                 shown: Path | None = None):
        self.run_dir = run_dir  # absolute
        self.conn = conn
        self.lock = lock  # held by a writing store (the driver) until close()
        self.shown = shown or run_dir  # as the user wrote it, for messages
        self.db_path = self.shown / DB_NAME
        with self._reading():
            self.settings: dict = self._get_meta("settings") or {}
            self.param_names: list[str] = self._get_meta("param_names") or []
            self.metric_names: list[str] = self._get_meta("metric_names") or []
            #: the search scheduler said it was done (nothing would run on a resume)
            self.completed: bool = bool(self._get_meta("completed"))
            #: why the run's last session ended, one line (None: it has not ended yet, or an older release)
            self.ended: str | None = self._get_meta("ended")
        self._csv_file = None
        self._csv_writer = None
        self._front: Front | None = None  # a multi-objective run's Pareto front, built on first use
        self._running: dict[int, StoredTrial] = {}  # submitted this session, not yet finished
        self._select = _COLUMNS  # the trials columns to read (NULL for ones an old read-only store lacks)
        self._from = _FROM  # the trials with their virtual times (the trials alone: an old read-only store)
        self._pid = os.getpid()  # the one process that writes through this connection
        self._migrate()

    # -- what every view reads from the settings ---------------------------------------
    @property
    def space(self) -> dict:
        """The stored search space (``HpProblem.to_dict``); empty when the settings hold none."""
        space = self.settings.get("space")
        return space if isinstance(space, dict) else {}

    @property
    def objective(self) -> str:
        """The objective's name (``objective`` when the settings do not say)."""
        return self.space.get("objective") or "objective"

    @property
    def direction(self) -> str:
        """``maximize`` or ``minimize`` (``maximize`` when the settings do not say, as ``HpProblem``)."""
        return self.space.get("direction") or "maximize"

    @property
    def optimum(self) -> float | None:
        """The problem's known optimum, or None."""
        return self.space.get("optimum")

    @property
    def objectives(self) -> dict[str, str]:
        """Every objective, name -> direction (one for a single-objective run or an older store)."""
        return objectives_of(self.space)

    @property
    def multi_objective(self) -> bool:
        """True for a run of a problem with two or more objectives."""
        return len(self.objectives) > 1

    @property
    def reference_point(self) -> dict[str, float] | None:
        """The problem's declared reference point (objective -> value in its own units), or None."""
        ref = self.space.get("reference_point")
        return dict(ref) if isinstance(ref, dict) else None

    @property
    def hypervolume_optimum(self) -> float | None:
        """The declared hypervolume of the true front (against :attr:`reference_point`), or None."""
        return self.space.get("hypervolume_optimum")

    @property
    def multi_fidelity(self) -> bool:
        """Whether the run's scheduler is multi-fidelity (a larger budget then ranks first).

        A store without the setting (written by hand) is multi-fidelity when any of its
        evaluations has a rung.
        """
        if "multi_fidelity" in self.settings:
            return bool(self.settings["multi_fidelity"])
        with self._reading():
            row = self.conn.execute("SELECT 1 FROM trials WHERE rung IS NOT NULL LIMIT 1").fetchone()
        return row is not None

    @property
    def max_resource(self) -> float | None:
        """The most resource one configuration gets: the run's ``--max-resource`` if given, else the
        upper bound of the problem's resource dimension; None for a problem without a resource."""
        given = (self.settings.get("algo_options") or {}).get("max_resource")
        if given is not None:
            return given
        dim = next((d for d in self.space.get("dims", []) if d.get("resource")), None)
        if dim is None:
            return None
        return dim["high"] if "high" in dim else max(dim.get("values") or [None])

    def _migrate(self) -> None:
        """Add the columns newer versions write to a store made by an older one (writable stores)."""
        for table, column, kind in _ADDED_COLUMNS:
            have = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                try:
                    self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                except sqlite3.OperationalError:  # a read-only store: read NULL instead
                    self._select = self._select.replace(f", {column}", f", NULL AS {column}")
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "virtual_times" not in tables:
            try:
                self.conn.execute(_VIRTUAL_TABLE)
            except sqlite3.OperationalError:  # a read-only store
                self._from = "trials"
                for column in ("virtual_start", "virtual_end"):
                    self._select = self._select.replace(f", {column}", f", NULL AS {column}")

    # -- errors at the boundary ------------------------------------------------------
    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """A damaged database or row becomes one line naming the file and what is wrong."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.db_path}: not a readable run store ({exc})") from None
        except (ValueError, TypeError, KeyError) as exc:  # JSONDecodeError is a ValueError
            raise StoreError(f"{self.db_path}: damaged row ({type(exc).__name__}: {exc})") from None

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A full disk becomes :class:`StoreFull` (the open transaction is rolled back).

        A process forked from the writer (e.g. by a trial's ``run()``) may not write.
        """
        if os.getpid() != self._pid:
            raise StoreError(f"{self.shown}: only the process that opened the run store (pid {self._pid}) "
                             f"writes it, not pid {os.getpid()}, a process forked from it")
        try:
            yield
        except (sqlite3.OperationalError, OSError) as exc:
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            if is_disk_full(exc, self.run_dir):
                raise StoreFull(f"{self.shown}: the disk is full ({exc}); nothing stored is lost: "
                                f"free some space, then 'hps resume {self.shown}'") from None
            raise

    # -- opening ---------------------------------------------------------------------------
    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: every commit survives a crash of the process (kill -9);
        # only a power loss can drop the last commits.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    @staticmethod
    def _state(run_dir: Path) -> str:
        """``complete``; ``empty`` (creation failed before the settings were committed, no trial
        stored: safe to replace); ``damaged`` (trials without settings); ``unreadable: why``."""
        try:
            conn = sqlite3.connect(f"file:{(run_dir / DB_NAME).resolve()}?mode=ro", uri=True)
            try:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                settings = None
                if "meta" in tables:
                    settings = conn.execute("SELECT value FROM meta WHERE key='settings'").fetchone()
                trials = 0
                if "trials" in tables:
                    trials = conn.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return f"unreadable: {exc}"
        if settings is not None:
            return "complete"
        return "damaged" if trials else "empty"

    @classmethod
    def create(cls, run_dir: str | os.PathLike, settings: dict, param_names: list[str],
               warm_start: dict | None = None) -> RunStore:
        """Make a new run directory and hold its lock (refuses one that already holds a run).

        A store whose creation failed half-way (no settings committed) is replaced.
        ``warm_start``: the evaluations of earlier runs the search starts from and where they
        came from (see :meth:`warm_start`), stored with the settings in one transaction.

        Raises:
            StoreError: the directory holds a run, or another process holds it.
            StoreFull: the disk is full (nothing is left behind).
        """
        shown = Path(run_dir)  # as the user wrote it, for messages
        run_dir = shown.absolute()
        lock = _lock(run_dir, shown)
        try:
            if is_run_dir(run_dir):
                if cls._state(run_dir) != "empty":  # a run, or a damaged one: never overwritten
                    raise StoreError(f"--run-dir {shown}: already holds a run; continue it with "
                                     f"'hps resume {shown}' or choose another directory")
                _remove_db(run_dir)
            conn = None
            try:
                conn = cls._connect(run_dir / DB_NAME)
                conn.executescript(_SCHEMA)
                conn.execute("BEGIN")
                meta = [("schema_version", SCHEMA_VERSION), ("settings", settings),
                        ("param_names", list(param_names)), ("metric_names", [])]
                if warm_start is not None:
                    meta.append(("warm_start", warm_start))
                for key, value in meta:
                    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))
                conn.execute("COMMIT")
                store = cls(run_dir, conn, lock, shown)
                with store._writing():
                    store.rewrite_csv()
            except (sqlite3.OperationalError, OSError) as exc:
                if conn is not None:
                    conn.close()
                _remove_db(run_dir)
                if is_disk_full(exc, run_dir):
                    raise StoreFull(f"{shown}: the disk is full ({exc}); nothing was stored") from None
                raise
            return store
        except BaseException:
            lock.release()
            raise

    @classmethod
    def open(cls, run_dir: str | os.PathLike, readonly: bool = False) -> RunStore:
        """Open an existing run directory.

        Writing (the default) takes the directory's lock and rebuilds results.csv from the
        database. ``readonly`` takes no lock, works on read-only storage, sees every committed
        row and leaves the store's files as they are (no checkpoint: see
        :func:`hpsearch.store.reading.connect_readonly`).
        """
        shown = Path(run_dir)  # as the user wrote it, for messages
        run_dir = shown.absolute()
        if not is_run_dir(run_dir):
            raise StoreError(f"{shown}: not a run directory (no {DB_NAME} in it)")
        lock = None
        if readonly:
            conn = connect_readonly(run_dir / DB_NAME, shown / DB_NAME)
        else:
            lock = _lock(run_dir, shown)
            try:
                state = cls._state(run_dir)
                if state == "empty":
                    raise StoreError(f"{shown / DB_NAME}: an incomplete run store (its creation failed "
                                     "half-way, nothing was run); start a new run with "
                                     f"'hps run --run-dir {shown}'")
                if state == "damaged":
                    raise StoreError(f"{shown / DB_NAME}: damaged run store (its settings are missing)")
                if state != "complete":
                    raise StoreError(f"{shown / DB_NAME}: not a readable run store ({state[12:]})")
                conn = cls._connect(run_dir / DB_NAME)
            except sqlite3.DatabaseError as exc:
                lock.release()
                raise StoreError(f"{shown / DB_NAME}: not a readable run store ({exc})") from None
            except BaseException:
                lock.release()
                raise
        try:
            try:
                version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                version = json.loads(version[0]) if version else None
            except (sqlite3.DatabaseError, ValueError) as exc:
                raise StoreError(f"{shown / DB_NAME}: not a readable run store ({exc})") from None
            if version != SCHEMA_VERSION:
                raise StoreError(f"{shown / DB_NAME}: unknown store format {version}")
            store = cls(run_dir, conn, lock, shown)
            if not readonly:
                with store._reading():
                    store.trials()  # every row decodes, or one line says which does not
                with store._writing():
                    store.rewrite_csv()  # results.csv always equals the database
        except BaseException:
            conn.close()
            if lock is not None:
                lock.release()
            raise
        return store

    def close(self) -> None:
        if self._csv_file is not None:
            with contextlib.suppress(OSError):
                self._csv_file.close()
            self._csv_file = self._csv_writer = None
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- meta --------------------------------------------------------------------
    def _get_meta(self, key: str) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def warm_start(self) -> dict | None:
        """What the run was warm-started from, as stored when it was created (None: nothing).

        ``{"sources": [...], "evaluations": [...]}``: each source a dict with its
        ``run_dir``, and each evaluation a dict with ``source`` (an index into
        ``sources``), ``trial_id``, ``params``, ``budget`` and ``objective``.
        """
        with self._reading():
            return self._get_meta("warm_start")

    def set_meta(self, key: str, value: Any) -> None:
        with self._writing():
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def mark_completed(self) -> None:
        """Record that the search scheduler has nothing more to propose."""
        if not self.completed:
            self.set_meta("completed", True)
            self.completed = True

    def mark_ended(self, reason: str) -> None:
        """Record why this session of the run ended (e.g. ``max-evals reached (60)``)."""
        self.set_meta("ended", reason)
        self.ended = reason

    def update_settings(self, **changes: Any) -> None:
        """Change stored settings (e.g. a larger ``max_evals`` on resume)."""
        self.settings.update(changes)
        self.set_meta("settings", self.settings)

    # -- writing -------------------------------------------------------------------
    def add_trials(self, trial_ids: list[int], suggestions: Sequence[Submission], ask_seq: int,
                   ask_n: int) -> None:
        """Record submitted evaluations as ``running`` (one transaction)."""
        rows = [(tid, s.config_id, s.bracket, s.rung, _num(s.budget), _num(s.previous_budget),
                 json.dumps(s.config), Status.RUNNING.value, ask_seq, ask_n,
                 json.dumps(s.info) if s.info else None)
                for tid, s in zip(trial_ids, suggestions)]
        c = self.conn
        with self._writing():
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
        with self._writing():
            c.execute("BEGIN")
            c.execute(
                "UPDATE trials SET objective=?, metrics=?, status=?, error=?, started_at=?, finished_at=?,"
                " duration_s=?, worker=?, tell_seq=?, devices=?, step_reached=? WHERE trial_id=?",
                (result.objective, json.dumps(result.metrics) if result.metrics else None,
                 Status(result.status).value, result.error, result.started_at, result.finished_at,
                 result.duration_s, result.worker, tell_seq, ",".join(result.devices) or None,
                 _num(result.step), result.trial_id))
            if result.virtual_start is not None:
                c.execute("INSERT OR REPLACE INTO virtual_times VALUES (?,?,?)",
                          (result.trial_id, result.virtual_start, result.virtual_end))
            new_metrics = [m for m in result.metrics if m not in self.metric_names]
            if new_metrics:
                self.metric_names.extend(new_metrics)
                self.set_meta("metric_names", self.metric_names)
            c.execute("COMMIT")
        t = self._running.pop(result.trial_id, None) or self.get_trial(result.trial_id)
        r = result
        t.objective, t.metrics, t.status, t.error = r.objective, r.metrics, Status(r.status), r.error
        t.started_at, t.finished_at, t.duration_s = r.started_at, r.finished_at, r.duration_s
        t.worker, t.tell_seq, t.devices = r.worker, tell_seq, list(r.devices)
        t.step_reached = _num(r.step)
        t.virtual_start, t.virtual_end = r.virtual_start, r.virtual_end
        with self._writing():
            dropped = self._front.add(t) if self._front is not None else []
            # a new column, a deleted results.csv, or earlier rows that left the Pareto front
            if new_metrics or dropped or not self.csv_path.exists():
                self.rewrite_csv()
            else:
                self._append_csv(t)
        return t

    def add_report(self, trial_id: int, seq: int, report: dict) -> None:
        """Store one intermediate report of a running trial (committed at once).

        ``seq`` is on the engine's event counter, so a resume replays reports, asks
        and tells in the order they happened.
        """
        with self._writing():
            self.conn.execute("INSERT INTO reports (trial_id, step, metrics, seq) VALUES (?,?,?,?)",
                              (trial_id, _num(report.get("step")), json.dumps(report), seq))

    def delete_reports(self, trial_ids: Iterable[int]) -> None:
        """Forget the reports of evaluations that will run again (a resume re-runs them)."""
        ids = [(t,) for t in trial_ids]
        if ids:
            with self._writing():
                self.conn.execute("BEGIN")
                self.conn.executemany("DELETE FROM reports WHERE trial_id=?", ids)
                self.conn.execute("COMMIT")

    def add_enqueued(self, seq: int, config: dict) -> None:
        """Record a configuration put before the searcher's own (``Study.enqueue``), at event ``seq``."""
        queued = self.enqueued()
        queued.append((seq, config))
        self.set_meta("enqueued", [[s, c] for s, c in queued])

    def enqueued(self) -> list[tuple[int, dict]]:
        """Every enqueued configuration as ``(seq, config)``, in the order it was enqueued."""
        with self._reading():
            return [(int(s), dict(c)) for s, c in self._get_meta("enqueued") or []]

    def mark_interrupted(self, trial_ids: Iterable[int]) -> None:
        """Mark evaluations that were cut off; ``resume`` runs them again."""
        ids = [(t,) for t in trial_ids]
        if ids:
            with self._writing():
                self.conn.execute("BEGIN")
                self.conn.executemany(
                    "UPDATE trials SET status=? WHERE trial_id=? AND status=?",
                    [(Status.INTERRUPTED.value, i, Status.RUNNING.value) for (i,) in ids])
                self.conn.execute("COMMIT")

    # -- reading -------------------------------------------------------------------
    def get_trial(self, trial_id: int) -> StoredTrial:
        with self._reading():
            cur = self.conn.execute(f"SELECT {self._select} FROM {self._from} WHERE trial_id=?", (trial_id,))
            return self._decode(cur, cur.fetchone())

    def trials(self, finished_only: bool = False, order: str = "trial_id") -> list[StoredTrial]:
        """Stored evaluations, by ``trial_id`` or by completion (``tell_seq``)."""
        where = f" WHERE status IN ({', '.join('?' * len(FINISHED))})" if finished_only else ""
        order_by = {"trial_id": "trial_id", "tell_seq": "tell_seq IS NULL, tell_seq, trial_id"}[order]
        with self._reading():
            cur = self.conn.execute(f"SELECT {self._select} FROM {self._from}{where} ORDER BY {order_by}",
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
        (seq_r,) = self.conn.execute("SELECT MAX(seq) FROM reports").fetchone()
        seq_e = max((s for s, _ in self.enqueued()), default=None)
        return (tid + 1 if tid is not None else 0,
                max(x for x in (seq_a, seq_t, seq_r, seq_e, -1) if x is not None) + 1)

    def reports(self, trial_id: int) -> list[dict]:
        """One evaluation's intermediate reports, in the order they arrived."""
        rows = self.conn.execute("SELECT metrics FROM reports WHERE trial_id=? ORDER BY rowid",
                                 (trial_id,))
        return [json.loads(r[0]) for r in rows]

    def all_reports(self) -> list[tuple[int, int | None, dict]]:
        """Every report as ``(trial_id, seq, report)``, in arrival order."""
        rows = self.conn.execute("SELECT trial_id, seq, metrics FROM reports ORDER BY rowid")
        return [(tid, seq, json.loads(m)) for tid, seq, m in rows]

    def last_reports(self) -> dict[int, dict]:
        """trial_id -> its latest report (for a running trial's progress)."""
        rows = self.conn.execute("SELECT trial_id, metrics FROM reports WHERE rowid IN "
                                 "(SELECT MAX(rowid) FROM reports GROUP BY trial_id)")
        return {tid: json.loads(m) for tid, m in rows}

    # -- export --------------------------------------------------------------------
    def csv_header(self) -> list[str]:
        """results.csv's columns; a multi-objective run has ``pareto`` after the metrics."""
        return (CSV_FIXED_HEAD + [f"p:{n}" for n in self.param_names] + ["objective"]
                + [f"m:{m}" for m in self.metric_names]
                + (["pareto"] if self.multi_objective else []) + CSV_FIXED_TAIL)

    def csv_row(self, t: StoredTrial) -> list:
        def cell(v: Any) -> Any:
            return "" if v is None else v

        front = self.pareto_front()
        return ([t.trial_id, t.config_id, cell(t.bracket), cell(t.rung), cell(t.budget)]
                + [cell(t.params.get(n)) for n in self.param_names]
                + [cell(t.objective)]
                + [cell(t.metrics.get(m)) for m in self.metric_names]
                + ([t.trial_id in front.members] if front is not None else [])
                + [t.status.value, t.error or "", _iso(t.started_at), _iso(t.finished_at),
                   "" if t.duration_s is None else round(t.duration_s, 6), t.worker or ""])

    def pareto_front(self) -> Front | None:
        """The Pareto front of the finished evaluations (:mod:`~hpsearch.store.front`), for a
        multi-objective run (read on first use, then kept as evaluations finish through this store);
        None for a single-objective one."""
        if self._front is None and self.multi_objective:
            front = Front(self.objectives, self.max_resource if self.multi_fidelity else None)
            for t in self.trials(finished_only=True, order="tell_seq"):
                front.add(t)
            self._front = front
        return self._front

    @property
    def csv_path(self) -> Path:
        return self.run_dir / CSV_NAME

    def rewrite_csv(self) -> None:
        """Write results.csv anew from the database: finished rows in completion order."""
        if self._csv_file is not None:
            self._csv_file.close()
        tmp = self.csv_path.with_suffix(".csv.tmp")
        self._front = None  # read afresh from the database with the rows
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
        self._front = None  # as of these rows
        df = pd.DataFrame([self.csv_row(t) for t in trials], columns=self.csv_header())
        for n in self.param_names:  # an inactive dimension is missing (NaN / None), not ""
            df[f"p:{n}"] = pd.Series([t.params.get(n) for t in trials], index=df.index,
                                     dtype=None if trials else object)
        for col in ("started_at", "finished_at"):
            df[col] = pd.to_datetime(df[col].replace("", None), utc=True, format="ISO8601")
        return df
