"""The several-machines recipe of the Parallel page, on loopback: ``dask scheduler`` and ``dask worker``
as real subprocesses, ``hps run --evaluator dask --dask-scheduler tcp://127.0.0.1:PORT``, and workers
that join and die while the run goes on."""
from __future__ import annotations

import subprocess
import time

import pytest

pytest.importorskip("distributed")

from ..conftest import RECIPE_SCHEDULER, RECIPE_WORKER, SLOW_PROBLEM, Cluster, hps_cmd, hps_env  # noqa: E402
from .conftest import rows  # noqa: E402

#: each trial notes where it starts and ends. On the worker named "first", the third trial and later
#: ones wait (polling, at most 300 s) until a trial has started on the worker named "late", so the
#: run cannot end before that worker joins; and a trial started there once MARKS.hold exists never
#: ends by itself (the test kills its worker under it).
MARKING_RUN = """
import os
import time

MARKS = {marks!r}
WORKER = os.environ.get("HPS_TEST_WORKER", "?")


def note(what, trial):
    with open(MARKS, "a") as f:
        f.write(f"{{what}} {{trial.id}} {{WORKER}}\\n")


def lines():
    with open(MARKS) as f:
        return f.read().splitlines()


def run(config, trial):
    note("start", trial)
    if WORKER == "first" and os.path.exists(MARKS + ".hold"):
        note("held", trial)
        time.sleep(600)
    if WORKER == "first" and sum(line.startswith("end") for line in lines()) >= 2:
        end = time.monotonic() + 300
        while not any(line.endswith(" late") for line in lines()) and time.monotonic() < end:
            time.sleep(0.05)
    time.sleep(0.3)
    note("end", trial)
    return {{"objective": (config["x"] - 0.3) ** 2}}
"""


def marks(path):
    """The (what, trial_id, worker name) lines the trials wrote so far, in order."""
    if not path.exists():
        return []
    return [(w, int(t), n) for w, t, n in (line.split() for line in path.read_text().splitlines() if line)]


def ran_together(lines) -> bool:
    """True if at some moment a trial ran on "first" and another on "late"."""
    running: dict[int, str] = {}
    for what, tid, name in lines:
        if what == "start":
            running[tid] = name
            if {"first", "late"} <= set(running.values()):
                return True
        elif what == "end":
            running.pop(tid, None)
    return False


def poll(condition, proc, what, limit=120.0):
    end = time.monotonic() + limit
    while not condition():
        assert proc.poll() is None, f"the run ended before {what}: {proc.communicate()}"
        assert time.monotonic() < end, f"no {what} within {limit:g} s"
        time.sleep(0.05)


@pytest.mark.slow
def test_workers_joining_and_dying_during_a_run(tmp_path, make_problem):
    mark_file = tmp_path / "marks.txt"
    folder = make_problem("marking", problem=SLOW_PROBLEM, model_run=MARKING_RUN.format(marks=str(mark_file)))
    (tmp_path / "cluster").mkdir()
    cluster = Cluster(tmp_path / "cluster", scheduler=RECIPE_SCHEDULER)
    run = None
    try:
        first = cluster.add_worker("first", env=hps_env({"HPS_TEST_WORKER": "first"}), command=RECIPE_WORKER)
        cluster.wait_for_workers(1)
        assert cluster.address.startswith("tcp://127.0.0.1:")
        run = subprocess.Popen(
            hps_cmd("run", "-p", str(folder), "--max-evals", "30", "--seed", "5", "--workers", "1",
                    "--evaluator", "dask", "--dask-scheduler", cluster.address, "--run-dir", "r"),
            cwd=tmp_path, env=hps_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        poll(lambda: sum(w == "end" for w, _, _ in marks(mark_file)) >= 2, run, "trial on the first worker")

        # a worker that joins late gets trials beside the first one (the run asked for one worker)
        cluster.add_worker("late", env=hps_env({"HPS_TEST_WORKER": "late"}), command=RECIPE_WORKER)
        poll(lambda: ran_together(marks(mark_file)), run, "trial on the late worker beside the first's")

        # a worker that dies under a trial loses that trial alone, which runs again elsewhere
        (tmp_path / "marks.txt.hold").touch()
        poll(lambda: any(w == "held" for w, _, _ in marks(mark_file)), run, "held trial on the first worker")
        held = next(t for w, t, _ in marks(mark_file) if w == "held")
        Cluster.kill(first)
        out, err = run.communicate(timeout=240)
    finally:
        if run is not None and run.poll() is None:
            run.kill()
            run.wait(10)
        cluster.close()
    assert run.returncode == 0, err
    assert "evaluations:   30 done, 0 failed, 0 timeout" in out
    table = rows(tmp_path / "r" / "results.csv")
    assert sorted(int(r["trial_id"]) for r in table) == list(range(30))
    lines = marks(mark_file)
    starts = {t: [n for w, tid, n in lines if w == "start" and tid == t] for t in range(30)}
    assert starts[held] == ["first", "late"]  # retried on the worker still there
    assert all(len(names) == 1 for t, names in starts.items() if t != held)  # no other trial ran twice
    assert ("end", held, "late") in lines
