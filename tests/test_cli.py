"""The hps CLI: output and exit codes (0, 1, 2, 130) through CliRunner and real subprocesses."""
import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hpsearch.cli import cli

from .conftest import PROBLEMS, SLOW_PROBLEM, SLOW_RUN, hps_cmd, hps_env, one_line_error, run_hps, wait_rows


def test_list_and_show(runner):
    out = runner.invoke(cli, ["list"])
    assert out.exit_code == 0
    lines = out.output.splitlines()
    assert lines[0].split() == ["name", "kind", "dims", "resource", "description"]
    assert any(line.split()[:3] == ["polynome2", "synthetic", "10"] for line in lines)
    out = runner.invoke(cli, ["show", str(PROBLEMS / "mixed")])
    assert out.exit_code == 0, out.output
    text = out.output
    assert "objective: score (maximize, known optimum 0)" in text
    assert "resource:  steps" in text
    rows = {line.split()[0]: line.split() for line in text.splitlines()[7:] if line.strip()}
    assert rows["lr"][:4] == ["lr", "continuous", "[0.0001,", "0.1]"] and rows["lr"][4:] == ["log-uniform",
                                                                                           "0.01", "-"]
    assert rows["batch"][1] == "ordinal" and rows["act"][1] == "categorical"
    assert "1 starting point(s) besides the defaults" in text


def test_run_results_formats(runner, in_tmp):
    out = runner.invoke(cli, ["run", "-p", "branin", "--max-evals", "30", "--seed", "3",
                              "--run-dir", "r", "--evaluator", "serial"])
    assert out.exit_code == 0, out.output
    assert "evaluations:   30 done, 0 failed, 0 timeout" in out.output
    assert "engine overhead" in out.output and "best:" in out.output and "x1 = " in out.output
    table = runner.invoke(cli, ["results", "r", "--top", "5"])
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split()[:4] == ["rank", "trial_id", "config_id", "objective"]
    objs = [float(line.split()[3]) for line in lines[2:7]]
    assert objs == sorted(objs) and len(objs) == 5  # minimise: best (smallest) first
    js = json.loads(runner.invoke(cli, ["results", "r", "--format", "json", "--top", "0"]).output)
    assert len(js) == 30 and js[0]["objective"] == min(r["objective"] for r in js)
    rows = list(csv.reader(runner.invoke(cli, ["results", "r", "--format", "csv"]).output.splitlines()))
    assert rows[0][:4] == ["rank", "trial_id", "config_id", "objective"] and len(rows) == 11


def test_usage_errors_are_one_line_exit_2(runner, in_tmp, make_problem):
    one_line_error(runner.invoke(cli, ["run", "-p", "branni"]), "no problem named 'branni'; did you mean branin")
    one_line_error(runner.invoke(cli, ["run", "-p", "branin", "--fix", "x1=abc"]),
                   "--fix: dimension 'x1': expected a number in [-5, 10], got 'abc'")
    one_line_error(runner.invoke(cli, ["run", "-p", "branin", "--fix", "x1"]), "--fix: expected name=value")
    one_line_error(runner.invoke(cli, ["run", "-p", "branin", "--max-evals", "0"]),
                   "--max-evals must be >= 1, got 0")
    one_line_error(runner.invoke(cli, ["show", "nope/folder"]), "nope/folder: no such problem folder")
    one_line_error(runner.invoke(cli, ["results", "nowhere"]), "nowhere: not a run directory")
    one_line_error(runner.invoke(cli, ["resume", "nowhere"]), "nowhere: not a run directory")
    bad = make_problem("bad", problem="from hpsearch import HpProblem\nProblem = HpProblem()\n"
                       "Problem.add_dim('lr', (0.0, 1.0, 'log-uniform'))\n", model_run="def run(c): return 1\n")
    one_line_error(runner.invoke(cli, ["run", "-p", str(bad)]),
                   "problem.py: dimension 'lr': log-uniform needs low > 0, got low=0.0")
    assert not os.path.exists("runs")  # nothing was written for a usage error


def test_run_resume_option_continues_a_run(runner, in_tmp):
    assert runner.invoke(cli, ["run", "-p", "branin", "--max-evals", "5", "--run-dir", "r", "--seed", "1",
                               "--evaluator", "serial"]).exit_code == 0
    out = runner.invoke(cli, ["run", "--resume", "r", "--max-evals", "9"])
    assert out.exit_code == 0, out.output
    assert "evaluations:   9 done, 0 failed, 0 timeout (5 from before the resume)" in out.output
    one_line_error(runner.invoke(cli, ["run", "--resume", "r", "--algo", "random", "-p", "branin"]),
                   "--resume: the run's stored settings are used")
    one_line_error(runner.invoke(cli, ["run"]), "--problem is required")


def test_existing_run_dir_is_refused_and_its_data_kept(runner, in_tmp):
    assert runner.invoke(cli, ["run", "-p", "branin", "--max-evals", "3", "--run-dir", "r",
                               "--evaluator", "serial"]).exit_code == 0
    before = (in_tmp / "r" / "results.csv").read_text()
    one_line_error(runner.invoke(cli, ["run", "-p", "branin", "--run-dir", "r", "--evaluator", "serial"]),
                   "--run-dir r: already holds a run; continue it with 'hps resume r'")
    assert (in_tmp / "r" / "results.csv").read_text() == before


def test_every_evaluation_failing_exits_1(runner, in_tmp, make_problem):
    folder = make_problem("broken", problem="from hpsearch import HpProblem\nProblem = HpProblem()\n"
                          "Problem.add_dim('x', (0.0, 1.0))\n", model_run="def run(c):\n    return 1 / 0\n")
    out = runner.invoke(cli, ["run", "-p", str(folder), "--max-evals", "4", "--run-dir", "r",
                              "--evaluator", "serial"])
    assert out.exit_code == 1
    assert "every evaluation failed (4); first error: trial 0: ZeroDivisionError: division by zero" in out.output


def test_real_subprocess_run_and_results(tmp_path):
    p = run_hps("run", "--problem", "polynome2", "--algo", "random", "--max-evals", "50", "--seed", "1",
                "--run-dir", "r", "--evaluator", "serial", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "evaluations:   50 done" in p.stdout
    assert "[1/50] trial 0 objective=-250" in p.stderr  # plain progress lines when not on a terminal
    r = run_hps("results", "r", "--top", "1", cwd=tmp_path)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 4
    assert r.stdout.splitlines()[-1].startswith("problem folder: ") and "polynome2" in r.stdout
    assert run_hps("run", "--problem", "nope", cwd=tmp_path).returncode == 2


def test_console_script_is_installed(tmp_path):
    hps = Path(sys.executable).with_name("hps")  # pip puts it beside the interpreter it installs for
    assert hps.is_file(), f"no hps console script beside {sys.executable} (pip install -e .)"
    p = subprocess.run([str(hps), "--version"], capture_output=True, text=True, env=hps_env(), cwd=tmp_path)
    assert p.returncode == 0 and p.stdout.startswith("hps, version ")


@pytest.mark.slow
def test_ctrl_c_exits_130_and_resume_finishes(tmp_path, make_problem):
    folder = make_problem("slow", problem=SLOW_PROBLEM, model_run=SLOW_RUN)
    proc = subprocess.Popen(hps_cmd("run", "-p", folder, "--max-evals", "40", "--seed", "2", "--run-dir", "r",
                                    "--evaluator", "serial"), cwd=tmp_path, env=hps_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_rows(tmp_path / "r" / "results.csv", 5, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted; nothing finished is lost. Resume with: hps resume r" in err
    assert "ended:         interrupted (SIGINT)" in out.splitlines()
    assert "Traceback" not in err
    p = run_hps("resume", "r", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "evaluations:   40 done, 0 failed, 0 timeout" in p.stdout
    with open(tmp_path / "r" / "results.csv", newline="") as f:
        ids = [int(r["trial_id"]) for r in csv.DictReader(f)]
    assert sorted(ids) == list(range(40))


# -- searchers and schedulers: options declared by the components ------------------------------
@pytest.mark.parametrize("args,fragments", [
    (["--algo", "bayesian", "--eta", "3"],
     ["--eta: does not apply to --algo bayesian", "scheduler fifo takes none",
      "searcher bayesian takes --initial-points"]),
    (["--algo", "random", "--kappa", "1"],
     ["--kappa: does not apply to --algo random", "searcher random takes --prior"]),
    (["--algo", "asha", "--searcher", "kde", "--kappa", "1"],
     ["--kappa: does not apply to --algo asha+kde", "scheduler asha takes --max-resource"]),
    (["--algo", "hyperband", "--max-configs", "5"], ["--max-configs: does not apply to --algo hyperband"]),
    (["--algo", "asha", "--searcher", "nope"], ["--searcher: unknown searcher 'nope'", "bayesian, kde, random"]),
    (["--algo", "nope"], ["--algo: unknown algorithm 'nope'", "bohb"]),
    (["--algo", "asha", "--searcher", "bayesian", "--random-fraction", "2"],
     ["--random-fraction must be a finite number >= 0 and <= 1, got 2.0"]),
])
def test_an_option_or_component_that_does_not_fit_is_one_line_exit_2_and_writes_nothing(
        runner, in_tmp, args, fragments):
    out = runner.invoke(cli, ["run", "-p", str(PROBLEMS / "mixed"), "--evaluator", "serial", *args])
    one_line_error(out, *fragments)
    assert not (in_tmp / "runs").exists()


def test_a_searcher_that_cannot_serve_the_scheduler_is_refused(runner, in_tmp, monkeypatch):
    from hpsearch.search.searchers.kde import KdeSearcher

    monkeypatch.setattr(KdeSearcher, "serves", ("fifo",))
    out = runner.invoke(cli, ["run", "-p", str(PROBLEMS / "mixed"), "--algo", "asha", "--searcher", "kde"])
    one_line_error(out, "--searcher kde: cannot serve --algo asha (scheduler asha); it serves fifo")
    assert not (in_tmp / "runs").exists()


@pytest.mark.parametrize("args,label,searcher", [
    (["--algo", "bohb"], "bohb", None),
    (["--algo", "asha", "--searcher", "bayesian", "--initial-points", "2"], "asha+bayesian", "bayesian"),
    (["--algo", "asha+kde"], "asha+kde", "kde"),
])
def test_presets_and_searchers_run_and_store_their_choice(runner, in_tmp, args, label, searcher):
    from hpsearch.store import RunStore

    out = runner.invoke(cli, ["run", "-p", str(PROBLEMS / "mixed"), "--seed", "1", "--evaluator", "serial",
                              "--max-resource", "9", *args])
    assert out.exit_code == 0, out.output
    run_dir = next((in_tmp / "runs").iterdir())
    assert run_dir.name.startswith(f"mixed-{label}-")
    with RunStore.open(run_dir, readonly=True) as store:
        assert store.settings["searcher"] == searcher
        assert store.settings["multi_fidelity"] is True
        assert {t.budget for t in store.trials()} == {1, 3, 9}
    again = runner.invoke(cli, ["run", "--resume", str(run_dir), "--searcher", "random"])
    assert again.exit_code == 2 and "--resume: the run's stored settings are used" in again.output


def test_fifo_default_budget_is_the_schedulers(runner, in_tmp):
    out = runner.invoke(cli, ["run", "-p", "branin", "--searcher", "kde", "--seed", "0", "--evaluator", "serial",
                              "--run-dir", "r"])
    assert out.exit_code == 0, out.output
    assert "evaluations:   100 done" in out.output


# -- one rule, every command that takes it: --eta (and --pruner-eta) below 2 --------------------------
@pytest.mark.parametrize("args, flag", [
    (["run", "-p", str(PROBLEMS / "mixed"), "--algo", "hyperband", "--eta", "1"], "--eta"),
    (["run", "-p", str(PROBLEMS / "mixed"), "--algo", "asha", "--eta", "1"], "--eta"),
    (["run", "-p", str(PROBLEMS / "mixed"), "--algo", "random", "--pruner", "asha", "--pruner-eta", "1"],
     "--pruner-eta"),
    (["plan", "-R", "81", "--eta", "1"], "--eta"),
    (["compare", "--problem", str(PROBLEMS / "mixed"), "--algo", "random,asha", "--eta", "1"], "--eta"),
])
def test_eta_below_2_is_one_line_exit_2_on_every_command_and_writes_nothing(runner, in_tmp, args, flag):
    out = runner.invoke(cli, [*args, "--evaluator", "serial"] if args[0] != "plan" else args)
    one_line_error(out, f"Error: {flag} must be an integer >= 2, got 1")
    assert list(in_tmp.iterdir()) == []
