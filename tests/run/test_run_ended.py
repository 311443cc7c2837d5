"""Every run's summary says what ended it, in one ``ended:`` line (and a resume of a finished run too)."""
import sqlite3

import pytest

from hpsearch.cli import cli
from hpsearch.store import RunStore

SLEEPY_PROBLEM = """
from hpsearch import HpProblem
Problem = HpProblem(objective="objective", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.0)
"""
SLEEPY_RUN = """
import time
def run(config):
    time.sleep(0.2)
    return config["x"]
"""


def ended(output):
    """The summary's ``ended:`` lines."""
    return [line for line in output.splitlines() if line.startswith("ended:")]


def hps(runner, *args):
    out = runner.invoke(cli, [*args, "--evaluator", "serial", "--seed", "0"] if args[0] == "run" else list(args))
    assert out.exit_code == 0, out.output
    return out.output


@pytest.mark.parametrize("args, line", [
    (["--algo", "asha", "--max-resource", "9", "--max-evals", "60"],
     "ended:         the search is complete: asha's --max-configs (9) configurations were all evaluated"),
    (["--algo", "asha", "--max-resource", "9", "--max-configs", "4"],
     "ended:         the search is complete: asha's --max-configs (4) configurations were all evaluated"),
    (["--algo", "hyperband", "--max-resource", "9"],
     "ended:         the search is complete: hyperband's --iterations (1) pass is done"),
    (["--algo", "bohb", "--max-resource", "9", "--iterations", "2"],
     "ended:         the search is complete: hyperband's --iterations (2) passes are done"),
    (["--algo", "random", "--fix", "epochs=9", "--max-evals", "7"], "ended:         max-evals reached (7)"),
    (["--algo", "asha", "--max-resource", "9", "--max-evals", "5"], "ended:         max-evals reached (5)"),
])
def test_the_summary_names_what_ended_the_run_and_a_resume_repeats_it(runner, in_tmp, args, line):
    out = hps(runner, "run", "-p", "hartmann6lc", "--run-dir", "r", *args)
    assert ended(out) == [line]
    again = hps(runner, "resume", "r")
    assert "nothing left to run" in again and ended(again) == [line]


def test_a_finished_run_of_an_older_release_resumes_with_a_general_reason(runner, in_tmp):
    hps(runner, "run", "-p", "hartmann6lc", "--algo", "asha", "--max-resource", "9", "--run-dir", "r")
    with sqlite3.connect("r/results.db") as conn:  # an older release stored no reason
        conn.execute("DELETE FROM meta WHERE key='ended'")
    assert ended(hps(runner, "resume", "r")) == [
        "ended:         the search is complete: the scheduler has nothing left to evaluate"]


def test_fifo_ends_at_its_default_max_evals(runner, in_tmp):
    out = hps(runner, "run", "-p", "branin", "--run-dir", "r")
    assert ended(out) == ["ended:         max-evals reached (100)"]


def test_a_resume_with_a_larger_max_evals_names_the_new_limit(runner, in_tmp):
    hps(runner, "run", "-p", "branin", "--max-evals", "3", "--run-dir", "r")
    assert ended(hps(runner, "resume", "r", "--max-evals", "5")) == ["ended:         max-evals reached (5)"]


def test_a_comparison_run_ends_at_its_resource_budget(runner, in_tmp):
    hps(runner, "compare", "-p", "hartmann6lc", "--algo", "asha", "--seeds", "1", "--budget", "30",
        "--max-resource", "9", "--evaluator", "serial", "--out", "c")
    assert ended(hps(runner, "resume", "c/asha-seed0")) == ["ended:         max_resource_spent reached (30)"]


def test_a_stop_condition_names_itself(runner, in_tmp):
    out = hps(runner, "run", "-p", "branin", "--max-evals", "100", "--stop-when", "objective<=5", "--run-dir", "r")
    with RunStore.open(in_tmp / "r", readonly=True) as store:
        met = next(t for t in store.trials() if t.objective is not None and t.objective <= 5)
    assert ended(out) == [f"ended:         stop condition met: objective {met.objective:.6g} <= 5 at trial "
                          f"{met.trial_id}"]
    assert not [line for line in out.splitlines() if line.startswith("stopped:")]  # said once, not twice


def test_the_timeout_names_itself(runner, in_tmp, make_problem):
    folder = make_problem("sleepy", problem=SLEEPY_PROBLEM, model_run=SLEEPY_RUN)
    out = hps(runner, "run", "-p", str(folder), "--max-evals", "100", "--timeout", "0.5", "--run-dir", "r")
    assert ended(out) == ["ended:         --timeout reached (0.5 s)"]
