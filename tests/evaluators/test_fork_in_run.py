"""A process that a trial's run() forks is never the driver (nor a worker): it holds no lock, gets no
signal of the driver's, never stores or reports, exits when it leaves run(), and under the serial
evaluator it is killed when its trial ends."""
import os
import signal
import subprocess
import time

import pytest

from hpsearch.store.lock import DirectoryInUse, RunDirLock

from ..conftest import SLOW_PROBLEM, hps_cmd, hps_env, run_hps
from .conftest import gone, rows

# FORK_MODE (from the environment) says what run() does; PID_DIR is where the child writes its pid.
FORKING_RUN = """
import os, time

def wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.01)

def run(config, trial):
    mode = os.environ["FORK_MODE"]
    if mode == "quick":
        return config["x"]
    pid_file = os.path.join(os.environ["PID_DIR"], f"child-{trial.id}.pid")
    pid = os.fork()
    if pid == 0:  # the child
        if mode == "return":
            return 1000.0 + config["x"]  # a forked copy returning: must never be stored
        with open(pid_file + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(pid_file + ".tmp", pid_file)
        time.sleep(60)
        return 1000.0
    if mode == "return":
        os.waitpid(pid, 0)
    elif mode == "wait":  # until the child is killed; say how it ended
        _, status = os.waitpid(pid, 0)
        return {"objective": config["x"], "child_status": status}
    elif mode == "hold":  # the trial goes on (the test kills the driver)
        time.sleep(60)
    else:  # "leave": the child outlives run()
        wait_for(pid_file)
    return config["x"]
"""


@pytest.fixture
def forking(tmp_path, make_problem):
    folder = make_problem("forking", problem=SLOW_PROBLEM, model_run=FORKING_RUN)
    pids = tmp_path / "pids"
    pids.mkdir()
    started = []

    def env(mode):
        return {"FORK_MODE": mode, "PID_DIR": str(pids)}

    def child_pids():
        found = {int(p.read_text()) for p in pids.glob("child-*.pid")}
        started.extend(found - set(started))
        return found

    yield folder, env, child_pids
    for pid in started:  # whatever a failing test left behind
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for_children(child_pids, n, proc=None, limit=60.0):
    end = time.monotonic() + limit
    while len(child_pids()) < n:
        assert proc is None or proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "the trial's child did not start"
        time.sleep(0.05)
    return child_pids()


def test_a_child_left_running_by_run_dies_with_its_trial(tmp_path, forking):
    folder, env, child_pids = forking
    p = run_hps("run", "-p", folder, "--evaluator", "serial", "--max-evals", "2", "--seed", "1",
                "--run-dir", "r", cwd=tmp_path, env=env("leave"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("run directory:") == 1
    assert len(child_pids()) == 2
    assert gone(child_pids(), limit=30)
    p = run_hps("resume", "r", "--max-evals", "3", "--evaluator", "serial", cwd=tmp_path, env=env("quick"))
    assert p.returncode == 0, p.stderr
    assert [r["status"] for r in rows(tmp_path / "r" / "results.csv")] == ["done"] * 3


def test_a_forked_child_does_not_keep_the_lock_of_a_killed_driver(tmp_path, forking):
    folder, env, child_pids = forking
    proc = subprocess.Popen(hps_cmd("run", "-p", folder, "--evaluator", "serial", "--max-evals", "1",
                                    "--seed", "1", "--run-dir", "r"),
                            cwd=tmp_path, env=hps_env(env("hold")), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        (child,) = wait_for_children(child_pids, 1, proc)
    finally:
        proc.kill()  # the driver dies (as the out-of-memory killer would kill it); its child lives on
        proc.wait()
    with open(f"/proc/{child}/stat") as f:
        assert f.read().split(") ")[-1].split()[0] != "Z"  # still running
    p = run_hps("resume", "r", "--evaluator", "serial", cwd=tmp_path, env=env("quick"))
    assert p.returncode == 0, p.stderr
    assert "in use" not in p.stderr
    assert [r["status"] for r in rows(tmp_path / "r" / "results.csv")] == ["done"]


def test_a_signal_to_a_forked_child_is_not_one_to_the_driver(tmp_path, forking):
    folder, env, child_pids = forking
    proc = subprocess.Popen(hps_cmd("run", "-p", folder, "--evaluator", "serial", "--max-evals", "1",
                                    "--seed", "1", "--run-dir", "r"),
                            cwd=tmp_path, env=hps_env(env("wait")), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    (child,) = wait_for_children(child_pids, 1, proc)
    os.kill(child, signal.SIGTERM)  # run() waits for its child, then returns
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "interrupted" not in out + err
    assert out.count("run directory:") == 1
    (row,) = rows(tmp_path / "r" / "results.csv")
    assert row["status"] == "done"
    status = int(float(row["m:child_status"]))
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM  # as any process would end


@pytest.mark.parametrize("evaluator", ["serial", "process"])
def test_a_forked_copy_that_returns_from_run_stores_nothing(tmp_path, forking, evaluator):
    folder, env, _ = forking
    p = run_hps("run", "-p", folder, "--evaluator", evaluator, "--max-evals", "3", "--seed", "1",
                "--run-dir", "r", cwd=tmp_path, env=env("return"), timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("run directory:") == 1
    table = rows(tmp_path / "r" / "results.csv")
    assert sorted(r["trial_id"] for r in table) == ["0", "1", "2"]
    assert all(float(r["objective"]) < 1 for r in table), table  # the parents' values, not the copies'


def test_a_forked_child_does_not_share_a_run_directory_lock(tmp_path):
    lock = RunDirLock(tmp_path).acquire()
    go_r, go_w = os.pipe()
    up_r, up_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child (its fork hooks have run) says it is up, then waits to be told to exit
        try:
            os.write(up_w, b"x")
            os.read(go_r, 1)
        finally:
            os._exit(0)
    try:
        os.read(up_r, 1)
        lock.release()
        try:
            RunDirLock(tmp_path).acquire().release()
        except DirectoryInUse as exc:
            pytest.fail(f"the lock stayed with the forked child: {exc}")
    finally:
        os.write(go_w, b"x")
        os.waitpid(pid, 0)
        for fd in (go_r, go_w, up_r, up_w):
            os.close(fd)


def test_a_forked_process_cannot_write_the_run_store(tmp_path):
    from hpsearch.store import RunStore, StoreError

    store = RunStore.create(tmp_path / "r", {}, ["x"])
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            store.set_meta("written_by", "the child")
        except StoreError as exc:
            code = 0 if "a process forked from it" in str(exc) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    store.close()
    assert os.waitstatus_to_exitcode(status) == 0
