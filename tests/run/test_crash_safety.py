"""kill -9 in the middle of a run, resume, and end with the same table as an uninterrupted run."""
import csv
import re
import signal
import subprocess

import pytest

from ..conftest import SLOW_PROBLEM, hps_cmd, hps_env, run_hps, wait_rows

RUN = """
import time
def run(config):
    time.sleep(0.03)
    return (config["x"] - 0.3) ** 2
"""


def table(path):
    with open(path, newline="") as f:
        return [(r["trial_id"], r["config_id"], r["p:x"], r["objective"], r["status"]) for r in csv.DictReader(f)]


@pytest.mark.slow
def test_sigkill_then_resume_equals_uninterrupted(tmp_path, make_problem):
    folder = make_problem("crashy", problem=SLOW_PROBLEM, model_run=RUN)
    args = ["--problem", folder, "--algo", "random", "--max-evals", "60", "--seed", "5", "--evaluator", "serial"]
    full = run_hps("run", *args, "--run-dir", "full", cwd=tmp_path)
    assert full.returncode == 0, full.stderr

    proc = subprocess.Popen(hps_cmd("run", *args, "--run-dir", "crash"), cwd=tmp_path, env=hps_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_rows(tmp_path / "crash" / "results.csv", 20, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    partial = table(tmp_path / "crash" / "results.csv")
    assert 20 <= len(partial) < 60  # really killed mid-run

    resumed = run_hps("resume", "crash", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    replayed = int(re.search(r"\((\d+) from before the resume\)", resumed.stdout).group(1))
    assert len(partial) <= replayed <= len(partial) + 1  # the CSV row follows its commit
    final = table(tmp_path / "crash" / "results.csv")
    assert final == table(tmp_path / "full" / "results.csv")
    assert len({row[0] for row in final}) == 60  # none lost, none duplicated
    assert final[:len(partial)] == partial  # what was stored before the crash is untouched
