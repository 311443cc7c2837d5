"""User code that exits, escapes or shadows: sys.exit, child processes, os.chdir, a folder's queue.py,
huge logs, and the options that must be refused."""
from __future__ import annotations

import csv
import random
import subprocess
import sys
import time

import pytest

from hpsearch.cli import cli

from ..conftest import SLOW_PROBLEM, hps_env, one_line_error, run_hps

psutil = pytest.importorskip("psutil")


def rows(run_dir):
    with open(run_dir / "results.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("evaluator", ["serial", "process"])
def test_sys_exit_in_run_is_a_failed_trial(tmp_path, make_problem, evaluator):
    folder = make_problem("exits", problem=SLOW_PROBLEM, model_run="""
        import sys
        def run(config, trial):
            if trial.id == 1:
                sys.exit(0)
            return config["x"]
        """)
    p = run_hps("run", "-p", folder, "--max-evals", "3", "--seed", "1", "--run-dir", "r", "--evaluator", evaluator,
                cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "evaluations:   2 done, 1 failed" in p.stdout
    table = {r["trial_id"]: r for r in rows(tmp_path / "r")}
    assert (table["1"]["status"], table["1"]["error"]) == ("failed", "run() called sys.exit(0)")
    again = run_hps("resume", "r", cwd=tmp_path)
    assert "nothing left to run" in again.stdout  # the trial is finished: never repeated


def test_sys_exit_at_import_is_a_one_line_load_error(runner, in_tmp, make_problem):
    folder = make_problem("quits", problem="import sys\nsys.exit()\n", model_run="def run(c):\n    return 1\n")
    one_line_error(runner.invoke(cli, ["show", str(folder)]), "problem.py: called sys.exit() while being imported")
    one_line_error(runner.invoke(cli, ["run", "-p", str(folder), "--max-evals", "1"]), "problem.py: called sys.exit()")
    p = run_hps("list", env={"HPS_PATH": str(folder.parent)})
    assert p.returncode == 0 and "quits" in p.stdout and "called sys.exit() while being imported" in p.stdout


CHILDREN = """
import subprocess, time
def run(config):
    for _ in range(2):
        subprocess.Popen(["sleep", "{tag}"])
    time.sleep(60)
    return config["x"]
"""


def _sleepers(tag: str) -> list:
    out = []
    for proc in psutil.process_iter(["cmdline"]):
        if proc.info["cmdline"] == ["sleep", tag]:
            out.append(proc)
    return out


@pytest.mark.slow
def test_children_of_a_timed_out_trial_do_not_survive(tmp_path, make_problem):
    tag = f"{1000 + random.random() * 1000:.6f}"
    folder = make_problem("forks", problem=SLOW_PROBLEM, model_run=CHILDREN.format(tag=tag))
    p = run_hps("run", "-p", folder, "--max-evals", "2", "--seed", "1", "--run-dir", "r", "--workers", "2",
                "--trial-timeout", "2", cwd=tmp_path)
    try:
        assert [r["status"] for r in rows(tmp_path / "r")] == ["timeout", "timeout"], p.stderr
        end = time.monotonic() + 60  # the driver kills them as the trials end: poll until it has
        while _sleepers(tag) and time.monotonic() < end:
            time.sleep(0.1)
        assert _sleepers(tag) == []
    finally:
        for proc in _sleepers(tag):
            proc.kill()


def test_children_do_not_survive_a_killed_driver(tmp_path, make_problem):
    tag = f"{1000 + random.random() * 1000:.6f}"
    folder = make_problem("forks", problem=SLOW_PROBLEM, model_run=CHILDREN.format(tag=tag))
    driver = subprocess.Popen([sys.executable, "-m", "hpsearch", "run", "-p", str(folder), "--max-evals", "2",
                               "--run-dir", "r", "--workers", "2"], cwd=tmp_path, env=hps_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 60
        while len(_sleepers(tag)) < 4 and time.monotonic() < end:
            time.sleep(0.1)
        assert len(_sleepers(tag)) == 4
        driver.kill()
        driver.wait()
        end = time.monotonic() + 60
        while _sleepers(tag) and time.monotonic() < end:
            time.sleep(0.1)
        assert _sleepers(tag) == []
    finally:
        driver.kill()
        for proc in _sleepers(tag):
            proc.kill()


def test_chdir_in_run_keeps_logs_and_checkpoints_in_the_run_directory(tmp_path, make_problem):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = make_problem("wanders", problem=SLOW_PROBLEM, model_run=f"""
        import os
        def run(config, trial):
            print("trial", trial.id)
            (trial.checkpoint_dir / "state").write_text("x")
            os.chdir({str(elsewhere)!r})
            return config["x"]
        """)
    for evaluator in ("serial", "process"):
        p = run_hps("run", "-p", folder, "--max-evals", "3", "--run-dir", evaluator, "--evaluator", evaluator,
                    cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert len(list((tmp_path / evaluator / "checkpoints").glob("config-*/state"))) == 3
    assert sorted(p.name for p in (tmp_path / "process" / "logs").glob("trial-*.log")) == \
        ["trial-0.log", "trial-1.log", "trial-2.log"]
    assert list(elsewhere.iterdir()) == []


SHADOW_RUN = """
import helper
def run(config):
    return helper.value(config["x"])
"""


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["bayesian", "random"])
def test_a_folder_with_stdlib_names_shadows_nothing(tmp_path, make_problem, algo):
    bad = "raise RuntimeError('the folder shadowed the standard library')\n"
    folder = make_problem("shadows", problem=SLOW_PROBLEM, model_run=SHADOW_RUN,
                          helper="import json, random\ndef value(x):\n    return json.loads(json.dumps(x))\n",
                          queue=bad, logging=bad, random=bad, json=bad)
    extra = ["--initial-points", "3"] if algo == "bayesian" else []
    for evaluator in ("process", "serial"):
        p = run_hps("run", "-p", folder, "--algo", algo, "--max-evals", "12", "--seed", "1", "--run-dir",
                    evaluator, "--evaluator", evaluator, *extra, cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert [r["status"] for r in rows(tmp_path / evaluator)] == ["done"] * 12


def test_the_folder_is_never_left_on_sys_path(make_problem):
    from hpsearch.problem.loader import load_problem

    folder = make_problem("pathless", problem=SLOW_PROBLEM, model_run=SHADOW_RUN,
                          helper="def value(x):\n    return x\n")
    before = list(sys.path)
    lp = load_problem(folder)
    assert sys.path == before and str(folder) not in sys.path
    with lp.activate():
        assert lp.run({"x": 0.25}) == 0.25
    assert "helper" not in sys.modules


def test_trial_logs_are_capped_head_and_tail(tmp_path, make_problem):
    folder = make_problem("chatty", problem=SLOW_PROBLEM, model_run="""
        import sys
        def run(config):
            print("FIRST LINE")
            sys.stdout.write("y" * 3_000_000)
            print()
            print("LAST LINE")
            return config["x"]
        """)
    p = run_hps("run", "-p", folder, "--max-evals", "1", "--run-dir", "r", cwd=tmp_path,
                env={"HPS_LOG_CAP": "100000"})
    assert p.returncode == 0, p.stderr
    log = (tmp_path / "r" / "logs" / "trial-0.log").read_text()
    assert len(log) < 100_200
    assert log.startswith("FIRST LINE") and log.rstrip().endswith("LAST LINE")
    assert "hpsearch cut" in log and "log cap 100000 bytes" in log


@pytest.mark.parametrize("args, fragment", [
    (["--seed", "-1"], "--seed must be an integer in [0, 2**32), got -1"),
    (["--workers", "0"], "--workers must be >= 1, got 0"),
    (["--timeout", "nan"], "--timeout must be > 0 seconds, got nan"),
    (["--trial-timeout", "nan"], "--trial-timeout must be > 0 seconds, got nan"),
])
def test_bad_numbers_are_refused(runner, in_tmp, args, fragment):
    one_line_error(runner.invoke(cli, ["run", "-p", "branin", "--max-evals", "2", "--evaluator", "serial", *args]),
                   fragment)
    assert not (in_tmp / "runs").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--workers", "0"], "--workers must be >= 1, got 0"),
    (["--timeout", "nan"], "--timeout must be > 0 seconds, got nan"),
])
def test_bad_numbers_are_refused_on_resume_too(runner, in_tmp, args, fragment):
    assert runner.invoke(cli, ["run", "-p", "branin", "--max-evals", "2", "--run-dir", "r", "--evaluator",
                               "serial"]).exit_code == 0
    one_line_error(runner.invoke(cli, ["resume", "r", *args]), fragment)


def test_every_trial_timed_out_names_the_first_error(runner, in_tmp, make_problem):
    folder = make_problem("sleepy", problem=SLOW_PROBLEM, model_run="""
        import time
        def run(config):
            time.sleep(5)
            return 1.0
        """)
    out = runner.invoke(cli, ["run", "-p", str(folder), "--max-evals", "2", "--trial-timeout", "0.2",
                              "--evaluator", "serial", "--run-dir", "r"])
    assert out.exit_code == 1
    assert "first error: trial 0: trial exceeded the trial timeout of 0.2 s" in out.output
    assert "None" not in out.output

