"""Multi-objective runs through the real engine: the front and its flag, failures, determinism and resume,
stop conditions on any objective, and what results, plot, compare and the Python API show."""
from __future__ import annotations

import csv
import math

import pytest

from hpsearch import HpProblem, load_run
from hpsearch.cli import cli
from hpsearch.run.study import Study

from ..conftest import one_line_error, run_full_and_resumed

MO = {"acc": "maximize", "size": "minimize"}

# acc (maximise), size (minimise): a hand-made set with a duplicate (2 = 0), a weak tie (3: the acc of
# 0 with a larger size), a dominated point (5), a failure (6), then a point that dominates every other (8)
HAND_MADE = [(0.8, 100), (0.9, 200), (0.8, 100), (0.8, 150), (0.7, 50), (0.9, 300), None, (0.95, 400)]
FRONT = {0, 1, 2, 4, 7}


def csv_flags(run_dir) -> dict[int, str]:
    with open(run_dir / "results.csv", newline="") as f:
        return {int(r["trial_id"]): r["pareto"] for r in csv.DictReader(f)}


def tell_all(study: Study, values) -> None:
    for v in values:
        trial = study.ask()
        if v is None:
            study.tell(trial, failed="broke")
        else:
            study.tell(trial, {"acc": v[0], "size": v[1], "loss": 1.0})


@pytest.fixture
def hand_made(tmp_path):
    problem = HpProblem(objectives=MO)
    problem.add_dim("x", (0.0, 1.0))
    study = Study(problem, algo="random", seed=0, run_dir=str(tmp_path / "hand"))
    tell_all(study, HAND_MADE)
    return study, tmp_path / "hand"


def test_the_front_and_its_flag_on_a_hand_made_set(hand_made, runner):
    study, run_dir = hand_made
    assert {t.trial_id for t in study.pareto()} == FRONT
    flags = csv_flags(run_dir)
    assert {tid for tid, f in flags.items() if f == "True"} == FRONT
    assert flags[6] == "False"  # the failure is never on the front
    # the front best first: its two ends (the boundary points), then by crowding, then trial_id
    assert [t.trial_id for t in study.pareto()][:2] == [4, 7]
    out = runner.invoke(cli, ["results", str(run_dir), "--pareto", "--format", "csv"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].startswith("rank,trial_id,config_id,acc,size,pareto,x,m:loss,status")
    assert {int(line.split(",")[1]) for line in lines[1:]} == FRONT
    table = runner.invoke(cli, ["results", str(run_dir)]).output
    assert "Pareto front:  5 of 7 evaluations" in table
    # the nadir (the worst acc and size), pushed out by 1% of each objective's range
    assert "against (acc 0.6975, size 403.5) (nadir of this run's evaluations)" in table
    study.close()


def test_an_earlier_front_member_leaves_it_in_results_csv(hand_made):
    study, run_dir = hand_made
    tell_all(study, [(0.96, 40)])
    flags = csv_flags(run_dir)
    assert {tid for tid, f in flags.items() if f == "True"} == {8}
    assert load_run(run_dir).results()["pareto"].tolist() == [tid == 8 for tid in flags]
    assert [t.trial_id for t in load_run(run_dir).best] == [8]
    study.close()


def test_a_single_objective_run_keeps_its_csv_and_refuses_pareto(tmp_path, runner):
    from hpsearch.run.runner import RunConfig, start_run

    out = start_run(RunConfig(problem="branin", algo="random", max_evals=3, seed=1, evaluator="serial",
                              run_dir=str(tmp_path / "so")))
    out.store.close()
    head = (tmp_path / "so" / "results.csv").read_text().splitlines()[0]
    assert "pareto" not in head
    one_line_error(runner.invoke(cli, ["results", str(tmp_path / "so"), "--pareto"]), "single-objective run")


MISSING = """
def run(config):
    if config["x"] < 0.5:
        return {"acc": 0.5}
    return {"acc": 0.5, "size": float("nan")}
"""


def test_a_missing_or_non_finite_objective_fails_the_trial_with_its_reason(make_problem, tmp_path, runner):
    folder = make_problem(problem="""
        from hpsearch import HpProblem
        Problem = HpProblem(objectives={"acc": "maximize", "size": "minimize"})
        Problem.add_dim("x", (0.0, 1.0), default=0.25)
        Problem.add_starting_point(x=0.75)
    """, model_run=MISSING)
    out = runner.invoke(cli, ["run", "--problem", str(folder), "--max-evals", "2", "--evaluator", "serial",
                              "--seed", "0", "--run-dir", str(tmp_path / "r")])
    assert out.exit_code == 1, out.output  # every evaluation failed
    errors = {t.trial_id: t.error for t in load_run(tmp_path / "r").trials()}
    assert errors == {0: "run() returned a dict without the objective 'size' (keys: acc)",
                      1: "objective 'size' is nan (not a finite number)"}


def mo_rows(run_dir) -> list[tuple]:
    with open(run_dir / "results.csv", newline="") as f:
        return [(r["trial_id"], r["budget"], tuple(v for k, v in r.items() if k.startswith(("p:", "m:"))),
                 r["pareto"], r["status"]) for r in csv.DictReader(f)]


@pytest.mark.parametrize("algo", ["random", "hyperband"])
def test_a_seeded_run_is_deterministic_and_resumes_equal_to_an_uninterrupted_one(tmp_path, algo):
    problem = "zdtshift" if algo == "random" else "mfzdtshift"
    options = {} if algo == "random" else {"max_resource": 9}
    common = dict(problem=problem, algo=algo, algo_options=options, seed=5, evaluator="serial")
    full, resumed = run_full_and_resumed(tmp_path, common, 6, 16)
    assert resumed.n_replayed == 6
    assert mo_rows(tmp_path / "part") == mo_rows(tmp_path / "full")
    assert [t.trial_id for t in full.front] and \
        sorted(t.trial_id for t in full.front) == sorted(t.trial_id for t in resumed.front)
    again, _ = run_full_and_resumed(tmp_path / "again", common, 6, 16)
    assert mo_rows(tmp_path / "again" / "full") == mo_rows(tmp_path / "full")


def test_a_multi_fidelity_front_holds_full_budget_evaluations_only(tmp_path):
    from hpsearch.run.runner import RunConfig, start_run

    out = start_run(RunConfig(problem="mfzdtshift", algo="hyperband", algo_options={"max_resource": 9},
                              seed=2, evaluator="serial", run_dir=str(tmp_path / "mf")))
    out.store.close()
    run = load_run(tmp_path / "mf")
    budgets = {float(t.budget) for t in run.trials()}
    assert budgets > {9.0}  # lower rungs were evaluated ...
    assert run.pareto() and {float(t.budget) for t in run.pareto()} == {9.0}  # ... the front is at R only
    df = run.results()
    assert set(df.loc[df["pareto"], "budget"]) == {9}


def test_stop_when_takes_a_condition_on_any_objective(tmp_path, runner):
    out = runner.invoke(cli, ["run", "--problem", "zdtshift", "--max-evals", "200", "--evaluator", "serial",
                              "--seed", "3", "--stop-when", "f2<=2.5", "--run-dir", str(tmp_path / "s")])
    assert out.exit_code == 0, out.output
    trials = load_run(tmp_path / "s").trials()
    assert len(trials) < 200 and trials[-1].metrics["f2"] <= 2.5
    assert (f"ended:         stop condition met: f2 {trials[-1].metrics['f2']:.6g} <= 2.5 at trial "
            f"{trials[-1].trial_id}") in out.output.splitlines()


def test_results_plot_and_the_summary_of_a_run(tmp_path, runner):
    out = runner.invoke(cli, ["run", "--problem", "dtlzshift", "--max-evals", "30", "--evaluator", "serial",
                              "--seed", "1", "--run-dir", str(tmp_path / "d")])
    assert out.exit_code == 0, out.output
    assert "Pareto front:" in out.output and "regret" in out.output
    assert "against (f1 1.1, f2 1.1, f3 1.1) (declared)" in out.output
    plots = runner.invoke(cli, ["plot", str(tmp_path / "d")])
    assert plots.exit_code == 0, plots.output
    names = {line.rsplit("/", 1)[-1] for line in plots.output.split()}
    assert {"pareto_front.png", "hypervolume_vs_evaluations.png", "hypervolume_vs_resource.png"} <= names
    assert "best_vs_evaluations.png" not in names
    run = load_run(tmp_path / "d")
    hv = run.history()["hypervolume"].tolist()
    assert hv == sorted(hv) and hv[-1] > 0
    assert math.isclose(run.settings["space"]["hypervolume_optimum"], 1.1**3 - math.pi / 6)


def test_compare_states_the_reference_point(make_problem, tmp_path, runner):
    out = runner.invoke(cli, ["compare", "--problem", "zdtshift", "--algo", "random", "--seeds", "2",
                              "--budget", "8", "--evaluator", "serial", "--out", str(tmp_path / "c")])
    assert out.exit_code == 0, out.output
    assert "hv_regret@100%" in out.output
    assert "against the reference point (f1 1.1, f2 1.1), declared" in out.output
    folder = make_problem(problem="""
        from hpsearch import HpProblem
        Problem = HpProblem(objectives={"acc": "maximize", "size": "minimize"})
        Problem.add_dim("x", (0.0, 1.0))
    """, model_run="def run(config):\n    return {'acc': config['x'], 'size': config['x'] ** 2}\n")
    out = runner.invoke(cli, ["compare", "--problem", str(folder), "--algo", "random", "--seeds", "2",
                              "--budget", "6", "--evaluator", "serial", "--out", str(tmp_path / "n"),
                              "--format", "csv"])
    assert out.exit_code == 0, out.output
    head, *rows = [line for line in out.output.splitlines() if line.startswith(("algo,", "random,"))]
    assert head.split(",")[2] == "hypervolume_10_median" and head.endswith(",reference_point")
    assert rows[0].endswith('nadir of every run in the comparison"')


def test_warm_from_an_earlier_run_gives_loss_tuples_and_refuses_other_objectives(hand_made, make_problem,
                                                                                 tmp_path, runner):
    from hpsearch.problem.loader import load_problem
    from hpsearch.run.warm_from import observations, read_runs

    study, run_dir = hand_made
    study.close()
    folder = make_problem(name="again", problem="""
        from hpsearch import HpProblem
        Problem = HpProblem(objectives={"acc": "maximize", "size": "minimize"})
        Problem.add_dim("x", (0.0, 1.0))
    """, model_run="def run(config):\n    return {'acc': config['x'], 'size': 1.0}\n")
    problem = load_problem(folder).problem
    warm = read_runs([str(run_dir)], problem.to_dict(), problem)
    got = observations({"evaluations": warm.evaluations}, problem)
    assert [o.loss for o in got] == [(-a, float(s)) for a, s in (v for v in HAND_MADE if v is not None)]
    other = make_problem(name="other", problem="""
        from hpsearch import HpProblem
        Problem = HpProblem(objectives={"acc": "maximize", "latency": "minimize"})
        Problem.add_dim("x", (0.0, 1.0))
    """, model_run="def run(config):\n    return {'acc': config['x'], 'latency': 1.0}\n")
    one_line_error(runner.invoke(cli, ["run", "--problem", str(other), "--max-evals", "1", "--warm-from",
                                       str(run_dir), "--run-dir", str(tmp_path / "o")]),
                   "its objectives are acc (maximize), size (minimize), this run's are acc (maximize), "
                   "latency (minimize)")
