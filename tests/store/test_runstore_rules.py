"""The run store's rules one at a time: what it stores is what it reads back after a reopen (settings,
the completed and ended marks, scheduler info, reports), numbers from numpy stored as plain numbers,
a failed or half-made creation leaves nothing that blocks the directory, and results.csv's empty cells."""
import csv
import errno
import sqlite3
import threading

import numpy as np
import pandas as pd
import pytest

from hpsearch.search.base import Suggestion
from hpsearch.store import RunStore, StoreError, StoreFull
from hpsearch.trial import TrialResult


def done(tid, objective=1.0, **kw):
    return TrialResult(trial_id=tid, status="done", objective=objective, started_at=1.7e9,
                       finished_at=1.7e9 + 1, duration_s=1.0, worker="w0", **kw)


def csv_rows(run_dir) -> list[dict]:
    with open(run_dir / "results.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_marks_and_settings_survive_a_reopen(tmp_path):
    s = RunStore.create(tmp_path / "run", {"max_evals": 5}, ["x"])
    assert (s.completed, s.ended) == (False, None)
    s.update_settings(max_evals=9)
    s.mark_completed()
    s.mark_completed()  # twice is once
    s.mark_ended("max-evals reached (9)")
    assert (s.settings["max_evals"], s.completed, s.ended) == (9, True, "max-evals reached (9)")
    s.close()
    with RunStore.open(tmp_path / "run", readonly=True) as r:
        assert (r.settings, r.completed, r.ended) == ({"max_evals": 9}, True, "max-evals reached (9)")


def test_finish_trial_returns_the_row_as_stored(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0, 1], [Suggestion({"x": 1.0}, 4, budget=9, previous_budget=3, bracket=2, rung=1,
                                     info={"promoted_from": 7}),
                          Suggestion({"x": 2.0}, 5)], 6, 2)
    told = s.finish_trial(done(0, objective=0.5, metrics={"loss": 0.2}), 8)
    assert told == s.get_trial(0)
    assert (told.config_id, told.ask_seq, told.ask_n, told.bracket, told.rung, told.budget,
            told.previous_budget, told.info, told.tell_seq) == (4, 6, 2, 2, 1, 9, 3, {"promoted_from": 7}, 8)
    s.close()
    with RunStore.open(tmp_path / "run", readonly=True) as r:
        assert r.get_trial(0) == told
        assert r.get_trial(1).info == {}  # no info stored: an empty dict read back
    assert [(row["bracket"], row["rung"], row["budget"]) for row in csv_rows(tmp_path / "run")] == [("2", "1", "9")]


def test_numbers_from_numpy_are_stored_as_plain_numbers(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0, 1], [Suggestion({"x": 1.0}, 0, budget=np.int64(9), previous_budget=np.int64(3)),
                          Suggestion({"x": 2.0}, 1, budget=np.float64(2.5), previous_budget=np.int64(0))], 0, 2)
    s.finish_trial(TrialResult(trial_id=0, status="stopped", objective=0.5, step=np.int64(5)), 1)
    s.close()
    with RunStore.open(tmp_path / "run", readonly=True) as r:
        a, b = r.trials()
    assert (a.budget, a.previous_budget, a.step_reached, a.resource_used) == (9, 3, 5, 2.0)
    assert type(a.budget) is int and type(a.step_reached) is int and b.budget == 2.5


def test_reports_are_read_back_per_trial_latest_and_all(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0, 1], [Suggestion({"x": 1.0}, 0), Suggestion({"x": 2.0}, 1)], 0, 2)
    s.add_report(0, 1, {"step": 1, "loss": 0.9})
    s.add_report(1, 2, {"step": 1, "loss": 0.8})
    s.add_report(0, 3, {"step": 2, "loss": 0.7})
    s.close()
    with RunStore.open(tmp_path / "run") as s:
        assert s.reports(0) == [{"step": 1, "loss": 0.9}, {"step": 2, "loss": 0.7}]
        assert s.last_reports() == {0: {"step": 2, "loss": 0.7}, 1: {"step": 1, "loss": 0.8}}
        assert s.all_reports() == [(0, 1, {"step": 1, "loss": 0.9}), (1, 2, {"step": 1, "loss": 0.8}),
                                   (0, 3, {"step": 2, "loss": 0.7})]
        assert s.next_ids() == (2, 4)  # after the last report's event
        # the reports table holds each report's step in a column of its own, for readers of the database
        assert s.conn.execute("SELECT trial_id, step FROM reports ORDER BY rowid").fetchall() == [
            (0, 1), (1, 1), (0, 2)]
        s.delete_reports([0])  # trial 0 runs again on a resume: its reports go
        assert s.all_reports() == [(1, 2, {"step": 1, "loss": 0.8})] and s.reports(0) == []


def test_a_trial_without_start_or_end_times_has_empty_cells_in_results_csv(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0], [Suggestion({"x": 1.0}, 0)], 0, 1)
    s.finish_trial(TrialResult(trial_id=0, status="stopped", objective=0.5, started_at=None,
                               finished_at=None, duration_s=None), 1)
    row = csv_rows(tmp_path / "run")[0]
    assert (row["started_at"], row["finished_at"], row["duration_s"]) == ("", "", "")
    df = s.dataframe()
    assert df["started_at"].isna().all() and df["finished_at"].isna().all()
    assert str(df["started_at"].dt.tz) == "UTC"  # UTC times even when none is known
    s.close()


def test_a_store_opened_in_one_thread_is_written_from_another(tmp_path):
    # a Study made in the main thread and asked and told from a worker thread
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    errors = []

    def work():
        try:
            s.add_trials([0], [Suggestion({"x": 1.0}, 0)], 0, 1)
            s.finish_trial(done(0, objective=2.0), 1)
        except Exception as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert errors == []
    assert [(t.status, t.objective) for t in s.trials()] == [("done", 2.0)]
    s.close()


class _FullDisk:
    """A connection on a disk that fills up when the schema is written."""

    def __init__(self, conn):
        self._conn = conn

    def executescript(self, sql):
        raise sqlite3.OperationalError("database or disk is full")

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_a_creation_that_fails_on_a_full_disk_leaves_no_store_behind(tmp_path, monkeypatch):
    connect = RunStore._connect
    monkeypatch.setattr(RunStore, "_connect", staticmethod(lambda path: _FullDisk(connect(path))))
    with pytest.raises(StoreFull, match=r"run: the disk is full \(database or disk is full\); nothing was stored$"):
        RunStore.create(tmp_path / "run", {"seed": 1}, ["x"])
    assert sorted(p.name for p in (tmp_path / "run").iterdir() if p.name.startswith("results.db")) == []
    monkeypatch.undo()
    with pytest.raises(StoreError, match="not a run directory"):
        RunStore.open(tmp_path / "run")
    RunStore.create(tmp_path / "run", {"seed": 2}, ["x"]).close()  # the directory is free
    with RunStore.open(tmp_path / "run", readonly=True) as r:
        assert r.settings == {"seed": 2}


def test_a_database_file_left_before_its_tables_were_made_is_replaced(tmp_path):
    # creation killed right after SQLite made the file: no tables at all
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.db").write_bytes(b"")
    with pytest.raises(StoreError, match="an incomplete run store"):
        RunStore.open(tmp_path / "run")
    RunStore.create(tmp_path / "run", {"seed": 3}, ["x"]).close()
    with RunStore.open(tmp_path / "run", readonly=True) as r:
        assert r.settings == {"seed": 3} and r.trials() == []


def test_a_store_whose_tables_were_dropped_by_hand_is_not_replaced(tmp_path):
    RunStore.create(tmp_path / "run", {"seed": 1}, ["x"]).close()
    with sqlite3.connect(tmp_path / "run" / "results.db") as conn:
        conn.execute("DELETE FROM meta WHERE key='settings'")
        conn.execute("INSERT INTO trials (trial_id, config_id, params, status, ask_seq, ask_n) "
                      "VALUES (0, 0, '{}', 'done', 0, 1)")
    with pytest.raises(StoreError, match="already holds a run"):
        RunStore.create(tmp_path / "run", {"seed": 2}, ["x"])
    with pytest.raises(StoreError, match=r"damaged run store \(its settings are missing\)"):
        RunStore.open(tmp_path / "run")


def test_the_warm_start_and_enqueued_configurations_are_read_back(tmp_path):
    warm = {"sources": [{"run_dir": "/old"}], "evaluations": [{"source": 0, "trial_id": 3, "params": {"x": 1.0},
                                                               "budget": None, "objective": 0.5}]}
    s = RunStore.create(tmp_path / "run", {}, ["x"], warm_start=warm)
    assert s.next_ids() == (0, 0)  # nothing stored yet: the first trial and event are 0
    s.add_enqueued(0, {"x": 2.0})
    s.add_enqueued(1, {"x": 3.0})
    assert s.next_ids() == (0, 2)  # after the last enqueued configuration's event
    s.close()
    with RunStore.open(tmp_path / "run", readonly=True) as r:
        assert r.warm_start() == warm
        assert r.enqueued() == [(0, {"x": 2.0}), (1, {"x": 3.0})]
    with RunStore.create(tmp_path / "cold", {}, ["x"]) as cold:
        assert cold.warm_start() is None and cold.enqueued() == []


def test_virtual_times_are_stored_with_the_finished_trial(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0, 1], [Suggestion({"x": 1.0}, 0), Suggestion({"x": 2.0}, 1)], 0, 2)
    s.finish_trial(done(0, virtual_start=2.0, virtual_end=7.5), 1)
    s.finish_trial(done(1), 2)  # not from the simulated evaluator
    s.close()
    with RunStore.open(tmp_path / "run", readonly=True) as r:
        assert [(t.virtual_start, t.virtual_end) for t in r.trials()] == [(2.0, 7.5), (None, None)]


def test_the_dataframe_holds_finished_trials_in_completion_order(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x", "y"])
    s.add_trials([0, 1, 2], [Suggestion({"x": 1.0, "y": 1}, 0), Suggestion({"x": 2.0}, 1),
                             Suggestion({"x": 3.0, "y": 3}, 2)], 0, 3)
    s.finish_trial(done(1, objective=2.0), 1)
    s.finish_trial(done(0, objective=1.0), 2)
    df = s.dataframe()
    assert list(df["trial_id"]) == [1, 0]  # trial 2 still runs
    assert str(df["p:x"].dtype) == "float64" and df["p:y"].isna().tolist() == [True, False]  # y inactive in 1
    assert list(df["started_at"]) == [pd.Timestamp(1.7e9, unit="s", tz="UTC")] * 2
    assert list(s.dataframe(finished_only=False)["trial_id"]) == [1, 0, 2]
    s.close()
    with RunStore.open(tmp_path / "run"):  # results.csv rebuilt from the database: the same order
        pass
    assert [row["trial_id"] for row in csv_rows(tmp_path / "run")] == ["1", "0"]


def test_results_csv_of_a_multi_objective_run_says_which_rows_are_on_the_front(tmp_path):
    space = {"objective": "acc", "direction": "maximize", "objectives": {"acc": "maximize", "size": "minimize"}}
    s = RunStore.create(tmp_path / "run", {"space": space}, ["x"])
    s.add_trials([0, 1, 2], [Suggestion({"x": float(i)}, i) for i in range(3)], 0, 3)
    s.finish_trial(done(0, objective=0.5, metrics={"size": 10}), 1)
    s.finish_trial(done(1, objective=0.9, metrics={"size": 30}), 2)
    front = [(row["trial_id"], row["pareto"]) for row in csv_rows(tmp_path / "run")]
    assert front == [("0", "True"), ("1", "True")]
    s.finish_trial(done(2, objective=0.6, metrics={"size": 5}), 3)  # trial 0 leaves the front
    rows = csv_rows(tmp_path / "run")
    assert list(rows[0]) == ["trial_id", "config_id", "bracket", "rung", "budget", "p:x", "objective", "m:size",
                             "pareto", "status", "error", "started_at", "finished_at", "duration_s", "worker"]
    assert [(row["trial_id"], row["pareto"]) for row in rows] == [("0", "False"), ("1", "True"), ("2", "True")]
    s.close()


def test_results_csv_deleted_while_the_store_is_open_comes_back_whole(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0, 1], [Suggestion({"x": 1.0}, 0), Suggestion({"x": 2.0}, 1)], 0, 2)
    s.finish_trial(done(0), 1)
    (tmp_path / "run" / "results.csv").unlink()
    s.finish_trial(done(1), 2)
    assert [row["trial_id"] for row in csv_rows(tmp_path / "run")] == ["0", "1"]
    s.close()


def test_a_full_disk_when_taking_the_lock_is_a_full_disk(tmp_path, monkeypatch):
    from hpsearch.store.lock import RunDirLock

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(RunDirLock, "acquire", full)
    with pytest.raises(StoreFull, match=r"run: the disk is full \(\[Errno 28\] No space left on device\); "
                       "nothing was stored$"):
        RunStore.create(tmp_path / "run", {}, ["x"])


def test_a_database_that_cannot_even_be_opened_on_a_full_disk_leaves_nothing(tmp_path, monkeypatch):
    def full(path):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(RunStore, "_connect", staticmethod(full))
    with pytest.raises(StoreFull, match="the disk is full"):
        RunStore.create(tmp_path / "run", {}, ["x"])
    monkeypatch.undo()
    RunStore.create(tmp_path / "run", {}, ["x"]).close()  # the lock was given back


def test_a_disk_io_error_is_a_full_disk_only_when_the_disk_is_nearly_full(tmp_path, monkeypatch):
    import hpsearch.store.errors

    connect = RunStore._connect
    monkeypatch.setattr(RunStore, "_connect", staticmethod(lambda path: _IOError(connect(path))))
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        RunStore.create(tmp_path / "roomy", {}, ["x"])
    monkeypatch.setattr(hpsearch.store.errors, "free_bytes", lambda where: 0)
    with pytest.raises(StoreFull, match=r"full: the disk is full \(disk I/O error\); nothing was stored$"):
        RunStore.create(tmp_path / "full", {}, ["x"])
    assert not (tmp_path / "full" / "results.db").exists()


class _IOError(_FullDisk):
    """A connection that fails with SQLite's bare I/O error when the schema is written."""

    def executescript(self, sql):
        raise sqlite3.OperationalError("disk I/O error")


def test_results_csv_cells_of_a_finished_trial(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.add_trials([0], [Suggestion({"x": 1.0}, 0)], 0, 1)
    s.finish_trial(TrialResult(trial_id=0, status="done", objective=0.5, started_at=1.7e9, finished_at=1.7e9 + 3,
                               duration_s=1.23456789, worker=""), 1)
    s.close()
    (row,) = csv_rows(tmp_path / "run")
    assert (row["error"], row["finished_at"], row["duration_s"], row["worker"]) == (
        "", "2023-11-14T22:13:23.000+00:00", "1.234568", "")  # no error, no worker: empty cells


def test_the_front_of_a_multi_fidelity_multi_objective_run_holds_full_budget_rows_only(tmp_path):
    space = {"objective": "acc", "direction": "maximize", "objectives": {"acc": "maximize", "size": "minimize"},
             "dims": [{"name": "epochs", "resource": True, "low": 1, "high": 3}]}
    s = RunStore.create(tmp_path / "run", {"space": space, "multi_fidelity": True}, ["x"])
    s.add_trials([0, 1], [Suggestion({"x": 0.0}, 0, budget=1), Suggestion({"x": 1.0}, 1, budget=3)], 0, 2)
    s.finish_trial(done(0, objective=0.9, metrics={"size": 1}), 1)  # better, but a preview at budget 1
    s.finish_trial(done(1, objective=0.5, metrics={"size": 5}), 2)
    s.close()
    with RunStore.open(tmp_path / "run") as s:  # results.csv rebuilt: the front read from the database
        assert s.pareto_front().ids == {1}
    assert [(row["budget"], row["pareto"]) for row in csv_rows(tmp_path / "run")] == [("1", "False"), ("3", "True")]


@pytest.mark.parametrize("readonly", [False, True])
def test_a_file_that_is_no_database_is_refused_naming_it(tmp_path, readonly):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.db").write_bytes(b"not a database, but long enough to have a header" * 4)
    with pytest.raises(StoreError, match=r"run/results.db: not a readable run store \(file is not a database\)$"):
        RunStore.open(tmp_path / "run", readonly=readonly)


def test_a_store_without_a_format_version_or_with_a_damaged_one_is_refused(tmp_path):
    RunStore.create(tmp_path / "run", {}, ["x"]).close()
    with sqlite3.connect(tmp_path / "run" / "results.db") as conn:
        conn.execute("UPDATE meta SET value='{' WHERE key='schema_version'")
    with pytest.raises(StoreError, match=r"run/results.db: not a readable run store \(Expecting"):
        RunStore.open(tmp_path / "run")
    with sqlite3.connect(tmp_path / "run" / "results.db") as conn:
        conn.execute("DELETE FROM meta WHERE key='schema_version'")
    with pytest.raises(StoreError, match=r"run/results.db: unknown store format None$"):
        RunStore.open(tmp_path / "run", readonly=True)


def test_a_store_whose_creation_failed_half_way_says_how_to_start_again(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.db").write_bytes(b"")
    with pytest.raises(StoreError) as info:
        RunStore.open(tmp_path / "run")
    assert str(info.value) == (f"{tmp_path / 'run' / 'results.db'}: an incomplete run store (its creation failed "
                               f"half-way, nothing was run); start a new run with 'hps run --run-dir "
                               f"{tmp_path / 'run'}'")


def test_the_front_of_a_run_with_a_fixed_resource_holds_every_done_row(tmp_path):
    # a resource dimension, but one budget for all (not multi-fidelity): every done evaluation counts
    space = {"objective": "acc", "direction": "maximize", "objectives": {"acc": "maximize", "size": "minimize"},
             "dims": [{"name": "epochs", "resource": True, "low": 1, "high": 3}]}
    s = RunStore.create(tmp_path / "run", {"space": space, "multi_fidelity": False}, ["x"])
    s.add_trials([0], [Suggestion({"x": 0.0}, 0, budget=1)], 0, 1)
    s.finish_trial(done(0, objective=0.9, metrics={"size": 1}), 1)
    s.close()
    with RunStore.open(tmp_path / "run"):
        pass
    assert [row["pareto"] for row in csv_rows(tmp_path / "run")] == ["True"]


def test_a_closed_store_gives_its_directory_back_to_the_next_writer(tmp_path):
    RunStore.create(tmp_path / "run", {}, ["x"]).close()
    RunStore.open(tmp_path / "run").close()
    with RunStore.open(tmp_path / "run") as again:  # the lock was released by close()
        assert again.lock.held


def test_a_damaged_row_is_named_with_the_path_as_the_user_wrote_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = RunStore.create("run", {}, ["x"])
    s.add_trials([0], [Suggestion({"x": 1.0}, 0)], 0, 1)
    s.close()
    with sqlite3.connect(tmp_path / "run" / "results.db") as conn:
        conn.execute("UPDATE trials SET params='{' WHERE trial_id=0")
    with pytest.raises(StoreError, match=r"^run/results.db: damaged row \(JSONDecodeError: "):
        RunStore.open("run")


def test_closing_a_store_twice_is_harmless(tmp_path):
    s = RunStore.create(tmp_path / "run", {}, ["x"])
    s.close()
    s.close()
    with RunStore.open(tmp_path / "run") as again:
        again.close()  # inside its with-block, then once more on leaving it
