"""Workers forked from the run's fork server behave as workers started as fresh interpreters: their own
session, their slot's GPUs and thread variables, their own random state, and nothing left when the driver dies."""
import os
import signal
import subprocess

import pytest

from hpsearch.evaluators import make_evaluator as build

from ..conftest import SLOW_PROBLEM, hps_cmd, hps_env, wait_rows
from .conftest import gone
from .contract import collect, spec

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not os.path.isdir("/proc/self"),
                                reason="a fork server needs fork() and /proc")

FORKED_RUN = """
import os, random, sys

import numpy

def run(config, trial):
    if config.get("mode") == "exit":
        os._exit(3)
    print(f"trial {trial.id} says hello", flush=True)
    return {"objective": config["x"], "pid": os.getpid(), "ppid": os.getppid(), "pgid": os.getpgid(0),
            "sid": os.getsid(0), "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "hip": os.environ.get("HIP_VISIBLE_DEVICES"), "omp": os.environ.get("OMP_NUM_THREADS"),
            "stdin": os.readlink("/proc/self/fd/0"), "np": int(numpy.random.randint(2 ** 31)),
            "py": random.getrandbits(31)}
"""

PPID_RUN = """
import os, time

def run(config, trial):
    with open(os.path.join(os.environ["PID_DIR"], f"{trial.id}"), "w") as f:
        f.write(f"{os.getpid()} {os.getppid()}")
    time.sleep(0.2)
    return config["x"]
"""


@pytest.fixture
def forked_problem(make_problem):
    return make_problem("forked", problem=SLOW_PROBLEM, model_run=FORKED_RUN)


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().split(") ")[-1].split()[1])


def test_workers_are_forked_from_one_server_with_their_slots_env(tmp_path, forked_problem, monkeypatch):
    monkeypatch.delenv("HPS_WORKER_START", raising=False)
    monkeypatch.setenv("HPS_THREADS_PER_WORKER", "3")
    ev = build("process", forked_problem, workers=2, run_dir=tmp_path, gpu_slots=[["0"], ["1", "2"]])
    ev.start()
    try:
        for t in range(4):
            ev.submit(spec(t, x=0.1 * t))
        results = collect(ev, 4)
    finally:
        ev.close()
    metrics = [r.metrics for r in results.values()]
    assert all(r.status == "done" for r in results.values()), [r.error for r in results.values()]
    servers = {m["ppid"] for m in metrics}
    assert len(servers) == 1 and servers != {os.getpid()}  # one fork server, not the driver, is the parent
    for r in results.values():
        m, slot = r.metrics, r.worker.split("/")[0]
        assert m["pgid"] == m["sid"] == m["pid"]  # each worker leads its own session
        assert m["cuda"] == m["hip"] == {"w0": "0", "w1": "1,2"}[slot]
        assert m["omp"] == "3" and m["stdin"] == "/dev/null"
        assert (tmp_path / "logs" / f"trial-{r.trial_id}.log").read_text().endswith(
            f"trial {r.trial_id} says hello\n")
    firsts = {}  # each worker's first trial: its first draws
    for _, r in sorted(results.items()):
        firsts.setdefault(r.metrics["pid"], r.metrics)
    firsts = list(firsts.values())
    assert len(firsts) == 2
    assert len({m["np"] for m in firsts}) == len(firsts)  # numpy's random state is not the server's copy
    assert len({m["py"] for m in firsts}) == len(firsts)
    assert gone(servers)  # closing the evaluator stops its fork server


def test_a_worker_replaced_after_death_is_forked_again_with_the_slots_env(tmp_path, forked_problem,
                                                                          monkeypatch):
    monkeypatch.delenv("HPS_WORKER_START", raising=False)
    ev = build("process", forked_problem, workers=1, run_dir=tmp_path, gpu_slots=[["2", "3"]])
    ev.start()
    try:
        ev.submit(spec(0))
        first = collect(ev, 1)[0]
        ev.submit(spec(1, mode="exit"))
        died = collect(ev, 1)[1]
        ev.submit(spec(2))
        again = collect(ev, 1)[2]
    finally:
        ev.close()
    assert died.status == "failed" and died.error == "worker died (exit code 3)"
    assert first.status == again.status == "done"
    a, b = first.metrics, again.metrics
    assert b["pid"] != a["pid"] and b["ppid"] == a["ppid"] != os.getpid()  # a new fork of the same server
    assert b["cuda"] == "2,3" and b["pgid"] == b["sid"] == b["pid"]


def test_without_the_fork_server_workers_are_children_of_the_driver(tmp_path, forked_problem, monkeypatch):
    monkeypatch.setenv("HPS_WORKER_START", "popen")
    ev = build("process", forked_problem, workers=1, run_dir=tmp_path, gpu_slots=[["1"]])
    ev.start()
    try:
        ev.submit(spec(0))
        r = collect(ev, 1)[0]
    finally:
        ev.close()
    assert r.status == "done", r.error
    assert r.metrics["ppid"] == os.getpid() and r.metrics["cuda"] == "1"
    assert r.metrics["pgid"] == r.metrics["sid"] == r.metrics["pid"]


@pytest.mark.slow
def test_a_killed_driver_leaves_neither_fork_server_nor_worker(tmp_path, make_problem):
    folder = make_problem("ppid", problem=SLOW_PROBLEM, model_run=PPID_RUN)
    pids = tmp_path / "pids"
    pids.mkdir()
    env = hps_env({"PID_DIR": str(pids)})
    env.pop("HPS_WORKER_START", None)
    proc = subprocess.Popen(hps_cmd("run", "--problem", folder, "--max-evals", "200", "--workers", "3",
                                    "--run-dir", "run"),
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_rows(tmp_path / "run" / "results.csv", 6, proc)
        seen = [tuple(map(int, p.read_text().split())) for p in pids.iterdir() if p.read_text()]
        workers = {w for w, _ in seen}
        servers = {s for _, s in seen}
        assert len(servers) == 1 and servers != {proc.pid}
        assert parent_of(next(iter(servers))) == proc.pid  # the driver started the fork server
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert gone(servers | workers)
