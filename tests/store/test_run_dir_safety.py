"""A run directory nothing can corrupt: one driver at a time, results.csv == results.db,
read-only reading, a full disk, a damaged store, and what resume imports."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from hpsearch.cli import cli
from hpsearch.store import RunStore

from ..conftest import (
    SLOW_PROBLEM,
    can_mount,
    committed,
    csv_rows,
    finished,
    hps_cmd,
    hps_env,
    killed_after_a_checkpoint,
    one_line_error,
    read_only,
    run_hps,
    wait_rows,
)

RUN = """
import time
def run(config):
    time.sleep(0.15)
    return (config["x"] - 0.3) ** 2
"""


def db_rows(run_dir) -> list[tuple]:
    """Finished rows of results.db in completion order, as results.csv shows them."""
    with RunStore.open(run_dir, readonly=True) as store:
        return [tuple(str(c) for c in store.csv_row(t)[:2]) + (t.status,)
                for t in store.trials(finished_only=True, order="tell_seq")]


def killed_run(tmp_path, make_problem, rows=3, evals=30, extra=()):
    """A run of a slow problem killed with SIGKILL after ``rows`` results: its directory."""
    folder = make_problem("slowish", problem=SLOW_PROBLEM, model_run=RUN)
    proc = subprocess.Popen(hps_cmd("run", "-p", folder, "--max-evals", evals, "--seed", "3", "--run-dir", "r",
                                    *extra), cwd=tmp_path, env=hps_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_rows(tmp_path / "r" / "results.csv", rows, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return tmp_path / "r"


def start(*args, cwd):
    return subprocess.Popen(hps_cmd(*args), cwd=cwd, env=hps_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_concurrent_resumes_one_driver(tmp_path, make_problem):
    run_dir = killed_run(tmp_path, make_problem, evals=60, extra=("--evaluator", "serial"))
    procs = [start("resume", "r", cwd=tmp_path), start("resume", "r", cwd=tmp_path)]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert sorted(p.returncode for p in procs) == [0, 2], errs
    winner = next(p for p in procs if p.returncode == 0)
    loser = next(e for p, e in zip(procs, errs) if p.returncode == 2)
    assert loser.strip().splitlines() == [f"Error: r: in use by another hps process (pid {winner.pid})"]
    assert "Traceback" not in "".join(errs)
    assert csv_rows(run_dir) == db_rows(run_dir)
    ids = [r[0] for r in csv_rows(run_dir)]
    assert len(ids) == len(set(ids)) == 60


@pytest.mark.slow
def test_two_racing_runs_on_one_directory(tmp_path, make_problem):
    folder = make_problem("slowish", problem=SLOW_PROBLEM, model_run=RUN)
    procs = [start("run", "-p", folder, "--max-evals", "6", "--seed", str(seed), "--run-dir", "r",
                   "--evaluator", "serial", cwd=tmp_path) for seed in (1, 2)]
    outs = [(p, *p.communicate(timeout=120)) for p in procs]
    assert sorted(p.returncode for p, _, _ in outs) == [0, 2], [(p.returncode, e) for p, _, e in outs]
    winner = next(p for p, _, _ in outs if p.returncode == 0)
    loser_err = next(e for p, _, e in outs if p.returncode == 2)
    assert "Traceback" not in loser_err and len(loser_err.strip().splitlines()) == 1
    assert ("in use by another hps process" in loser_err or "already holds a run" in loser_err)
    seed = 1 if winner is procs[0] else 2
    with RunStore.open(tmp_path / "r", readonly=True) as store:
        assert store.settings["seed"] == seed  # settings and trials belong to the same process
        assert len(store.trials()) == 6
    assert run_hps("resume", "r", cwd=tmp_path).returncode == 0


@pytest.mark.slow
def test_readers_work_while_a_run_holds_the_lock(tmp_path, make_problem):
    folder = make_problem("slowish", problem=SLOW_PROBLEM, model_run=RUN)
    proc = start("run", "-p", folder, "--max-evals", "400", "--seed", "1", "--run-dir", "r", "--evaluator",
                 "serial", cwd=tmp_path)
    try:
        wait_rows(tmp_path / "r" / "results.csv", 2, proc)
        assert run_hps("results", "r", cwd=tmp_path).returncode == 0
        assert run_hps("plot", "r", cwd=tmp_path).returncode == 0
        p = run_hps("resume", "r", cwd=tmp_path)
        assert p.returncode == 2
        assert p.stderr.strip() == f"Error: r: in use by another hps process (pid {proc.pid})"
    finally:
        proc.kill()
        proc.communicate()


@pytest.mark.slow
def test_results_csv_is_rebuilt_on_resume_and_when_deleted(tmp_path, make_problem):
    run_dir = killed_run(tmp_path, make_problem, evals=12, extra=("--evaluator", "serial"))
    (run_dir / "results.csv").write_text("trial_id,garbage\n")  # out of step with the database
    p = run_hps("resume", "r", "--max-evals", "14", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert csv_rows(run_dir) == db_rows(run_dir) and len(csv_rows(run_dir)) == 14
    (run_dir / "results.csv").unlink()
    assert run_hps("resume", "r", "--max-evals", "15", cwd=tmp_path).returncode == 0
    assert csv_rows(run_dir) == db_rows(run_dir) and len(csv_rows(run_dir)) == 15


def test_results_csv_deleted_during_a_run_comes_back(tmp_path, make_problem):
    folder = make_problem("deleter", problem=SLOW_PROBLEM, model_run="""
        import os
        def run(config, trial):
            if trial.id == 3:
                os.remove("r/results.csv")
            return config["x"]
        """)
    p = run_hps("run", "-p", folder, "--max-evals", "6", "--seed", "1", "--run-dir", "r", "--evaluator",
                "serial", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert csv_rows(tmp_path / "r") == db_rows(tmp_path / "r") and len(csv_rows(tmp_path / "r")) == 6


def _finished_run(tmp_path, evals=5):
    p = run_hps("run", "-p", "branin", "--max-evals", evals, "--seed", "1", "--run-dir", "r", "--evaluator",
                "serial", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    return tmp_path / "r"


@pytest.mark.slow
def test_reading_a_run_on_read_only_storage(tmp_path):
    run_dir = _finished_run(tmp_path)
    expected = run_hps("results", "r", "--format", "csv", cwd=tmp_path).stdout
    hps = f"{sys.executable} -m hpsearch"
    checks = textwrap.dedent(f"""
        touch {run_dir}/probe 2>/dev/null && exit 98
        {hps} results {run_dir} --format csv || exit 1
        {hps} plot {run_dir} --out {tmp_path}/pngs >/dev/null || exit 2
        {hps} plot {run_dir} 2>{tmp_path}/plot.err && exit 3
        exit 0
        """)
    if can_mount():  # a read-only bind mount: what an archive or a shared results folder is
        cmd = ["unshare", "-m", "sh", "-c",
               f"mount --bind {run_dir} {run_dir} && mount -o remount,ro,bind {run_dir} || exit 99\n" + checks]
    elif os.geteuid() != 0:
        os.chmod(run_dir, 0o555)  # root would ignore this
        cmd = ["sh", "-c", checks]
    else:
        pytest.skip("root without mount namespaces: cannot make a read-only directory")
    try:
        p = subprocess.run(cmd, env=hps_env(), capture_output=True, text=True, timeout=120)
    finally:
        os.chmod(run_dir, 0o755)
    assert p.returncode == 0, p.stderr
    assert p.stdout == expected
    assert (tmp_path / "pngs" / "best_vs_evaluations.png").is_file()
    err = (tmp_path / "plot.err").read_text().strip().splitlines()
    assert len(err) == 1 and "cannot write the plots there" in err[0] and "--out DIR" in err[0]


@pytest.mark.slow
@pytest.mark.skipif(not can_mount(), reason="needs mount namespaces (unshare -m) for a read-only bind mount")
def test_a_killed_run_copied_without_its_shm_reads_in_full_from_read_only_storage(tmp_path):
    run_dir = killed_after_a_checkpoint(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("results.db-shm"))
    rows = committed(copy)
    assert len(finished(committed(copy, "immutable=1"))) < len(finished(rows))  # some are only in the -wal
    hps = f"{sys.executable} -m hpsearch"
    p = subprocess.run(read_only(copy, f"{hps} results {copy} --format csv --top 0 --all --failed "
                                       f"&& {hps} results {copy} --top 1 >{tmp_path}/table"),
                       env=hps_env(), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    shown = {int(r["trial_id"]): r["status"] for r in csv.DictReader(p.stdout.splitlines())}
    assert shown == finished(rows)
    running = len(rows) - len(finished(rows))  # cut off by the kill: none shown as finished, none lost
    assert (f"{running} running or interrupted" in (tmp_path / "table").read_text()) == (running > 0)


DRIVER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint=0")
conn.execute("UPDATE trials SET worker='w'")  # committed to the -wal only
print("ready", flush=True)
for line in sys.stdin:  # read once: finding the WAL index damaged, rebuild it
    conn.execute("SELECT COUNT(*) FROM trials").fetchone()
    print("read", flush=True)
"""


def test_a_reader_waits_while_a_starting_driver_rebuilds_the_wal_index(tmp_path, monkeypatch):
    from hpsearch.store import reading

    run_dir = _finished_run(tmp_path)
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, run_dir / "results.db"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert driver.stdout.readline() == "ready\n"
        waits = []

        def sleep(seconds):  # the driver rebuilds the index while the reader waits
            waits.append(seconds)
            driver.stdin.write("read\n")
            driver.stdin.flush()
            assert driver.stdout.readline() == "read\n"

        with RunStore.open(run_dir, readonly=True) as store, monkeypatch.context() as patch:
            patch.setattr(reading.time, "sleep", sleep)
            with open(run_dir / "results.db-shm", "r+b") as shm:  # what a driver starting up does first
                shm.write(bytes(136))
            assert [t.worker for t in store.trials()] == ["w"] * 5
        assert waits
    finally:
        driver.stdin.close()
        driver.wait(timeout=10)


def test_readonly_store_uses_immutable_open_when_the_directory_is_not_writable(tmp_path, monkeypatch):
    run_dir = _finished_run(tmp_path)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real_access(p, mode))
    opened = []
    real_connect = sqlite3.connect

    def connect(target, *a, **k):
        opened.append(str(target))
        return real_connect(target, *a, **k)

    monkeypatch.setattr(sqlite3, "connect", connect)
    with RunStore.open(run_dir, readonly=True) as store:
        assert len(store.trials()) == 5
    assert opened and "mode=ro" in opened[-1]


class _FullAfter:
    """A connection that fails like a full disk after ``n`` more trial updates."""

    def __init__(self, conn, n):
        self._conn, self._n = conn, n

    def execute(self, sql, *args):
        if sql.startswith("UPDATE trials SET objective"):
            self._n -= 1
            if self._n < 0:
                raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_disk_full_is_one_line_exit_3_and_resumable(runner, in_tmp, monkeypatch):
    real = RunStore._connect
    monkeypatch.setattr(RunStore, "_connect", staticmethod(lambda path: _FullAfter(real(path), 4)))
    out = runner.invoke(cli, ["run", "-p", "branin", "--max-evals", "10", "--seed", "1", "--run-dir", "r",
                              "--evaluator", "serial"])
    assert out.exit_code == 3, out.output
    lines = [line for line in out.output.splitlines() if line.startswith("Error")]
    assert lines == ["Error: r: the disk is full (database or disk is full); nothing stored is lost: free some "
                     "space, then 'hps resume r'"]
    assert isinstance(out.exception, SystemExit) and out.exception.code == 3  # no traceback escaped
    before = db_rows(in_tmp / "r")
    assert len(before) == 4
    monkeypatch.setattr(RunStore, "_connect", staticmethod(real))
    again = runner.invoke(cli, ["resume", "r"])
    assert again.exit_code == 0, again.output
    after = db_rows(in_tmp / "r")
    assert after[:4] == before and len(after) == 10
    assert csv_rows(in_tmp / "r") == after


@pytest.mark.skipif(not can_mount(), reason="needs mount namespaces (unshare -m) for a small tmpfs")
def test_a_really_full_filesystem(tmp_path, make_problem):
    folder = make_problem("big", problem=SLOW_PROBLEM, model_run="""
        def run(config):
            return {"objective": config["x"], "pad": "x" * 30000}
        """)
    disk = tmp_path / "disk"
    disk.mkdir()
    hps = f"{sys.executable} -m hpsearch"
    script = textwrap.dedent(f"""
        mount -t tmpfs -o size=400k tmpfs {disk} || exit 99
        cd {disk}
        {hps} run -p {folder} --max-evals 40 --seed 1 --run-dir r --evaluator serial \
            >{tmp_path}/run.out 2>{tmp_path}/run.err
        echo $? > {tmp_path}/run.rc
        cp r/results.db {tmp_path}/before.db
        mount -o remount,size=8m {disk}
        {hps} resume r >{tmp_path}/resume.out 2>{tmp_path}/resume.err
        echo $? > {tmp_path}/resume.rc
        cp -r r {tmp_path}/final
        """)
    p = subprocess.run(["unshare", "-m", "sh", "-c", script], env=hps_env(), capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    err = (tmp_path / "run.err").read_text()
    assert (tmp_path / "run.rc").read_text().strip() == "3", err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("Error")] == [
        line for line in err.splitlines() if "disk is full" in line]
    assert (tmp_path / "resume.rc").read_text().strip() == "0", (tmp_path / "resume.err").read_text()
    final = tmp_path / "final"
    rows = db_rows(final)
    assert len(rows) == 40 and csv_rows(final) == rows


def test_half_created_store_does_not_block_the_directory(runner, in_tmp):
    run_dir = in_tmp / "r"
    run_dir.mkdir()
    conn = sqlite3.connect(run_dir / "results.db")  # creation died after the schema, before the settings
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.commit()
    conn.close()
    one_line_error(runner.invoke(cli, ["resume", "r"]), "incomplete run store")
    out = runner.invoke(cli, ["run", "-p", "branin", "--max-evals", "3", "--run-dir", "r", "--evaluator",
                              "serial"])
    assert out.exit_code == 0, out.output
    assert len(db_rows(run_dir)) == 3


def _damage(run_dir, how):
    db = run_dir / "results.db"
    if how == "garbage":
        db.write_bytes(b"this is not a database" * 100)
    elif how == "truncated":
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 3])
    else:
        conn = sqlite3.connect(db)
        if how == "bad json":
            conn.execute("UPDATE trials SET params='{not json' WHERE trial_id=1")
        elif how == "no settings":
            conn.execute("DELETE FROM meta WHERE key='settings'")
        conn.commit()
        conn.close()


@pytest.mark.parametrize("how, fragment", [("garbage", "not a readable run store"),
                                           ("truncated", "results.db"),
                                           ("bad json", "damaged row"),
                                           ("no settings", "settings are missing")])
def test_damaged_store_is_one_line_on_resume(runner, in_tmp, how, fragment):
    out = runner.invoke(cli, ["run", "-p", "branin", "--max-evals", "30", "--run-dir", "r", "--evaluator",
                              "serial"])
    assert out.exit_code == 0
    for suffix in ("-wal", "-shm"):
        assert not (in_tmp / "r" / f"results.db{suffix}").exists()
    _damage(in_tmp / "r", how)
    result = runner.invoke(cli, ["resume", "r", "--max-evals", "31"])
    one_line_error(result, fragment, "results.db")


def test_resume_imports_the_problem_only_when_a_trial_will_run(tmp_path, make_problem):
    marker = tmp_path / "imported"
    folder = make_problem("marked", problem=SLOW_PROBLEM + f"\nopen({str(marker)!r}, 'a').write('x')\n",
                          model_run="def run(config):\n    return config['x']\n")
    p = run_hps("run", "-p", folder, "--max-evals", "3", "--run-dir", "r", "--evaluator", "serial", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    marker.unlink()
    p = run_hps("resume", "r", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "nothing left to run" in p.stdout and not marker.exists()
    assert f"problem folder: {folder}" in run_hps("results", "r", cwd=tmp_path).stdout
    p = run_hps("resume", "r", "--max-evals", "4", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert f"importing the problem folder {folder}" in p.stderr and marker.exists()


def test_json_results_have_null_for_nan(runner, in_tmp, make_problem):
    folder = make_problem("nanmetric", problem=SLOW_PROBLEM, model_run="""
        def run(config):
            return {"objective": config["x"], "extra": float("nan"), "big": float("inf")}
        """)
    assert runner.invoke(cli, ["run", "-p", str(folder), "--max-evals", "2", "--run-dir", "r", "--evaluator",
                               "serial"]).exit_code == 0
    out = runner.invoke(cli, ["results", "r", "--format", "json"])
    assert out.exit_code == 0 and "NaN" not in out.output and "Infinity" not in out.output
    rows = json.loads(out.output)
    assert rows[0]["m:extra"] is None and rows[0]["m:big"] is None



def test_compare_holds_its_directory_and_each_run(runner, in_tmp):
    from hpsearch.store.lock import RunDirLock

    with RunDirLock(in_tmp / "cmp"):  # another hps compare on the same --out
        one_line_error(runner.invoke(cli, ["compare", "-p", "branin", "--algo", "random", "--seeds", "1",
                                           "--budget", "3", "--out", "cmp", "--evaluator", "serial"]),
                       "cmp: already open in this process")
    args = ["compare", "-p", "branin", "--algo", "random", "--budget", "3", "--out", "cmp", "--evaluator", "serial"]
    assert runner.invoke(cli, [*args, "--seeds", "1"]).exit_code == 0
    with RunDirLock(in_tmp / "cmp" / "random-seed1"):  # a driver on one of its runs
        out = runner.invoke(cli, [*args, "--seeds", "2"])
        assert out.exit_code == 2 and "random-seed1: already open in this process" in out.output
    out = runner.invoke(cli, [*args, "--seeds", "2"])
    assert out.exit_code == 0, out.output
