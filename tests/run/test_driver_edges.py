"""The driver at its edges: a disk full before the store exists, a closed terminal, a folder name
too long for a directory name, a stop condition on a metric that does not exist, and options that
must not outlive the resume they were given to."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from hpsearch.cli import cli
from hpsearch.store import RunStore

from ..conftest import SLOW_PROBLEM, SLOW_RUN, can_mount, hps_cmd, hps_env, one_line_error, run_hps, wait_rows


@pytest.mark.skipif(not can_mount(), reason="needs mount namespaces (unshare -m) for a small tmpfs")
def test_a_disk_too_full_for_the_store_is_exit_3_and_one_line(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    script = textwrap.dedent(f"""
        mount -t tmpfs -o size=24k tmpfs {disk} || exit 99
        cd {disk}
        {sys.executable} -m hpsearch run -p polynome2 --max-evals 3 --evaluator serial --run-dir r \
            >{tmp_path}/out 2>{tmp_path}/err
        echo $? > {tmp_path}/rc
        """)
    p = subprocess.run(["unshare", "-m", "sh", "-c", script], env=hps_env(), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    err = (tmp_path / "err").read_text()
    assert (tmp_path / "rc").read_text().strip() == "3", err
    assert err.splitlines() == ["Error: r: the disk is full (disk I/O error); nothing was stored"]


@pytest.mark.slow
def test_a_closed_terminal_is_a_resumable_interrupt(tmp_path, make_problem):
    folder = make_problem("slow", problem=SLOW_PROBLEM, model_run=SLOW_RUN)
    proc = subprocess.Popen(hps_cmd("run", "-p", folder, "--max-evals", "30", "--seed", "2", "--run-dir", "r",
                                    "--evaluator", "serial"), cwd=tmp_path, env=hps_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_rows(tmp_path / "r" / "results.csv", 3, proc)
    proc.send_signal(signal.SIGHUP)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 129, err
    assert err.splitlines()[-1] == "interrupted; nothing finished is lost. Resume with: hps resume r"
    assert "Traceback" not in err
    assert "ended:         interrupted (SIGHUP)" in out.splitlines()
    p = run_hps("resume", "r", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "evaluations:   30 done, 0 failed, 0 timeout" in p.stdout


def test_a_long_folder_name_gets_a_short_default_run_directory(runner, in_tmp, make_problem):
    folder = make_problem("p" * 250, problem=SLOW_PROBLEM, model_run="def run(config):\n    return config['x']\n")
    out = runner.invoke(cli, ["run", "-p", str(folder), "--max-evals", "2", "--evaluator", "serial"])
    assert out.exit_code == 0, out.output
    (run_dir,) = (in_tmp / "runs").iterdir()
    assert run_dir.name.startswith("p" * 64 + "~-random-") and len(run_dir.name) < 100


def test_an_unknown_stop_metric_says_how_to_continue_and_resume_corrects_it(runner, in_tmp):
    out = runner.invoke(cli, ["run", "-p", "polynome2", "--max-evals", "3", "--seed", "1", "--evaluator",
                              "serial", "--stop-when", "nosuchmetric>=1", "--run-dir", "sw"])
    one_line_error(out, "--stop-when nosuchmetric>=1: unknown metric 'nosuchmetric'",
                   "the finished trials are kept in sw", "'hps resume sw --stop-when METRIC>=VALUE'")
    again = runner.invoke(cli, ["resume", "sw", "--stop-when", "objective>=1e9"])
    assert again.exit_code == 0, again.output
    assert "evaluations:   3 done, 0 failed, 0 timeout (1 from before the resume)" in again.output


@pytest.mark.slow
def test_a_timeout_belongs_to_the_command_it_was_given_to(runner, in_tmp, make_problem):
    folder = make_problem("slow", problem=SLOW_PROBLEM, model_run=SLOW_RUN)
    first = runner.invoke(cli, ["run", "-p", str(folder), "--max-evals", "400", "--seed", "1", "--evaluator",
                                "serial", "--run-dir", "r", "--timeout", "0.5"])
    assert first.exit_code == 0, first.output
    assert "ended:         --timeout reached (0.5 s)" in first.output
    second = runner.invoke(cli, ["resume", "r", "--timeout", "0.3"])
    assert "ended:         --timeout reached (0.3 s)" in second.output
    with RunStore.open(in_tmp / "r", readonly=True) as store:
        assert store.settings["timeout"] == 0.5  # the run's own, as it was given; not the resume's
        done = store.counts()["done"]
    assert done < 40
    third = runner.invoke(cli, ["resume", "r", "--max-evals", str(done + 40)])  # no time limit: it finishes
    assert third.exit_code == 0, third.output
    assert f"ended:         max-evals reached ({done + 40})" in third.output


def test_resume_refuses_a_changed_algorithm(runner, in_tmp):
    assert runner.invoke(cli, ["run", "-p", "polynome2", "--max-evals", "2", "--evaluator", "serial",
                               "--run-dir", "r"]).exit_code == 0
    one_line_error(runner.invoke(cli, ["run", "--resume", "r", "--algo", "bayesian"]),
                   "--resume: the run's stored settings are used")
    one_line_error(runner.invoke(cli, ["run", "--resume", "r", "--algo", "random"]),
                   "--resume: the run's stored settings are used")
