"""Live runs, read-only storage, hostile strings, run status, and the CLI's words and exit codes."""
from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest

from hpsearch.cli import cli
from hpsearch.dashboard.query import run_status
from hpsearch.store import RunStore

from ..conftest import can_mount, committed, finished, hps_cmd, hps_env, killed_after_a_checkpoint, read_only
from .conftest import make_run
from .live import ERROR, HOSTILE, slow_problem, start_hps_run


@pytest.mark.slow
def test_a_live_run_grows_while_a_client_polls(tmp_path, serve):
    root = tmp_path / "runs"
    make_run(root / "old", max_evals=3)
    srv = serve(root)  # started before the live run exists: it must appear without a restart
    folder = slow_problem(tmp_path)
    proc = start_hps_run(folder, root / "live", max_evals=25)
    seen, statuses, since, streamed = [], set(), 0, []
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            live = [r for r in srv.json("/api/runs") if r["path"].endswith("/live")]
            if live:
                statuses.add(live[0]["status"])
                seen.append(live[0]["done"] + live[0]["failed"])
                pts = srv.json(f"/api/run/{live[0]['key']}/points?since={since}")
                assert pts["since"] == since
                streamed += [t[0] for t in pts["trials"]]
                since = pts["total"]
            time.sleep(0.2)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "locked" not in err + out
    assert "running" in statuses
    assert seen == sorted(seen) and len(set(seen)) >= 5, seen
    # Once the driver has exited, the server shows the finished run with every evaluation (polled with a
    # deadline that only a server which never notices the end would reach).
    deadline = time.monotonic() + 60
    while True:
        (live,) = [r for r in srv.json("/api/runs") if r["path"].endswith("/live")]
        if live["status"] == "finished" and live["done"] + live["failed"] == 25:
            break
        assert time.monotonic() < deadline, live
        time.sleep(0.1)
    streamed += [t[0] for t in srv.json(f"/api/run/{live['key']}/points?since={since}")["trials"]]
    assert sorted(streamed) == list(range(25))  # incremental polling saw each evaluation exactly once
    assert live["failed"] >= 1  # x > 0.85 raises: the hostile error text is stored


def _tree(path):
    """Every file's mtime, size and hash (directories by name: SQLite may open and remove its -shm)."""
    out = {}
    for p in sorted(path.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(path))] = (st.st_mtime_ns, st.st_size, hashlib.sha1(p.read_bytes()).hexdigest()) \
            if p.is_file() else "dir"
    return out


REPORTING = dict(
    problem="""
        from hpsearch import HpProblem
        Problem = HpProblem(objective="loss", direction="minimize")
        Problem.add_dim("lr", (1e-4, 1e-1, "log-uniform"), default=1e-2)
        Problem.add_dim("epochs", (1, 9), default=1, resource=True)
    """,
    model_run="""
        def run(config, trial):
            for step in range(1, config["epochs"] + 1):
                trial.report(step, loss=config["lr"] / step)
            return config["lr"] / config["epochs"]
    """,
)


def test_read_only_storage_is_served_and_left_untouched(tmp_path, serve, make_problem):
    folder = make_problem("reporting", **REPORTING)
    run = make_run(tmp_path / "ro" / "run", problem=str(folder), algo="asha", max_evals=30)
    with RunStore.open(run, readonly=True) as store:
        n = len(store.trials())
    assert n >= 10
    before = _tree(tmp_path / "ro")
    modes = {p: p.stat().st_mode for p in [tmp_path / "ro", *(tmp_path / "ro").rglob("*")]}
    for p in modes:
        p.chmod(stat.S_IMODE(modes[p]) & ~0o222)
    try:
        srv = serve(tmp_path / "ro")
        (row,) = srv.json("/api/runs")
        assert row["status"] == "finished" and row["done"] == n
        key = row["key"]
        for path in ("/", f"/run/{key}", f"/run/{key}/trial/0", f"/api/run/{key}", f"/api/run/{key}/points",
                     f"/api/run/{key}/table?sort=objective", f"/api/run/{key}/reports", f"/api/run/{key}/trial/5"):
            assert srv.get(path)[0] == 200, path
        reports = srv.json(f"/api/run/{key}/reports")["reports"]
        assert len(reports) == n and all(r["reports"][-1]["step"] == len(r["reports"]) for r in reports)
    finally:
        for p, m in modes.items():
            p.chmod(stat.S_IMODE(m))
    assert _tree(tmp_path / "ro") == before  # no -wal/-shm left behind, nothing rewritten
    assert not (run / "results.db-wal").exists()


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    return killed_after_a_checkpoint(tmp_path_factory.mktemp("killed"))


def _store_files(run_dir) -> dict[str, str]:
    return {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(run_dir.glob("results.db*"))}


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _dashboard(cmd: list[str]) -> tuple[subprocess.Popen, str]:
    """A dashboard started by ``cmd`` (its last command ``hps dashboard ... --port 0``) and its URL."""
    proc = subprocess.Popen(cmd, env=hps_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("hps dashboard: http://"):
        proc.kill()
        raise AssertionError(proc.communicate())
    return proc, line.split()[2]


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    return err


@pytest.mark.slow
@pytest.mark.parametrize("shm", [True, False], ids=["with-shm", "without-shm"])
@pytest.mark.parametrize("storage", ["writable", "read-only"])
def test_readers_leave_a_killed_run_as_it_is_and_show_every_row(tmp_path, killed, storage, shm):
    if storage == "read-only" and not can_mount():
        pytest.skip("needs mount namespaces (unshare -m) for a read-only bind mount")
    run_dir = tmp_path / "run"
    shutil.copytree(killed, run_dir, ignore=None if shm else shutil.ignore_patterns("results.db-shm"))
    before = _store_files(run_dir)
    rows = committed(run_dir)
    out = tmp_path / "out"
    hps = f"{sys.executable} -m hpsearch"
    script = (f"{hps} results {run_dir} --format csv --top 0 --all --failed >{out}.csv || exit 1\n"
              f"{hps} plot {run_dir} --out {out} >/dev/null || exit 2\n"
              f"exec {hps} dashboard {run_dir} --port 0")
    proc, url = _dashboard(read_only(run_dir, script) if storage == "read-only" else ["sh", "-c", script])
    try:
        (run,) = json.loads(_fetch(url + "api/runs")[1])
        key = run["key"]
        pages = {path: _fetch(f"{url}{path}") for path in (
            f"run/{key}", f"api/run/{key}", f"api/run/{key}/points", f"api/run/{key}/table?size=1000",
            f"api/run/{key}/table?sort=p:x0", f"api/run/{key}/reports", f"run/{key}/trial/1",
            f"api/run/{key}/trial/1")}
    finally:
        err = _stop(proc)
    assert "Traceback" not in err
    assert {path: status for path, (status, _) in pages.items()} == dict.fromkeys(pages, 200)
    assert _store_files(run_dir) == before  # nothing merged, created or deleted
    with open(f"{out}.csv") as f:
        assert {int(r["trial_id"]): r["status"] for r in csv.DictReader(f)} == finished(rows)
    assert (out / "best_vs_evaluations.png").is_file()
    assert run["done"] == Counter(rows.values())["done"]
    assert json.loads(pages[f"api/run/{key}"][1])["counts"] == dict(Counter(rows.values()))
    assert json.loads(pages[f"api/run/{key}/points"][1])["total"] == len(finished(rows))
    assert json.loads(pages[f"api/run/{key}/table?size=1000"][1])["total"] == len(rows)


def test_a_damaged_store_or_a_bad_log_name_is_a_4xx_not_a_traceback(tmp_path):
    root = tmp_path / "runs"
    for name in ("good", "garbage", "truncated", "bad-json"):
        make_run(root / name, max_evals=4)
    (root / "good" / "logs").mkdir()
    (root / "garbage" / "results.db").write_bytes(b"this is not a database" * 100)
    data = (root / "truncated" / "results.db").read_bytes()
    (root / "truncated" / "results.db").write_bytes(data[: len(data) // 3])
    conn = sqlite3.connect(root / "bad-json" / "results.db")
    conn.execute("UPDATE trials SET params='{not json' WHERE trial_id=1")
    conn.commit()
    conn.close()
    proc, url = _dashboard(hps_cmd("dashboard", root, "--port", "0"))
    try:
        runs = {r["path"].rpartition("/")[2]: r for r in json.loads(_fetch(url + "api/runs")[1])}
        good = runs["good"]["key"]
        logs = {name: _fetch(f"{url}run/{good}/logs/{name}")[0] for name in ("%00", "x%00y", "a" * 300)}
        damaged = {}
        for name in ("garbage", "truncated", "bad-json"):
            key = runs[name]["key"]
            for path in (f"run/{key}", f"run/{key}/trial/1", f"api/run/{key}", f"api/run/{key}/points",
                         f"api/run/{key}/table", f"api/run/{key}/reports", f"api/run/{key}/trial/1"):
                damaged[name, path.replace(key, "K")] = _fetch(url + path)
    finally:
        err = _stop(proc)
    assert "Traceback" not in err and "ERROR" not in err, err
    assert logs == dict.fromkeys(logs, 404)
    assert "error" in runs["garbage"] and "error" in runs["truncated"]
    for (name, path), (status, body) in damaged.items():
        if name != "bad-json" or path in ("api/run/K/trial/1", "api/run/K/table"):  # they decode trial 1
            assert status == 409, (name, path, status, body)
            assert f"{name}/results.db: not a readable run store" in body.decode(), (name, path, body)
        else:
            assert status == 200, (name, path, status, body)


def test_hostile_strings_are_escaped_in_pages(tmp_path, serve):
    folder = slow_problem(tmp_path, sleep=0.0)
    proc = start_hps_run(folder, tmp_path / "runs" / "evil", max_evals=30)
    assert proc.wait(timeout=120) == 0
    srv = serve(tmp_path / "runs")
    (row,) = srv.json("/api/runs")
    assert row["problem"] == "slow<b>prob"  # JSON carries the raw string; the scripts use textContent
    key = row["key"]
    html = srv.get(f"/run/{key}")[2].decode()
    assert "slow&lt;b&gt;prob" in html and "slow<b>prob" not in html
    failed = srv.json(f"/api/run/{key}/table?status=failed")
    assert failed["total"] >= 1
    err_col = failed["columns"].index("error")
    assert ERROR in failed["rows"][0][err_col]
    tags = {r[failed["columns"].index("p:tag")] for r in srv.json(f"/api/run/{key}/table?size=100")["rows"]}
    assert HOSTILE in tags
    for name in ("common.js", "runs.js", "run.js", "trial.js", "compare.js"):
        assert "innerHTML" not in srv.get(f"/static/{name}")[2].decode(), name


def test_status_running_from_the_lock_interrupted_without_a_driver(tmp_path):
    run = make_run(tmp_path / "r", max_evals=2)
    assert run_status(run, n_unfinished=0) == "finished"
    assert run_status(run, n_unfinished=2) == "interrupted"
    fd = os.open(run / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        assert run_status(run, n_unfinished=0) == "finished"  # a lock file nobody holds
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what hps run holds while it runs
        assert run_status(run, n_unfinished=1) == "running"
    finally:
        os.close(fd)
    assert run_status(run, n_unfinished=1) == "interrupted"
    wal = run / "results.db-wal"
    wal.write_bytes(b"")  # no lock file: a WAL written to just now means a live driver
    (run / ".lock").unlink()
    assert run_status(run, n_unfinished=0) == "running"
    old = time.time() - 600
    os.utime(wal, (old, old))
    assert run_status(run, n_unfinished=1) == "interrupted"


def test_cli_prints_the_url_and_ctrl_c_exits_130(tmp_path):
    make_run(tmp_path / "runs" / "r", max_evals=2)
    proc = subprocess.Popen(hps_cmd("dashboard", "--port", "0"), cwd=tmp_path, env=hps_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("hps dashboard: http://127.0.0.1:") and line.rstrip().endswith("(Ctrl-C stops it)")
        url = line.split()[2]
        import urllib.request

        with urllib.request.urlopen(url + "api/runs", timeout=10) as r:
            assert r.status == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in proc.stderr.read()


def test_cli_usage_errors_are_one_line_exit_2(tmp_path, runner, monkeypatch):
    make_run(tmp_path / "runs" / "r", max_evals=2)
    (tmp_path / "empty").mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = runner.invoke(cli, ["dashboard", str(tmp_path / "runs"), "--port", str(port)])
    assert res.exit_code == 2
    assert res.output.strip() == f"Error: --port {port}: already in use (choose another with --port)"
    res = runner.invoke(cli, ["dashboard", str(tmp_path / "empty")])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "no runs found" in res.output
    res = runner.invoke(cli, ["dashboard", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "no such directory" in res.output
    monkeypatch.setitem(sys.modules, "flask", None)
    res = runner.invoke(cli, ["dashboard", str(tmp_path / "runs")])
    assert res.exit_code == 2
    assert res.output.strip() == 'Error: hps dashboard needs the dashboard extra: pip install "hpsearch[dashboard]"'
