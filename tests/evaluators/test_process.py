"""The process evaluator passes the evaluator contract, and survives hangs, crashes and kills."""
import pytest

from hpsearch.evaluators import make_evaluator as build

from .contract import EvaluatorContract, started


@pytest.fixture
def make_process_evaluator(tmp_path):
    with started("process", tmp_path) as make:
        yield make


class TestProcessEvaluator(EvaluatorContract):
    @pytest.fixture
    def make_evaluator(self, make_process_evaluator):
        return make_process_evaluator


# -- real runs through the CLI ---------------------------------------------------------------
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402

from ..conftest import SLOW_PROBLEM, hps_cmd, hps_env, run_hps, wait_rows  # noqa: E402
from .conftest import RECYCLED_RUN, gone, rows  # noqa: E402

MISBEHAVING_RUN = """
import os, signal, sys, time

def run(config, trial):
    print(f"hello from trial {trial.id}")
    sys.stdout.flush()
    os.write(2, f"C-level stderr of trial {trial.id}\\n".encode())
    if trial.id == 1:
        time.sleep(60)
    if trial.id == 2:
        os._exit(1)
    if trial.id == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return config["x"]
"""

SLEEPY_RUN = """
import time
def run(config):
    time.sleep(0.1)
    return (config["x"] - 0.3) ** 2
"""


def worker_pids(table):
    return {int(r["worker"].split("/")[1]) for r in table if "/" in r["worker"]}


@pytest.mark.slow
def test_timeout_exit_and_sigkill_fail_only_their_trials_and_output_goes_to_logs(tmp_path, make_problem):
    folder = make_problem("bad", problem=SLOW_PROBLEM, model_run=MISBEHAVING_RUN)
    p = run_hps("run", "-p", folder, "--max-evals", "8", "--seed", "1", "--workers", "2",
                "--trial-timeout", "3", "--run-dir", "r", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "evaluations:   5 done, 2 failed, 1 timeout" in p.stdout
    table = {int(r["trial_id"]): r for r in rows(tmp_path / "r" / "results.csv")}
    assert sorted(table) == list(range(8))
    assert table[1]["status"] == "timeout"
    assert table[1]["error"] == "trial exceeded the trial timeout of 3 s; its worker was stopped"
    assert 3 <= float(table[1]["duration_s"]) < 10
    assert (table[2]["status"], table[2]["error"]) == ("failed", "worker died (exit code 1)")
    assert table[3]["status"] == "failed"
    assert table[3]["error"].startswith("worker died (exit code -9: SIGKILL")
    assert all(table[t]["status"] == "done" for t in (0, 4, 5, 6, 7))
    later = {table[t]["worker"] for t in (4, 5, 6, 7)}
    assert table[2]["worker"] not in later and table[3]["worker"] not in later  # replaced workers took over
    logs = tmp_path / "r" / "logs"
    for t in range(8):
        text = (logs / f"trial-{t}.log").read_text()
        assert f"hello from trial {t}\n" in text and f"C-level stderr of trial {t}\n" in text
    assert "hello from" not in p.stdout + p.stderr
    assert "C-level" not in p.stdout + p.stderr
    assert gone(worker_pids(table.values()))


@pytest.mark.slow
def test_sigkill_with_two_workers_then_resume_loses_nothing(tmp_path, make_problem):
    folder = make_problem("sleepy", problem=SLOW_PROBLEM, model_run=SLEEPY_RUN)
    args = ["--problem", folder, "--max-evals", "40", "--seed", "5", "--workers", "2"]
    full = run_hps("run", *args, "--evaluator", "serial", "--run-dir", "full", cwd=tmp_path)
    assert full.returncode == 0, full.stderr

    proc = subprocess.Popen(hps_cmd("run", *args, "--run-dir", "crash"), cwd=tmp_path, env=hps_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_rows(tmp_path / "crash" / "results.csv", 10, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    partial = rows(tmp_path / "crash" / "results.csv")
    assert 10 <= len(partial) < 40
    assert gone(worker_pids(partial))  # the workers died with the driver

    resumed = run_hps("resume", "crash", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "evaluations:   40 done, 0 failed, 0 timeout" in resumed.stdout
    final = rows(tmp_path / "crash" / "results.csv")
    assert sorted(int(r["trial_id"]) for r in final) == list(range(40))  # none lost, none twice
    key = lambda r: (r["trial_id"], r["config_id"], r["p:x"], r["objective"], r["status"])  # noqa: E731
    assert sorted(map(key, final)) == sorted(map(key, rows(tmp_path / "full" / "results.csv")))
    before = {r["trial_id"]: r for r in partial}
    assert all(before[r["trial_id"]] == r for r in final if r["trial_id"] in before)


@pytest.mark.slow
def test_ctrl_c_stops_the_workers_and_resume_finishes(tmp_path, make_problem):
    folder = make_problem("sleepy", problem=SLOW_PROBLEM, model_run=SLEEPY_RUN)
    proc = subprocess.Popen(hps_cmd("run", "-p", folder, "--max-evals", "30", "--seed", "2", "--workers", "2",
                                    "--run-dir", "r"), cwd=tmp_path, env=hps_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_rows(tmp_path / "r" / "results.csv", 4, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    table = rows(tmp_path / "r" / "results.csv")
    assert gone(worker_pids(table), limit=2)
    p = run_hps("resume", "r", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "evaluations:   30 done, 0 failed, 0 timeout" in p.stdout


def test_dask_scheduler_without_dask_is_a_usage_error(tmp_path, make_problem):
    folder = make_problem("sleepy", problem=SLOW_PROBLEM, model_run=SLEEPY_RUN)
    p = run_hps("run", "-p", folder, "--dask-scheduler", "tcp://127.0.0.1:1", "--run-dir", "r", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1] == \
        "Error: --dask-scheduler is only used with --evaluator dask (got --evaluator process)"
    assert not (tmp_path / "r").exists()


THREADS_RUN = """
import os
def run(config):
    return {"objective": config["x"], "omp": os.environ.get("OMP_NUM_THREADS"),
            "tf": os.environ.get("TF_NUM_INTRAOP_THREADS")}
"""


def test_threads_per_worker_reach_the_worker(make_problem, tmp_path, monkeypatch):
    from .contract import collect, spec

    folder = make_problem("threads", problem=SLOW_PROBLEM, model_run=THREADS_RUN)
    monkeypatch.setenv("HPS_THREADS_PER_WORKER", "3")
    with started("process", tmp_path, folder=folder) as make:
        ev = make(workers=2)
        assert ev.threads == 3
        ev.submit(spec(0))
        r = collect(ev, 1)[0]
    assert r.status == "done", r.error
    assert r.metrics["omp"] == "3" and r.metrics["tf"] == "3"  # what the trial's process sees
    monkeypatch.delenv("HPS_THREADS_PER_WORKER")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with started("process", tmp_path, folder=folder) as make:
        ev = make(workers=2)
        ev.submit(spec(1))
        r = collect(ev, 1)[1]
    assert r.status == "done", r.error
    assert r.metrics["omp"] == str(max(1, (os.cpu_count() or 1) // 2))


def test_a_worker_that_cannot_load_the_problem_fails_its_trials(tmp_path, make_problem):
    from .contract import collect, spec

    folder = make_problem("breaks", problem=SLOW_PROBLEM, model_run="def run(config):\n    return 1.0\n")
    (folder / "model_run.py").write_text("def run(config:\n")  # broken after the driver checked it
    ev = build("process", folder, workers=1, run_dir=tmp_path)
    ev.start()
    try:
        for t in range(4):
            ev.submit(spec(t))
        got = collect(ev, 4)
    finally:
        ev.close()
    for r in got.values():
        assert r.status == "failed"
        assert r.error.startswith("worker could not load the problem: ") and "SyntaxError" in r.error


@pytest.mark.slow
def test_a_worker_stuck_importing_the_problem_is_stopped(tmp_path, make_problem, monkeypatch):
    from hpsearch.evaluators import process

    from .contract import collect, spec

    monkeypatch.setattr(process, "LOAD_TIMEOUT", 1.0)
    folder = make_problem("stuck", problem=SLOW_PROBLEM,
                          model_run="import time\ntime.sleep(60)\ndef run(config):\n    return 1.0\n")
    ev = build("process", folder, workers=1, trial_timeout=1.0, run_dir=tmp_path)
    ev.start()
    try:
        ev.submit(spec(0, timeout=1.0))
        r = collect(ev, 1, limit=20)[0]
    finally:
        ev.close()
    assert (r.status, r.error) == ("failed", "worker did not load the problem within 1 s")


@pytest.mark.slow
def test_a_problem_asks_for_a_fresh_worker_every_n_trials(tmp_path, make_problem, monkeypatch):
    from .contract import collect, spec

    folder = make_problem("leaky", problem=SLOW_PROBLEM, model_run=RECYCLED_RUN)
    ev = build("process", folder, workers=1, run_dir=tmp_path)
    ev.start()
    try:
        order = []
        for t in range(5):  # one at a time, so each result tells which process ran it
            ev.submit(spec(t))
            order.append(collect(ev, 1)[t])
    finally:
        ev.close()
    assert [r.status for r in order] == ["done"] * 5
    pids = [r.worker.split("/")[1] for r in order]
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4], pids
    assert gone({int(p) for p in pids})

    monkeypatch.setenv("HPS_WORKER_MAX_TRIALS", "3")  # the environment overrides the problem
    ev = build("process", folder, workers=1, run_dir=tmp_path)
    ev.start()
    try:
        order = []
        for t in range(4):
            ev.submit(spec(t))
            order.append(collect(ev, 1)[t])
    finally:
        ev.close()
    pids = [r.worker.split("/")[1] for r in order]
    assert pids[0] == pids[1] == pids[2] != pids[3], pids
