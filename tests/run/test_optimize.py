"""hpsearch.optimize: a callable and a problem made in Python, searched with every evaluator; what cannot be
sent to workers is one line; Ctrl-C stores and returns; a stopped run continues; options checked as the CLI
checks them; load_run and load_comparison read runs (also from read-only storage)."""
import csv
import importlib
import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

import hpsearch
from hpsearch.problem.inline import NotSendable
from hpsearch.run.runner import RunError
from hpsearch.search import OptionError
from hpsearch.store import RunStore

from ..conftest import hps_env, run_hps
from . import objectives

pytest.importorskip("pandas")


def configs(run):
    return sorted((round(t.params["x"], 12), t.params["y"]) for t in run.trials())


@pytest.mark.parametrize("evaluator", ["serial", "process", "dask"])
def test_optimize_runs_a_callable_with_each_evaluator(evaluator, tmp_path):
    if evaluator == "dask":
        pytest.importorskip("distributed")
    run = hpsearch.optimize(objectives.quadratic_with_pid, objectives.space("loss"), evaluator=evaluator,
                            workers=1 if evaluator == "serial" else 2, max_evals=6, seed=7,
                            run_dir=tmp_path / evaluator)
    df = run.results()
    assert list(df["status"]) == ["done"] * 6 and run.ended == "max-evals reached (6)"
    for _, row in df.iterrows():
        assert row["objective"] == objectives.quadratic({"x": row["p:x"], "y": row["p:y"]})
    pids = set(df["m:pid"])
    assert (pids == {os.getpid()}) == (evaluator == "serial")
    serial = hpsearch.optimize(objectives.quadratic, objectives.space(), max_evals=6, seed=7,
                               run_dir=tmp_path / "reference")
    assert configs(run) == configs(serial)  # the same configurations, whichever evaluator ran them
    assert run.best.objective == df["objective"].min() == run.history()["best"].iloc[-1]


def test_a_module_beside_the_notebook_is_importable_in_the_workers(tmp_path, monkeypatch):
    here = tmp_path / "notebook_dir"
    here.mkdir()
    (here / "my_objective.py").write_text("def f(config):\n    return config['x']\n")
    monkeypatch.syspath_prepend(str(here))  # as the notebook's folder is on its sys.path
    f = importlib.import_module("my_objective").f
    run = hpsearch.optimize(f, objectives.space(), evaluator="process", workers=2, max_evals=4, seed=0,
                            run_dir=tmp_path / "r")
    assert list(run.results()["status"]) == ["done"] * 4


def test_what_workers_cannot_import_is_one_line_before_anything_starts(tmp_path):
    def closure(config):
        return 1.0

    cases = [
        (lambda config: 1.0, "process", "run: a lambda cannot be sent to process workers; define it at module "
                                        "level in an importable file, or use evaluator='serial'"),
        (closure, "dask", "run: a function defined inside another function (test_what_workers_cannot_import_"
                          "is_one_line_before_anything_starts.<locals>.closure) cannot be sent to dask workers; "
                          "define it at module level in an importable file, or use evaluator='serial'"),
    ]
    for fn, evaluator, message in cases:
        with pytest.raises(NotSendable) as err:
            hpsearch.optimize(fn, objectives.space(), evaluator=evaluator, workers=2, run_dir=tmp_path / "r")
        assert str(err.value) == message
        assert isinstance(err.value, hpsearch.errors.UsageError)
        assert not (tmp_path / "r").exists()
    run = hpsearch.optimize(lambda config: config["x"], objectives.space(), max_evals=3, seed=0,
                            run_dir=tmp_path / "serial")  # in this process, a lambda is fine
    assert len(run.results()) == 3


SCRIPT = """
import hpsearch
from hpsearch import HpProblem

problem = HpProblem(direction="minimize")
problem.add_dim("x", (-5.0, 5.0), default=0.0)


def run(config):
    return (config["x"] - 1) ** 2


{guard}
    print(hpsearch.optimize(run, problem, workers=2, max_evals=4, seed=0, run_dir="r").results()["error"].iloc[0])
"""


def test_a_function_of_the_script_being_run_goes_to_workers_as_with_multiprocessing(tmp_path):
    (tmp_path / "good.py").write_text(SCRIPT.format(guard='if __name__ == "__main__":'))
    p = subprocess.run([sys.executable, "good.py"], cwd=tmp_path, env=hps_env(), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "", p.stderr
    shutil.rmtree(tmp_path / "r")
    (tmp_path / "bad.py").write_text(SCRIPT.format(guard="if True:"))  # the search is not guarded
    p = subprocess.run([sys.executable, "bad.py"], cwd=tmp_path, env=hps_env(), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert "optimize() was called while a worker process imported the script" in p.stdout
    assert "put the search under 'if __name__ == \"__main__\":' in that script" in p.stdout


def interrupted_at_trial_3(config, trial):
    if trial.id == 3 and not os.environ.get("HPS_TEST_NO_SIGINT"):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while trial 3 runs
    return objectives.quadratic(config)


def test_ctrl_c_stores_the_run_returns_it_and_optimize_continues_it(tmp_path, monkeypatch):
    # a shell running the suite in the background starts it with SIGINT ignored: set Python's own handler
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _ctrl_c_cases(tmp_path, monkeypatch)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c_cases(tmp_path, monkeypatch):
    run = hpsearch.optimize(interrupted_at_trial_3, objectives.space(), max_evals=8, seed=3,
                            run_dir=tmp_path / "cut")
    assert run.ended == "interrupted (SIGINT)"
    assert [t.status for t in run.trials()] == ["done"] * 3 + ["interrupted"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back
    monkeypatch.setenv("HPS_TEST_NO_SIGINT", "1")
    run = hpsearch.optimize(interrupted_at_trial_3, objectives.space(), max_evals=8, run_dir=tmp_path / "cut")
    whole = hpsearch.optimize(interrupted_at_trial_3, objectives.space(), max_evals=8, seed=3,
                              run_dir=tmp_path / "whole")
    assert [(t.params, t.objective) for t in run.trials()] == [(t.params, t.objective) for t in whole.trials()]
    assert run.ended == "max-evals reached (8)"


def test_continuing_checks_the_space_and_keeps_the_stored_settings(tmp_path):
    hpsearch.optimize(objectives.quadratic, objectives.space(), max_evals=3, seed=0, run_dir=tmp_path / "r")
    other = objectives.space()
    other.add_dim("z", (0, 3), default=1)
    with pytest.raises(RunError, match=r"problem: not the search space of the run in .*r \(its dimensions"):
        hpsearch.optimize(objectives.quadratic, other, max_evals=5, run_dir=tmp_path / "r")
    with pytest.raises(RunError, match=r"its stored settings are used \(algo cannot change\)"):
        hpsearch.optimize(objectives.quadratic, objectives.space(), algo="bayesian", run_dir=tmp_path / "r")
    with RunStore.open(tmp_path / "r", readonly=True) as store:
        assert len(store.trials()) == 3  # untouched
    run = hpsearch.optimize(objectives.quadratic, objectives.space(), max_evals=5, run_dir=tmp_path / "r")
    assert len(run.results()) == 5 and run.settings["seed"] == 0


def test_options_are_the_clis_checked_the_same_way(tmp_path, runner):
    from hpsearch.cli import cli

    cases = [({"algo": "random", "eta": 3}, ["--algo", "random", "--eta", "3"]),
             ({"algo": "hyperband", "eta": 1}, ["--algo", "hyperband", "--eta", "1"]),
             ({"pruner": "median", "pruner_min_trials": 0}, ["--pruner", "median", "--pruner-min-trials", "0"]),
             ({"stop_when": "loss=3"}, ["--stop-when", "loss=3"]),
             ({"max_evals": 0}, ["--max-evals", "0"])]
    problem = objectives.space()
    problem.add_dim("epochs", (1, 9), default=9, resource=True)
    for keywords, flags in cases:
        with pytest.raises(hpsearch.errors.UsageError) as err:
            hpsearch.optimize(objectives.quadratic, problem, run_dir=tmp_path / "r", **keywords)
        out = runner.invoke(cli, ["run", "--problem", "branin" if "eta" not in keywords else "hartmann6lc",
                                  "--run-dir", str(tmp_path / "c"), *flags]).output
        assert out.strip().endswith(f"Error: {err.value}"), (out, err.value)
        assert not (tmp_path / "r").exists()
    with pytest.raises(OptionError, match=r"--no-such: does not apply to --algo random"):
        hpsearch.optimize(objectives.quadratic, problem, no_such=1, run_dir=tmp_path / "r")


def test_load_run_reads_a_copy_on_read_only_storage(tmp_path):
    made = hpsearch.optimize(objectives.quadratic, objectives.space(), max_evals=5, seed=1,
                             run_dir=tmp_path / "r")
    copy = tmp_path / "copy"
    shutil.copytree(made.run_dir, copy)
    code = textwrap.dedent(f"""
        import hpsearch
        run = hpsearch.load_run({str(copy)!r})
        print(run.results().to_csv(index=False), end="")
        print("best", run.best.trial_id, run.best.objective, len(run.history()), len(run.trials()),
              run.settings["made_from"], run.ended)
    """)
    (tmp_path / "read.py").write_text(code)
    files = sorted(p.name for p in copy.iterdir())
    if shutil.which("unshare") and subprocess.run(["unshare", "-m", "true"]).returncode == 0:
        cmd = ["unshare", "-m", "sh", "-c", f"mount --bind {copy} {copy} && mount -o remount,ro,bind {copy} "
               f"|| exit 99\ntouch {copy}/probe 2>/dev/null && exit 98\nexec {sys.executable} {tmp_path}/read.py"]
    elif os.geteuid() != 0:
        os.chmod(copy, 0o555)
        cmd = [sys.executable, str(tmp_path / "read.py")]
    else:
        pytest.skip("root without mount namespaces: cannot make a read-only directory")
    try:
        p = subprocess.run(cmd, env=hps_env(), capture_output=True, text=True, timeout=120)
    finally:
        os.chmod(copy, 0o755)
    assert p.returncode == 0, p.stderr
    *table, last = p.stdout.splitlines()
    assert "\n".join(table) + "\n" == made.results().to_csv(index=False)
    best = made.best
    assert last == f"best {best.trial_id} {best.objective} 5 5 python max-evals reached (5)"
    assert sorted(p.name for p in copy.iterdir()) == files


def test_load_comparison_gives_the_compare_table_and_each_run(tmp_path, runner):
    from hpsearch.cli import cli

    out = tmp_path / "cmp"
    args = ["compare", "--problem", "branin", "--algo", "random,bayesian", "--seeds", "2", "--budget", "6",
            "--evaluator", "serial", "--out", str(out)]
    assert runner.invoke(cli, args).exit_code == 0
    shown = runner.invoke(cli, [*args, "--format", "csv"]).output
    cmp = hpsearch.load_comparison(out)
    assert sorted(cmp.runs) == ["bayesian-seed0", "bayesian-seed1", "random-seed0", "random-seed1"]
    table = cmp.table()
    rows = list(csv.DictReader(io.StringIO(shown[shown.index("algo,"):])))
    assert list(table.columns) == list(rows[0])
    assert list(table["algo"]) == [r["algo"] for r in rows]
    assert [float(v) for v in table["regret_100_median"]] == [float(r["regret_100_median"]) for r in rows]
    assert all(len(r.results()) == 6 for r in cmp.runs.values())


def test_a_python_run_reads_with_the_cli_and_resume_says_how_to_continue(tmp_path, in_tmp):
    hpsearch.optimize(objectives.quadratic, objectives.space(), max_evals=4, seed=0, run_dir="r")
    p = run_hps("results", "r", "--format", "csv", cwd=in_tmp)
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 5
    p = run_hps("resume", "r", "--max-evals", "6", cwd=in_tmp)
    assert p.returncode == 2 and "this run was made from Python; continue it with hpsearch.Study.load('r')" \
        in p.stderr
