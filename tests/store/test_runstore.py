"""The run store: the fixed results.csv columns (trial_id ... worker, p:/m: in between), commit-before-tell, exports."""
import csv
import sqlite3

import pytest

from hpsearch.search.base import Suggestion
from hpsearch.store import RunStore, StoreError
from hpsearch.trial import TrialResult


def result(tid, status="done", objective=1.5, metrics=None, error=None):
    return TrialResult(trial_id=tid, status=status, objective=objective, metrics=metrics or {},
                       error=error, started_at=1.7e9, finished_at=1.7e9 + 2, duration_s=2.0, worker="w0")


def test_csv_columns_and_rows(tmp_path):
    s = RunStore.create(tmp_path / "run", {"algo": "random"}, ["lr", "act"])
    s.add_trials([0, 1], [Suggestion({"lr": 0.1, "act": "relu"}, 0),
                          Suggestion({"lr": 0.01, "act": "tanh"}, 1, budget=3, bracket=2, rung=1)], 0, 2)
    s.finish_trial(result(1, metrics={"loss": 0.3}), 1)
    s.finish_trial(result(0, status="failed", objective=None, error="ValueError: boom"), 2)
    s.close()
    with open(tmp_path / "run" / "results.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["trial_id", "config_id", "bracket", "rung", "budget", "p:lr", "p:act", "objective",
                       "m:loss", "status", "error", "started_at", "finished_at", "duration_s", "worker"]
    # completion order; a new metric rewrote the header
    assert rows[1][:10] == ["1", "1", "2", "1", "3", "0.01", "tanh", "1.5", "0.3", "done"]
    assert rows[2][:11] == ["0", "0", "", "", "", "0.1", "relu", "", "", "failed", "ValueError: boom"]
    assert rows[1][11] == "2023-11-14T22:13:20.000+00:00" and rows[1][13] == "2.0" and rows[1][14] == "w0"


def test_rows_are_committed_at_once(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0], [Suggestion({"x": 1.0}, 0)], 0, 1)
    other = sqlite3.connect(tmp_path / "run" / "results.db")  # a second reader sees it immediately
    assert other.execute("SELECT status FROM trials").fetchall() == [("running",)]
    s.finish_trial(result(0), 1)
    assert other.execute("SELECT status, objective FROM trials").fetchall() == [("done", 1.5)]


def test_existing_run_dir_is_refused_and_kept(tmp_path):
    s = RunStore.create(tmp_path / "run", {"seed": 1}, ["x"])
    s.close()
    with pytest.raises(StoreError, match="already holds a run; continue it with 'hps resume"):
        RunStore.create(tmp_path / "run", {"seed": 2}, ["x"])
    assert RunStore.open(tmp_path / "run").settings == {"seed": 1}
    with pytest.raises(StoreError, match="not a run directory"):
        RunStore.open(tmp_path)


def test_dataframe_matches_csv(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0, 1], [Suggestion({"x": 1.0}, 0), Suggestion({"x": 2.0}, 1)], 0, 2)
    s.finish_trial(result(0, objective=3.0), 1)
    s.finish_trial(result(1, objective=4.0), 2)
    df = s.dataframe()
    assert list(df["p:x"]) == [1.0, 2.0] and list(df["objective"]) == [3.0, 4.0]
    assert str(df["started_at"].dtype).startswith("datetime64")


def test_reading_a_finished_run_changes_nothing_and_leaves_no_files(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0], [Suggestion({"x": 1.0}, 0)], 0, 1)
    s.finish_trial(result(0), 1)
    s.close()
    before = sorted(p.name for p in (tmp_path / "run").iterdir())
    with RunStore.open(tmp_path / "run", readonly=True) as r:
        assert [t.objective for t in r.trials()] == [1.5]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            r.conn.execute("DELETE FROM trials")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == before  # no -wal / -shm left behind


def test_a_reader_does_not_disturb_a_running_writer(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0, 1], [Suggestion({"x": 1.0}, 0), Suggestion({"x": 2.0}, 1)], 0, 2)
    s.finish_trial(result(0), 1)
    with RunStore.open(tmp_path / "run", readonly=True) as r:
        assert [t.status for t in r.trials()] == ["done", "running"]
    s.finish_trial(result(1, objective=0.5), 2)  # the writer goes on after the reader closed
    with RunStore.open(tmp_path / "run", readonly=True) as r:
        assert [t.objective for t in r.trials()] == [1.5, 0.5]
    s.close()


# -- commit before results.csv -------------------------------------------------------------------
def csv_ids(run_dir) -> list[str]:
    with open(run_dir / "results.csv", newline="") as f:
        return [r["trial_id"] for r in csv.DictReader(f)]


def db_status(run_dir) -> list[tuple]:
    conn = sqlite3.connect(run_dir / "results.db")
    try:
        return conn.execute("SELECT trial_id, status FROM trials ORDER BY trial_id").fetchall()
    finally:
        conn.close()


def test_a_failure_between_the_commit_and_results_csv_leaves_the_database_as_the_truth(tmp_path, monkeypatch):
    run = tmp_path / "run"
    s = RunStore.create(run, {}, ["x"])
    s.add_trials([0, 1], [Suggestion({"x": 1.0}, 0), Suggestion({"x": 2.0}, 1)], 0, 2)
    s.finish_trial(result(0), 1)

    def killed(self, t):
        raise OSError("the process died here")

    monkeypatch.setattr(RunStore, "_append_csv", killed)  # the row is committed, then the CSV fails
    with pytest.raises(OSError, match="the process died here"):
        s.finish_trial(result(1, objective=2.5), 2)
    assert db_status(run) == [(0, "done"), (1, "done")]  # committed first
    assert csv_ids(run) == ["0"]
    monkeypatch.undo()
    s.close()
    with RunStore.open(run):  # the next driver rebuilds results.csv from the database
        pass
    assert csv_ids(run) == ["0", "1"]


class _FailingCommit:
    """A connection whose COMMIT fails once ``armed``."""

    def __init__(self, conn):
        self._conn, self.armed = conn, False

    def execute(self, sql, *args):
        if self.armed and sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_a_row_whose_commit_fails_never_reaches_results_csv(tmp_path):
    run = tmp_path / "run"
    s = RunStore.create(run, {}, ["x"])
    s.add_trials([0, 1], [Suggestion({"x": 1.0}, 0), Suggestion({"x": 2.0}, 1)], 0, 2)
    s.finish_trial(result(0), 1)
    s.conn = failing = _FailingCommit(s.conn)
    failing.armed = True
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        s.finish_trial(result(1, objective=2.5), 2)
    failing.armed = False
    assert db_status(run) == [(0, "done"), (1, "running")]  # rolled back
    assert csv_ids(run) == ["0"]
    s.close()


# -- old run directories --------------------------------------------------------------------------
def test_an_old_store_gets_the_devices_column(tmp_path):
    store = RunStore.create(tmp_path / "run", {"algo": "random"}, ["x"])
    store.add_trials([0], [Suggestion(config={"x": 0.5}, config_id=0)], 0, 1)
    store.close()
    with sqlite3.connect(tmp_path / "run" / "results.db") as conn:
        conn.execute("ALTER TABLE trials DROP COLUMN devices")  # as stores made before it existed
    with RunStore.open(tmp_path / "run", readonly=True) as old:
        assert old.trials()[0].devices == []  # readable, nothing written
    with sqlite3.connect(tmp_path / "run" / "results.db") as conn:
        assert "devices" not in {r[1] for r in conn.execute("PRAGMA table_info(trials)")}
    with RunStore.open(tmp_path / "run") as store:
        store.finish_trial(TrialResult(trial_id=0, status="done", objective=1.0, devices=["2", "3"]), 1)
    with RunStore.open(tmp_path / "run", readonly=True) as store:
        assert store.trials()[0].devices == ["2", "3"]
        assert "devices" not in store.csv_header()


def test_a_run_directory_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match=r"cannot use this directory \(Not a directory\)"):
        RunStore.create(tmp_path / "file" / "run", {}, ["x"])


def test_a_store_of_an_unknown_format_is_refused(tmp_path):
    RunStore.create(tmp_path / "run", {}, ["x"]).close()
    with sqlite3.connect(tmp_path / "run" / "results.db") as conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    for readonly in (False, True):
        with pytest.raises(StoreError, match=r"results.db: unknown store format 99$"):
            RunStore.open(tmp_path / "run", readonly=readonly)


@pytest.mark.parametrize("status, budget, previous, step, trained", [
    ("done", None, 0, None, 0.0),  # no resource: nothing counted
    ("done", 9, 3, None, 6.0),  # warm started from 3: 6 more
    ("failed", 9, 0, 2, 9.0),  # a finished evaluation counts its whole budget
    ("stopped", 9, 3, 5, 2.0),  # stopped at step 5 of 3..9
    ("stopped", 9, 3, 20, 6.0),  # never more than the budget
    ("stopped", 9, 3, 1, 0.0),  # never less than nothing
    ("stopped", 9, 3, None, 0.0),  # stopped before its first report
    ("stopped", 9, None, 5, 5.0),  # no checkpoint: counted from 0
])
def test_trained_resource(status, budget, previous, step, trained):
    from hpsearch.store.runstore import trained_resource

    assert trained_resource(status, budget, previous, step) == trained


def test_a_run_copied_without_its_shm_reads_every_committed_row_and_leaves_nothing_behind(tmp_path):
    # a copy taken while a driver ran: rows only in the -wal, and no -shm (SQLite would have to create one)
    import shutil

    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0, 1, 2], [Suggestion({"x": i / 10}, i) for i in range(3)], 0, 3)
    s.finish_trial(result(0, objective=0.5), 1)
    s.finish_trial(result(2, status="failed", objective=None, error="ValueError: boom"), 2)
    assert (tmp_path / "run" / "results.db-wal").stat().st_size > 0
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "run", copy, ignore=shutil.ignore_patterns("results.db-shm", ".lock"))
    s.close()
    before = sorted(p.name for p in copy.iterdir())
    with RunStore.open(copy, readonly=True) as r:
        got = {t.trial_id: (t.status, t.objective, t.error) for t in r.trials()}
        assert r.reports(0) == [] and r.all_reports() == []
    assert got == {0: ("done", 0.5, None), 1: ("running", None, None), 2: ("failed", None, "ValueError: boom")}
    assert sorted(p.name for p in copy.iterdir()) == before  # no -shm made, nothing changed beside it
