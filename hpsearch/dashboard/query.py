"""What the dashboard reads: run and comparison directories, their status, cached snapshots.

Everything here is read-only. A snapshot of a run is loaded through
:meth:`RunStore.open(readonly=True) <hpsearch.store.RunStore.open>` in one short
burst of single-statement reads (no long transaction, no write lock, so the
driver never waits on the dashboard) and cached until the store's files change
(the size and mtime of ``results.db`` and ``results.db-wal``).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..store import DB_NAME, RunHistory, RunStore, StoredTrial, is_run_dir, trained_resource
from ..store.comparisons import SETTINGS_FILE as COMPARE_FILE
from ..store.comparisons import load_settings
from ..trial import Status

__all__ = ["Catalog", "RunSnapshot", "run_status", "lock_held", "LOCK_NAME", "LIVE_S"]

#: The run directory's driver lock (an ``fcntl.flock`` that ``hps run``/``resume`` hold while they run).
LOCK_NAME = ".lock"
#: Without a lock file: a run whose WAL changed this recently is running.
LIVE_S = 10.0
#: ... or this recently, when it also has evaluations marked ``running``.
QUIET_S = 120.0
#: How deep under a PATH the dashboard looks for run directories (``runs/compare-x/algo-seed0``).
MAX_DEPTH = 3


def _key(path: Path) -> str:
    return hashlib.sha1(str(path).encode()).hexdigest()[:12]


def _stat(path: Path) -> tuple:
    try:
        st = path.stat()
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return (0, -1)


def lock_held(run_dir: Path) -> bool | None:
    """Whether a driver holds ``RUN_DIR/.lock`` (None when there is no lock file).

    On Linux the answer comes from ``/proc/locks`` (never touching the lock);
    elsewhere from a non-blocking shared ``flock`` attempt released at once.
    """
    path = run_dir / LOCK_NAME
    try:
        st = path.stat()
    except OSError:
        return None
    try:
        text = Path("/proc/locks").read_text()
    except OSError:
        text = None
    if text is not None:
        dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
        return any(len(f) > 5 and f[1] == "FLOCK" and f[5] == dev for f in map(str.split, text.splitlines()))
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the shared lock, if taken
    return False


def run_status(run_dir: Path, n_unfinished: int, now: float | None = None) -> str:
    """``running``, ``interrupted`` or ``finished``.

    Running when the driver's lock is held; without a lock file, when the WAL
    changed in the last :data:`LIVE_S` seconds (or :data:`QUIET_S` with
    evaluations marked running: a long trial). Interrupted when evaluations are
    left running/interrupted with no live driver; finished otherwise.
    """
    held = lock_held(run_dir)
    if held:
        return "running"
    if held is None:
        wal = run_dir / (DB_NAME + "-wal")
        try:
            age = (now or time.time()) - wal.stat().st_mtime
        except OSError:
            age = math.inf
        if age < LIVE_S or (n_unfinished and age < QUIET_S):
            return "running"
    return "interrupted" if n_unfinished else "finished"


#: The columns the dashboard reads, in :class:`Row` order (``step_reached``, which a stopped
#: evaluation's resource needs, is read as NULL from a read-only store made before it existed).
ROW_COLUMNS = ("trial_id", "config_id", "bracket", "rung", "budget", "previous_budget", "params", "objective",
               "metrics", "status", "error", "started_at", "finished_at", "duration_s", "worker", "ask_seq",
               "ask_n", "tell_seq", "info", "step_reached")


class Row(tuple):
    """One ``trials`` row (:data:`ROW_COLUMNS` order), params and metrics still JSON text.

    Decoding 10,000 JSON configurations costs more than everything else a page
    needs, so rows stay raw; :meth:`trial` decodes one when a page shows it.
    """

    __slots__ = ()
    trial_id = property(lambda r: r[0])
    config_id = property(lambda r: r[1])
    bracket = property(lambda r: r[2])
    rung = property(lambda r: r[3])
    budget = property(lambda r: r[4])
    previous_budget = property(lambda r: r[5])
    params_json = property(lambda r: r[6])
    objective = property(lambda r: r[7])
    status = property(lambda r: r[9])
    error = property(lambda r: r[10])
    started_at = property(lambda r: r[11])
    finished_at = property(lambda r: r[12])
    duration_s = property(lambda r: r[13])
    step_reached = property(lambda r: r[19])

    @property
    def metrics(self) -> dict:
        """The metrics, decoded (a multi-objective run's front reads its objectives from them)."""
        return json.loads(self[8]) if self[8] else {}

    @property
    def resource_used(self) -> float:
        """What the evaluation trained (as :attr:`StoredTrial.resource_used`)."""
        return trained_resource(self[9], self[4], self[5], self[19])

    def trial(self) -> StoredTrial:
        return StoredTrial.from_row(dict(zip(ROW_COLUMNS, self)))


#: Table columns sortable without decoding JSON: results.csv name -> index in a Row.
_RAW_COLUMNS = {"trial_id": 0, "config_id": 1, "bracket": 2, "rung": 3, "budget": 4, "objective": 7,
                "status": 9, "error": 10, "started_at": 11, "finished_at": 12, "duration_s": 13, "worker": 14}


@dataclass
class RunSnapshot:
    """One run as read at one moment (finished evaluations in completion order)."""

    path: Path
    key: str
    settings: dict
    param_names: list[str]
    metric_names: list[str]
    history: RunHistory  # counts, incumbent, best-so-far curve and resource spent, over raw rows
    store: RunStore  # closed; kept for its csv_header/csv_row
    signature: tuple
    objective: str = "objective"
    loaded_at: float = field(default_factory=time.time)
    _curve: dict | None = None
    _sorted: dict = field(default_factory=dict)
    #: what views compute on demand from this snapshot (the importance panel), dropped with it
    derived: dict = field(default_factory=dict)

    # -- derived, computed once per snapshot -----------------------------------------
    @property
    def finished(self) -> tuple[Row, ...]:
        return self.history.finished

    @property
    def unfinished(self) -> tuple[Row, ...]:
        return self.history.unfinished

    @property
    def space(self) -> dict:
        return self.settings.get("space") or {}

    @property
    def direction(self) -> str:
        return self.history.direction

    @property
    def optimum(self) -> float | None:
        return self.history.optimum

    @property
    def multi_fidelity(self) -> bool:
        return self.history.multi_fidelity

    @property
    def has_budget(self) -> bool:
        return self.history.has_budget

    def counts(self) -> dict[str, int]:
        """Evaluations by status (the statuses that occur)."""
        return self.history.present_counts()

    def curve(self) -> dict:
        """Best-so-far after each finished evaluation (the run history's curve).

        Lists aligned with the finished evaluations: ``spent`` (resource trained, or
        seconds in evaluations without a resource), ``best`` (incumbent objective
        or None), and when the optimum is known ``regret`` (the incumbent's) and
        ``obj_regret`` (each successful evaluation's, None for a failure).
        """
        if self._curve is None:
            h = self.history
            bs = [p.best for p in h.points]
            self._curve = {"spent": h.spent(), "best": bs}
            if h.optimum is not None:
                self._curve["regret"] = [None if b is None else h.regret(b) for b in bs]
                self._curve["obj_regret"] = [None if p.objective is None else h.regret(p.objective)
                                             for p in h.points]
        return self._curve

    @property
    def best(self) -> Row | None:
        return self.history.incumbent

    def spent(self) -> float | None:
        return self.history.resource_spent if self.has_budget else None

    def pareto(self) -> dict:
        """A multi-objective run's front and hypervolume, as the run page draws them.

        ``objectives`` (name -> direction), ``points`` (each evaluation the front is taken from:
        ``[trial_id, [values in each objective's units], on the front]``), ``front`` (trial_ids, best
        first), ``reference`` (in the objectives' units) and ``reference_source``,
        ``hypervolume_optimum``, and the curve ``hypervolume`` (or ``regret`` with a known optimum)
        aligned with ``spent`` (the run's best-so-far x axis). Empty for one objective.
        """
        h = self.history
        if not h.multi_objective:
            return {}
        signs = [-1.0 if d == "maximize" else 1.0 for d in h.objectives.values()]
        front = h.pareto_ids
        points = [[tid, [s * v for s, v in zip(signs, lo)], tid in front] for tid, lo in h.losses.items()]
        out = {"objectives": dict(h.objectives), "points": points, "front": [t.trial_id for t in h.front],
               "reference": None if h.reference is None else [s * v for s, v in zip(signs, h.reference)],
               "reference_source": "declared" if h.reference_declared else "nadir of the run's evaluations",
               "hypervolume_optimum": h.hypervolume_optimum, "spent": h.spent(),
               "hypervolume": list(h.hypervolumes), "multi_fidelity": h.multi_fidelity}
        if h.hypervolume_optimum is not None and h.hypervolumes:
            out["regret"] = [h.hypervolume_regret(v) for v in h.hypervolumes]
        return out

    def header(self) -> list[str]:
        return self.store.csv_header()

    def rows(self, sort: str = "", desc: bool = False, statuses: set[str] | None = None) -> list[Row]:
        """Every row (finished in completion order, then unfinished), filtered and sorted (empty last)."""
        cache_key = (sort, desc, frozenset(statuses or ()))
        if cache_key in self._sorted:
            return self._sorted[cache_key]
        rows = list(self.finished + self.unfinished)
        if statuses:
            rows = [r for r in rows if r.status in statuses]
        if sort in _RAW_COLUMNS:
            i = _RAW_COLUMNS[sort]
            values = {r.trial_id: r[i] for r in rows}
        elif sort.startswith(("p:", "m:")):
            values = self._json_column(sort)
        else:
            values = None
        if values is not None:
            filled = [r for r in rows if values.get(r.trial_id) not in (None, "")]
            empty = [r for r in rows if values.get(r.trial_id) in (None, "")]
            rows = sorted(filled, key=lambda r: _sort_key(values[r.trial_id]), reverse=desc) + empty
        self._sorted[cache_key] = rows
        return rows

    def _json_column(self, column: str) -> dict[int, Any]:
        """One parameter or metric of every row, extracted by SQLite (no Python JSON decoding)."""
        field_, name = ("params" if column.startswith("p:") else "metrics"), column[2:]
        path = "$." + json.dumps(name)
        with RunStore.open(self.path, readonly=True) as store:
            sql = f"SELECT trial_id, json_extract({field_}, ?) FROM trials"
            return dict(store.conn.execute(sql, (path,)))

    def csv_row(self, row: Row) -> list:
        return self.store.csv_row(row.trial())

    @cached_property
    def _span(self) -> tuple[float | None, float | None]:
        starts = [t[11] for t in self.finished if t[11]]
        ends = [t[12] for t in self.finished if t[12]]
        return (min(starts) if starts else None, max(ends) if ends else None)

    def started_at(self) -> float | None:
        return self._span[0]

    def wall_s(self, status: str) -> float | None:
        start, end = self._span
        if start is None:
            return None
        if status == "running":
            return time.time() - start
        return end - start if end else None

    def status(self) -> str:
        return run_status(self.path, len(self.unfinished))


def _sort_key(v: Any) -> tuple:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (0, v, "")
    return (1, 0, str(v))


def load_snapshot(path: Path, signature: tuple) -> RunSnapshot:
    """Read a run: settings, names, every evaluation as a raw row (one SELECT, read-only)."""
    with RunStore.open(path, readonly=True) as store:
        have = {r[1] for r in store.conn.execute("PRAGMA table_info(trials)")}
        columns = ", ".join(c if c in have else f"NULL AS {c}" for c in ROW_COLUMNS)
        rows = store.conn.execute(f"SELECT {columns} FROM trials "
                                  "ORDER BY tell_seq IS NULL, tell_seq, trial_id").fetchall()
        history = RunHistory.from_trials(map(Row, rows), store.direction, store.multi_fidelity,
                                         store.optimum, objectives=store.objectives,
                                         full_budget=store.max_resource,
                                         reference_point=store.reference_point,
                                         hypervolume_optimum=store.hypervolume_optimum)
        objective = store.objective
        store.pareto_front()  # read now: results.csv rows of the closed store carry the flag
    return RunSnapshot(path, _key(path), dict(store.settings), list(store.param_names),
                       list(store.metric_names), history, store, signature, objective)


@dataclass
class Entry:
    """A directory the dashboard shows: a run or a comparison."""

    key: str
    path: Path
    kind: str  # "run" or "compare"
    compare: str | None = None  # for a run inside a comparison: the comparison's key


class Catalog:
    """The runs and comparisons found under the PATHs, rescanned on demand; snapshot cache.

    Args:
        paths: run directories, comparison directories, or folders holding them.
    """

    def __init__(self, paths: list[str | os.PathLike]):
        self.paths = [Path(p).resolve() for p in paths]
        self.entries: dict[str, Entry] = {}
        self._cache: dict[Path, RunSnapshot] = {}
        self._lock = threading.Lock()
        self._scanned = 0.0

    def scan(self, max_age: float = 0.0) -> dict[str, Entry]:
        """Look for run and comparison directories again (new ones appear without a restart)."""
        if time.monotonic() - self._scanned < max_age and self.entries:
            return self.entries
        found: dict[str, Entry] = {}

        def visit(d: Path, depth: int, parent: str | None) -> None:
            if is_run_dir(d):
                k = _key(d)
                found[k] = Entry(k, d, "run", parent)
                return
            here = parent
            if (d / COMPARE_FILE).is_file():
                here = _key(d)
                found[here] = Entry(here, d, "compare")
            if depth >= MAX_DEPTH:
                return
            try:
                subdirs = sorted(e.path for e in os.scandir(d) if e.is_dir() and not e.name.startswith("."))
            except OSError:
                return
            for sub in subdirs:
                visit(Path(sub), depth + 1, here)

        for p in self.paths:
            visit(p, 0, None)
        with self._lock:
            self.entries = found
            self._scanned = time.monotonic()
        return found

    def get(self, key: str, kind: str) -> Entry | None:
        e = self.entries.get(key)
        if e is None:
            e = self.scan().get(key)
        return e if e is not None and e.kind == kind else None

    def snapshot(self, path: Path) -> RunSnapshot:
        """The run's snapshot, read again only if its store files changed."""
        sig = (_stat(path / DB_NAME), _stat(path / (DB_NAME + "-wal")))
        with self._lock:
            snap = self._cache.get(path)
        if snap is not None and snap.signature == sig:
            return snap
        snap = load_snapshot(path, sig)
        with self._lock:
            self._cache[path] = snap
        return snap

    def summary(self, entry: Entry) -> dict[str, Any]:
        """One line of the runs page."""
        if entry.kind == "compare":
            s = load_settings(entry.path)
            runs = [e for e in self.entries.values() if e.compare == entry.key]
            mtime = (entry.path / COMPARE_FILE).stat().st_mtime
            return {"key": entry.key, "kind": "compare", "path": str(entry.path),
                    "problem": s.get("problem_name"), "algo": ", ".join(s.get("algos", [])),
                    "seed": f"{s.get('seeds')} seeds", "runs": len(runs), "started": _iso(mtime),
                    "mtime": mtime}
        snap = self.snapshot(entry.path)
        st = snap.status()
        counts = snap.history.counts
        best = snap.best
        s = snap.settings
        started = snap.started_at()
        created = s.get("created_at")
        return {
            "key": entry.key, "kind": "run", "path": str(entry.path), "compare": entry.compare,
            "problem": s.get("problem_name"), "algo": s.get("algo"), "seed": s.get("seed"),
            "status": st, "done": counts.get("done", 0),
            "failed": counts.get("failed", 0) + counts.get("timeout", 0),
            "running": counts.get(Status.RUNNING.value, 0) + counts.get(Status.INTERRUPTED.value, 0),
            "best": None if best is None else best.objective,
            "front": None if not snap.history.multi_objective else len(snap.history.front),
            "spent": snap.spent(), "started": created or (started and _iso(started)),
            "wall_s": snap.wall_s(st), "mtime": started or (entry.path / DB_NAME).stat().st_mtime,
            "created": created or "",
        }


def _iso(t: float) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).isoformat(timespec="seconds")
