"""hps compare: equal budgets, table and plot, resume after an interruption, usage errors."""
import csv
import json
import shutil
import subprocess

import numpy as np
import pytest

from hpsearch.cli import cli
from hpsearch.reporting.comparison import summarise
from hpsearch.run.compare import CompareConfig, default_algos, run_comparison
from hpsearch.search import ALGORITHMS, algo_scheduler_class
from hpsearch.store import RunStore

from ..conftest import PROBLEMS, hps_cmd, hps_env

MIXED = str(PROBLEMS / "mixed")  # resource steps 1..27, maximize, optimum 0

LC_PROBLEM = """
from hpsearch import HpProblem
Problem = HpProblem(objective="loss", direction="minimize", optimum=0.0)
Problem.add_dim("x", (0.0, 1.0), default=0.9)
Problem.add_dim("steps", (1, 9), default=1, resource=True)
"""
# Counts calls in a file; on call STOP_AT (if the file 'stop_at' exists) it removes that file and
# sends SIGINT to its own process: an interruption at an exact point of the comparison.
LC_RUN = """
import os, signal
from pathlib import Path
HERE = Path(__file__).parent
def run(config):
    stop = HERE / "stop_at"
    count = HERE / "count"
    n = int(count.read_text()) + 1 if count.exists() else 1
    count.write_text(str(n))
    if stop.exists() and n == int(stop.read_text()):
        stop.unlink()
        os.kill(os.getpid(), signal.SIGINT)
    return (config["x"] - 0.3) ** 2 + 1.0 / config["steps"]
"""


def costs(run_dir) -> list[float]:
    with RunStore.open(run_dir) as s:
        return [float(t.budget) - float(t.previous_budget or 0) for t in s.trials()]


def table_rows(run_dir) -> list[dict]:
    with open(f"{run_dir}/results.csv", newline="") as f:
        drop = {"started_at", "finished_at", "duration_s", "worker"}
        return [{k: v for k, v in r.items() if k not in drop} for r in csv.DictReader(f)]


def without_wall(text: str) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "wall_s_median"} for r in csv.DictReader(text.splitlines())]


def test_branin_comparison_prints_the_table_and_draws_the_plot(runner, in_tmp):
    res = runner.invoke(cli, ["compare", "--problem", "branin", "--algo", "random", "--seeds", "2",
                              "--budget", "12", "--out", "cmp", "--evaluator", "serial"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split()[:3] == ["algo", "runs", "regret@10%"]
    assert lines[2].split()[:2] == ["random", "2"]
    assert "budget 12 evaluations per run" in res.stdout
    png = in_tmp / "cmp" / "compare.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    for seed in (0, 1):
        with RunStore.open(in_tmp / "cmp" / f"random-seed{seed}") as s:  # ordinary run directories
            assert len(s.trials()) == 12 and s.settings["seed"] == seed
    settings = json.loads((in_tmp / "cmp" / "compare.json").read_text())
    assert settings["unit"] == "evaluations" and settings["budget"] == 12
    assert settings["runs"]["random-seed1"]["finished"] is True


def test_json_table_equals_the_runs_statistics(runner, in_tmp):
    res = runner.invoke(cli, ["compare", "--problem", MIXED, "--algo", "random,asha", "--seeds", "3",
                              "--budget", "100", "--out", "cmp", "--evaluator", "serial", "--format", "json"])
    assert res.exit_code == 0, res.output
    table = {r["algo"]: r for r in json.loads(res.stdout)}
    assert set(table) == {"random", "asha"}
    for algo in ("random", "asha"):
        finals, evals, spent = [], [], []
        for seed in range(3):
            run_dir = in_tmp / "cmp" / f"{algo}-seed{seed}"
            c = costs(run_dir)
            # equal budgets: new evaluations are asked while less than 100 is spent, so the last one
            # reaches or crosses 100 and the run overshoots by less than one evaluation
            assert sum(c[:-1]) < 100 <= sum(c)
            if algo == "random":
                assert c == [27.0] * 4  # the resource fixed at R=27, a full evaluation costs 27
            else:
                assert min(c) == 1.0 and 2.0 in c  # rung 0 costs 1, a promotion 1 -> 3 costs 2
            with RunStore.open(run_dir) as s:
                full = [t.objective for t in s.trials() if t.budget == 27 and t.status == "done"]
            finals.append(-max(full))  # regret (maximize, optimum 0)
            evals.append(len(c))
            spent.append(sum(c))
        row = table[algo]
        assert row["regret_100_median"] == pytest.approx(np.median(finals))
        assert row["regret_100_q25"] == pytest.approx(np.percentile(finals, 25))
        assert row["evaluations_median"] == np.median(evals)
        assert row["spent_median"] == np.median(spent)
        assert row["budget"] == 100 and row["unit"] == "resource"


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_every_registered_algorithm_spends_the_budget_exactly(tmp_path, algo):
    out = tmp_path / "cmp"
    run_comparison(CompareConfig(problem=MIXED, algos=[algo], seeds=1, budget=120, out=str(out),
                                 evaluator="serial"))
    c = costs(out / f"{algo}-seed0")
    assert sum(c[:-1]) < 120 <= sum(c)  # the budget, not the algorithm's own stopping rule, ends the run
    if not algo_scheduler_class(algo).multi_fidelity:
        assert set(c) == {27.0}


def test_random_at_a_quarter_of_the_budget_counts_only_what_was_spent_by_then(tmp_path):
    out = tmp_path / "cmp"
    run_comparison(CompareConfig(problem=MIXED, algos=["random"], seeds=1, budget=270, out=str(out),
                                 evaluator="serial"))
    cmp = summarise(out)
    with RunStore.open(out / "random-seed0") as s:
        regrets = [-t.objective for t in s.trials()]
    [row] = cmp.rows
    # 25% of 270 is 67.5: two evaluations of 27 were finished by then; 50% (135): five
    assert row.at[0.25][0] == pytest.approx(min(regrets[:2]))
    assert row.at[0.5][0] == pytest.approx(min(regrets[:5]))
    assert row.at[1.0][0] == pytest.approx(min(regrets))
    assert len(regrets) == 10


def test_default_algorithms_are_those_that_apply():
    assert "random" in default_algos(False) and "asha" in default_algos(True)
    assert not any(algo_scheduler_class(a).multi_fidelity for a in default_algos(False))


@pytest.mark.slow
def test_an_interrupted_comparison_resumes_and_equals_an_uninterrupted_one(make_problem, tmp_path):
    folder = make_problem("lc", problem=LC_PROBLEM, model_run=LC_RUN)
    args = ["compare", "--problem", folder, "--algo", "random,asha", "--seeds", "2", "--budget", "30",
            "--evaluator", "serial", "--format", "csv"]
    full = subprocess.run(hps_cmd(*args, "--out", tmp_path / "full"), env=hps_env(), capture_output=True,
                          text=True, timeout=120)
    assert full.returncode == 0, full.stderr
    (folder / "count").unlink()
    # random-seed0 costs 4 evaluations (9 each), asha-seed0 more: stop inside asha-seed0
    (folder / "stop_at").write_text("10")
    cut = subprocess.run(hps_cmd(*args, "--out", tmp_path / "part"), env=hps_env(), capture_output=True,
                         text=True, timeout=120)
    assert cut.returncode == 130, cut.stderr
    assert "rerun the same command" in cut.stderr
    assert not (tmp_path / "part" / "random-seed1").exists()
    with RunStore.open(tmp_path / "part" / "asha-seed0") as s:
        assert s.counts().get("interrupted") == 1
    again = subprocess.run(hps_cmd(*args, "--out", tmp_path / "part"), env=hps_env(), capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "[1/4] random-seed0: finished before, skipped" in again.stderr
    assert "[2/4] asha-seed0: finished before" not in again.stderr
    for name in ("random-seed0", "asha-seed0", "random-seed1", "asha-seed1"):
        assert table_rows(tmp_path / "part" / name) == table_rows(tmp_path / "full" / name), name
    assert without_wall(again.stdout) == without_wall(full.stdout)
    assert [r["algo"] for r in without_wall(full.stdout)] == ["random", "asha"]


def test_resume_option_and_a_rerun_skip_finished_runs(runner, in_tmp):
    args = ["compare", "--problem", "branin", "--algo", "random", "--seeds", "2", "--budget", "5",
            "--out", "cmp", "--evaluator", "serial"]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, ["compare", "--resume", "cmp"])
    assert again.exit_code == 0, again.output
    assert "[1/2] random-seed0: finished before, skipped" in again.stderr
    assert "[2/2] random-seed1: finished before, skipped" in again.stderr
    with RunStore.open(in_tmp / "cmp" / "random-seed0") as s:
        assert len(s.trials()) == 5
    changed = runner.invoke(cli, [*args[:-4], "--budget", "6", "--out", "cmp"])
    assert changed.exit_code == 2
    assert changed.output.strip() == ("Error: --out cmp: holds a comparison with budget 5, not 6; "
                                      "choose another --out")


@pytest.mark.parametrize("args,message", [
    (["--problem", "branin", "--algo", "random,nope"], "Error: --algo: unknown algorithm 'nope'"),
    (["--problem", "branin", "--budget", "0"], "Error: --budget must be a number > 0, got 0.0"),
    (["--problem", "branin", "--budget", "-5"], "Error: --budget must be a number > 0, got -5.0"),
    (["--problem", "branin", "--budget", "2.5"],
     "Error: --budget must be a whole number of evaluations (problem 'branin' has no resource dimension), "
     "got 2.5"),
    (["--problem", "branin", "--algo", "asha"],
     "Error: --algo asha: problem 'branin' declares no resource dimension"),
    (["--problem", "branin", "--algo", "random", "--eta", "3"],
     "Error: --eta: does not apply to any of --algo random"),
    (["--problem", "branin", "--seeds", "0"], "Error: --seeds must be an integer >= 1, got 0"),
    (["--problem", "branin", "--workers", "0"], "Error: --workers must be >= 1, got 0"),
    (["--problem", MIXED, "--max-resource", "30"],
     "Error: --max-resource must be within the resource 'steps''s range [1, 27], got 30"),
    (["--algo", "random"], "Error: --problem is required"),
    (["--resume", "nowhere"], "Error: nowhere: not a comparison directory (no compare.json in it)"),
    (["--resume", "nowhere", "--pruner", "median"], "Error: --resume: the comparison's stored settings are used"),
    (["--problem", "branin", "--pruner", "hyperband"],
     "Error: --pruner hyperband: needs --pruner-max-resource (the problem declares no resource dimension)"),
    (["--problem", "branin", "--pruner", "median", "--pruner-eta", "3"],
     "Error: --pruner-eta: does not apply to --pruner median (its options: --pruner-grace-period, "
     "--pruner-min-trials)"),
    (["--problem", "branin", "--pruner", "median", "--pruner-min-trials", "0"],
     "Error: --pruner-min-trials must be an integer >= 1, got 0"),
    (["--problem", "branin", "--pruner-grace-period", "2"], "Error: --pruner-grace-period: needs --pruner"),
])
def test_usage_errors_exit_2_with_one_line(runner, in_tmp, args, message):
    res = runner.invoke(cli, ["compare", "--evaluator", "serial", *args])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), res.output
    assert not (in_tmp / "runs").exists()



@pytest.mark.slow
def test_a_pruner_goes_to_every_run_is_stored_and_kept_on_resume(runner, in_tmp):
    args = ["compare", "--problem", "hartmann6lc", "--algo", "random", "--seeds", "1", "--budget", "810",
            "--out", "cmp", "--evaluator", "serial", "--format", "csv"]
    res = runner.invoke(cli, [*args, "--pruner", "median", "--pruner-min-trials", "2"])
    assert res.exit_code == 0, res.output
    settings = json.loads((in_tmp / "cmp" / "compare.json").read_text())
    assert settings["pruner"] == "median" and settings["pruner_options"] == {"min_trials": 2}
    with RunStore.open(in_tmp / "cmp" / "random-seed0") as s:
        assert s.settings["pruner"] == "median" and s.settings["pruner_options"] == {"min_trials": 2}
        stopped = s.counts().get("stopped", 0)
        assert stopped > 0
    before = table_rows(in_tmp / "cmp" / "random-seed0")
    for other, shown in ((["--pruner", "asha"], "'asha'"), ([], "None")):
        changed = runner.invoke(cli, [*args, *other])
        assert changed.exit_code == 2
        assert changed.output.strip() == ("Error: --out cmp: holds a comparison with pruner 'median', not "
                                          f"{shown}; choose another --out")
    # a run not started yet (as after an interruption between runs) starts with the stored pruner
    shutil.rmtree(in_tmp / "cmp" / "random-seed0")
    del settings["runs"]["random-seed0"]
    (in_tmp / "cmp" / "compare.json").write_text(json.dumps(settings))
    again = runner.invoke(cli, ["compare", "--resume", "cmp"])
    assert again.exit_code == 0, again.output
    with RunStore.open(in_tmp / "cmp" / "random-seed0") as s:
        assert s.settings["pruner"] == "median" and s.settings["pruner_options"] == {"min_trials": 2}
        assert s.counts().get("stopped", 0) == stopped
    assert table_rows(in_tmp / "cmp" / "random-seed0") == before


def test_a_comparison_stored_before_pruners_reruns_without_one(runner, in_tmp):
    args = ["compare", "--problem", "branin", "--algo", "random", "--seeds", "1", "--budget", "3",
            "--out", "cmp", "--evaluator", "serial"]
    assert runner.invoke(cli, args).exit_code == 0
    path = in_tmp / "cmp" / "compare.json"
    settings = json.loads(path.read_text())
    del settings["pruner"], settings["pruner_options"]
    path.write_text(json.dumps(settings))
    again = runner.invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "random-seed0: finished before, skipped" in again.stderr


@pytest.mark.slow
def test_a_plus_s_entries_run_the_searcher_under_the_scheduler_and_keep_their_label(runner, in_tmp):
    res = runner.invoke(cli, ["compare", "--problem", MIXED, "--algo", "asha,asha+bayesian,bohb", "--seeds", "1",
                              "--budget", "120", "--max-resource", "9", "--initial-points", "2",
                              "--out", "cmp", "--evaluator", "serial", "--format", "csv"])
    assert res.exit_code == 0, res.output
    got = [r["algo"] for r in csv.DictReader(res.stdout.splitlines())]
    assert got == ["asha", "asha+bayesian", "bohb"]
    with RunStore.open(in_tmp / "cmp" / "asha+bayesian-seed0") as s:
        assert s.settings["algo"] == "asha" and s.settings["searcher"] == "bayesian"
        assert s.settings["algo_options"]["initial_points"] == 2
    with RunStore.open(in_tmp / "cmp" / "asha-seed0") as s:
        assert "initial_points" not in s.settings["algo_options"]  # only to the components that take it
    settings = json.loads((in_tmp / "cmp" / "compare.json").read_text())
    assert settings["algos"] == ["asha", "asha+bayesian", "bohb"]
