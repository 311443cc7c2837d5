"""Conditional problems through the real engine, store and CLI.

The ``condtree`` test problem's ``run`` asserts that ``config`` holds exactly
the active dimensions (by its own reading of the tree) and no forbidden
combination, so any violation makes an evaluation ``failed``.
"""
import csv
import json
import math
import re
import sqlite3

import pytest

from hpsearch.cli import cli
from hpsearch.problem.loader import load_problem
from hpsearch.run.runner import RunConfig, start_run

from ..conftest import PROBLEMS, run_full_and_resumed

CONDTREE = PROBLEMS / "condtree"
ALGOS = [
    ("random", {}, 25),
    ("hyperband", {"max_resource": 9, "eta": 3}, None),
    ("asha", {"max_resource": 9, "eta": 3}, None),
    ("bayesian", {"base_estimator": "GP", "initial_points": 3}, 10),
    ("bayesian", {"base_estimator": "RF", "initial_points": 3}, 7),
    ("bayesian", {"base_estimator": "ET", "initial_points": 3}, 7),
    ("bayesian", {"base_estimator": "GBRT", "initial_points": 3}, 7),
    ("random+kde", {}, 25),
    ("bohb", {"max_resource": 9, "eta": 3}, None),
    ("bohb+kde", {"max_resource": 9, "eta": 3}, None),
    ("asha+bayesian", {"max_resource": 9, "eta": 3}, None),
]


def expected_active(params: dict) -> set:
    import importlib.util

    spec = importlib.util.spec_from_file_location("_condtree_run", CONDTREE / "model_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.expected_active(params)


@pytest.mark.parametrize("algo, options, n", ALGOS,
                         ids=[a if a != "bayesian" else f"bayesian-{o['base_estimator']}" for a, o, _ in ALGOS])
def test_every_algorithm_hands_run_only_active_consistent_configurations(tmp_path, algo, options, n):
    out = start_run(RunConfig(problem=str(CONDTREE), algo=algo, algo_options=dict(options), seed=4,
                              max_evals=n, evaluator="serial", run_dir=str(tmp_path / "r")))
    trials = out.store.trials(finished_only=True)
    out.store.close()
    assert len(trials) >= (n or 10)
    assert [t.error for t in trials if t.status != "done"] == []
    assert len({tuple(sorted(t.params)) for t in trials}) > 1  # several branches were visited


def test_results_csv_and_dataframe_keep_inactive_dimensions_missing(tmp_path):
    out = start_run(RunConfig(problem=str(CONDTREE), algo="random", seed=2, max_evals=30, evaluator="serial",
                              run_dir=str(tmp_path / "r")))
    store = out.store
    trials = store.trials(finished_only=True, order="tell_seq")
    df = store.dataframe()
    store.close()
    names = load_problem(CONDTREE, with_run=False).problem.names
    with open(tmp_path / "r" / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(trials) == 30
    for row, t in zip(rows, trials):
        on = {n for n in names if row[f"p:{n}"] != ""}
        assert on == set(t.params) == expected_active(t.params)
    raw = sqlite3.connect(tmp_path / "r" / "results.db").execute("SELECT params FROM trials").fetchall()
    assert all(set(json.loads(p)) == expected_active(json.loads(p)) for (p,) in raw)  # no key, no placeholder
    for n in names:
        col = df[f"p:{n}"]
        for value, t in zip(col, trials):
            if n in t.params:
                assert value == t.params[n]
            else:
                assert value is None or (isinstance(value, float) and math.isnan(value))
    assert df["p:units3"].dtype.kind == "f" and df["p:units3"].isna().any()  # numeric column with NaN
    assert not df["p:opt"].isna().any()


def rows(run_dir) -> list[tuple]:
    with open(f"{run_dir}/results.csv", newline="") as f:
        return [(r["trial_id"], r["config_id"], r["budget"],
                 tuple(v for k, v in r.items() if k.startswith("p:")), r["objective"], r["status"])
                for r in csv.DictReader(f)]


@pytest.mark.slow
@pytest.mark.parametrize("algo, options", [("random", {}), ("bayesian", {"initial_points": 4}),
                                           ("hyperband", {"max_resource": 9}), ("random+kde", {})])
def test_resume_equals_uninterrupted_on_a_conditional_problem(tmp_path, algo, options):
    n, k = 14, 6
    common = dict(problem=str(CONDTREE), algo=algo, algo_options=dict(options), seed=11, evaluator="serial")
    _, resumed = run_full_and_resumed(tmp_path, common, k, n)
    assert resumed.n_replayed == k
    assert rows(tmp_path / "part") == rows(tmp_path / "full")
    assert any("" in r[3] for r in rows(tmp_path / "full"))  # some dimension was inactive


def test_show_prints_the_tree_with_conditions_and_forbidden(runner):
    out = runner.invoke(cli, ["show", str(CONDTREE)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("name "))
    table = lines[head + 2:head + 13]
    names = [re.match(r"( *)(\S+)", line).groups() for line in table]
    assert [(len(indent) // 2, name) for indent, name in names] == [
        (0, "opt"), (1, "momentum"), (1, "nesterov"), (0, "lr"), (0, "layers"), (1, "units2"), (1, "units3"),
        (1, "act3"), (2, "slope"), (0, "dropout"), (0, "steps")]
    assert table[7].rstrip().endswith("layers in [3, 4] and opt in ['adam', 'sgd']")
    assert table[8].rstrip().endswith("act3 in ['relu']")
    assert "log-normal(mu=-4.605, sigma=1.5)" in table[3] and "[8, 256] step 8" in table[6]
    assert "normal(mu=0.2, sigma=0.1)" in table[9] and table[0].rstrip().endswith("-")
    assert lines[head + 14:head + 17] == ["forbidden combinations (never evaluated):",
                                          "  add_forbidden(nesterov=True, layers=4)",
                                          "  add_forbidden(opt='rmsprop', layers=[1, 2])"]


def test_fix_prunes_the_tree_and_fixing_an_inactive_child_is_a_usage_error(runner, in_tmp):
    out = runner.invoke(cli, ["run", "-p", str(CONDTREE), "--fix", "opt=adam", "--max-evals", "12", "--seed", "1",
                              "--evaluator", "serial", "--run-dir", "r"])
    assert out.exit_code == 0, out.output
    with open("r/results.csv", newline="") as f:
        got = list(csv.DictReader(f))
    assert all(r["status"] == "done" and r["p:opt"] == "adam" and r["p:momentum"] == "" and r["p:nesterov"] == ""
               for r in got)
    out = runner.invoke(cli, ["run", "-p", str(CONDTREE), "--fix", "opt=adam", "--fix", "momentum=0.5",
                              "--run-dir", "r2"])
    assert out.exit_code == 2
    assert out.output.strip().splitlines()[-1] == (
        "Error: --fix: dimension 'momentum' is never active with --fix opt='adam' "
        "(it needs opt in ['sgd', 'rmsprop'])")


@pytest.mark.slow
def test_results_and_plots_with_missing_values(runner, in_tmp):
    out = runner.invoke(cli, ["run", "-p", "condbranches", "--max-evals", "25", "--seed", "3",
                              "--evaluator", "serial", "--run-dir", "r"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["results", "r", "--format", "json", "--top", "0"])
    assert out.exit_code == 0, out.output
    table = json.loads(out.output)
    assert {row["branch"] for row in table} == {"a", "b", "c"}
    assert all((row["x_a"] is None) == (row["branch"] != "a") for row in table)
    out = runner.invoke(cli, ["results", "r"])
    assert out.exit_code == 0 and "None" not in out.output and "nan" not in out.output
    out = runner.invoke(cli, ["plot", "r"])
    assert out.exit_code == 0, out.output
    plots = {p.name for p in (in_tmp / "r" / "plots").iterdir()}
    assert {"param_branch.png", "param_x_a.png", "param_w_c.png"} <= plots


def test_hps_new_example_of_conditions_works_when_uncommented(runner, in_tmp):
    out = runner.invoke(cli, ["new", "myprob"])
    assert out.exit_code == 0, out.output
    path = in_tmp / "myprob" / "problem.py"
    text = path.read_text()
    example = [line for line in text.splitlines() if line.startswith("# Problem.")]
    assert any("when=" in line for line in example) and any("add_forbidden" in line for line in example)
    path.write_text(text.replace("# Problem.", "Problem."))
    p = load_problem(in_tmp / "myprob", with_run=False).problem
    assert p["momentum"].parents == {"optimizer": ["sgd"]}
    assert "momentum" not in p.defaults and p["hidden"].step == 16
    out = runner.invoke(cli, ["show", str(in_tmp / "myprob")])
    assert out.exit_code == 0 and "optimizer in ['sgd']" in out.output


def test_compare_runs_on_the_conditional_benchmark(runner, in_tmp):
    out = runner.invoke(cli, ["compare", "--problem", "condbranches", "--algo", "random,bayesian", "--seeds", "2",
                              "--budget", "12", "--out", "cmp", "--evaluator", "serial"])
    assert out.exit_code == 0, out.output
    assert "random" in out.output and "bayesian" in out.output
