"""How ``hps`` ends: each kind of error's exit code, and a run stopped by SIGINT, SIGTERM or SIGHUP
exits 128 + the signal's number (130, 143, 129) through a real subprocess, resumable."""
from __future__ import annotations

import csv
import signal
import subprocess

import pytest

from hpsearch.errors import (
    EXIT_ALL_FAILED,
    EXIT_DISK_FULL,
    EXIT_OK,
    EXIT_USAGE,
    DiskFull,
    UsageError,
    exit_code,
    interrupted_exit_code,
)
from hpsearch.run.stopping import StopConditionError
from hpsearch.store.lock import DirectoryInUse

from .conftest import SLOW_PROBLEM, SLOW_RUN, hps_cmd, hps_env, run_hps, wait_rows


def test_the_exit_codes_are_the_documented_numbers():
    assert (EXIT_OK, EXIT_ALL_FAILED, EXIT_USAGE, EXIT_DISK_FULL) == (0, 1, 2, 3)


@pytest.mark.parametrize("exc, code", [
    (UsageError("--eta must be >= 2, got 1"), 2),
    (StopConditionError("--stop-when: bad"), 2),  # every usage error, however deep its class
    (DirectoryInUse("r: in use"), 2),
    (DiskFull("r: the disk is full"), 3),
    (RuntimeError("a bug"), 1),
    (ValueError("not a usage error"), 1),
    (OSError("no such file"), 1),
])
def test_each_error_maps_to_its_exit_code(exc, code):
    assert exit_code(exc) == code


@pytest.mark.parametrize("signum, code", [
    (signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129), (None, 130),
])
def test_a_signal_is_128_plus_its_number(signum, code):
    assert interrupted_exit_code(signum) == code


@pytest.mark.slow
@pytest.mark.parametrize("signum, code, name", [
    (signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP"),
])
def test_a_run_stopped_by_a_signal_exits_128_plus_it_and_resumes(tmp_path, make_problem, signum, code, name):
    folder = make_problem("slow", problem=SLOW_PROBLEM, model_run=SLOW_RUN)
    proc = subprocess.Popen(hps_cmd("run", "-p", folder, "--max-evals", "30", "--seed", "2", "--run-dir", "r"),
                            cwd=tmp_path, env=hps_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_rows(tmp_path / "r" / "results.csv", 3, proc)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert f"ended:         interrupted ({name})" in out.splitlines()
    assert "Traceback" not in err
    p = run_hps("resume", "r", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    with open(tmp_path / "r" / "results.csv", newline="") as f:
        assert sorted(int(r["trial_id"]) for r in csv.DictReader(f)) == list(range(30))
