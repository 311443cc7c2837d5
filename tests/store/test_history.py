"""One history of a run: every view (the history itself, the stored summary of a resumed run,
hps results, hps plot's curve, hps compare's curve, the dashboard's JSON) gives the same counts,
the same best and the same resource curve, a pruned (stopped) trial counted apart from the failed
ones and charged only what it trained."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from hpsearch import HpProblem
from hpsearch.cli import cli
from hpsearch.reporting.comparison import summarise
from hpsearch.reporting.plots import best_so_far
from hpsearch.run.runner import stored_summary
from hpsearch.search.base import Suggestion
from hpsearch.store import RunHistory, RunStore
from hpsearch.store.comparisons import run_name, save_settings
from hpsearch.trial import TrialResult

# (config_id, budget, previous_budget, status, objective, step_reached), in completion order
FINISHED = [
    (0, 3, 0, "done", 0.50, None),
    (1, 3, 0, "done", 0.20, None),
    (2, 3, 0, "failed", None, None),
    (3, 9, 0, "timeout", None, None),
    (1, 9, 3, "stopped", 0.35, 5),  # pruned at step 5 of 3..9: trained 2, not 6
    (4, 9, 0, "done", 0.30, None),  # budget 9 beats 0.2 at budget 3: the incumbent
]
COUNTS = {"done": 3, "failed": 1, "timeout": 1, "stopped": 1, "running": 1, "interrupted": 1}
RESOURCE = [3.0, 6.0, 9.0, 18.0, 20.0, 29.0]  # what each finished evaluation trained, summed
BEST = [0.5, 0.2, 0.2, 0.2, 0.2, 0.3]  # the incumbent after each finished evaluation
BEST_TRIAL = 5


def build_run(run_dir):
    """A multi-fidelity run (minimize, optimum 0) written through the store's API."""
    p = HpProblem(objective="loss", direction="minimize", optimum=0.0)
    p.add_dim("epochs", (1, 9), default=3, resource=True)
    p.add_dim("lr", (1e-3, 1.0, "log-uniform"), default=0.1)
    settings = {"problem_name": "fake", "algo": "hyperband", "space": p.to_dict(), "multi_fidelity": True,
                "workers": 1, "algo_options": {"max_resource": 9}}
    store = RunStore.create(run_dir, settings, p.names)
    t0 = dt.datetime(2026, 1, 1).timestamp()
    rows = FINISHED + [(5, 9, 0, "running", None, None), (6, 9, 0, "interrupted", None, None)]
    for tid, (cid, budget, prev, status, obj, step) in enumerate(rows):
        s = Suggestion(config={"epochs": budget, "lr": 0.01 * (cid + 1)}, config_id=cid, budget=budget,
                       previous_budget=prev, bracket=0, rung=int(budget == 9))
        store.add_trials([tid], [s], ask_seq=2 * tid, ask_n=1)
        if status == "interrupted":
            store.mark_interrupted([tid])
        elif status != "running":
            store.finish_trial(TrialResult(tid, status, objective=obj, error=None if obj else "boom",
                                           started_at=t0 + tid, finished_at=t0 + tid + 1, duration_s=1.0,
                                           worker="w0", step=step), tell_seq=2 * tid + 1)
    store.close()
    return run_dir


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory):
    """A comparison directory whose one run is the hand-built run."""
    out = tmp_path_factory.mktemp("history") / "cmp"
    out.mkdir()
    build_run(out / run_name("hyperband", 0))
    save_settings(out, {"problem_name": "fake", "algos": ["hyperband"], "seeds": 1, "budget": 30,
                        "unit": "resource", "max_resource": 9, "direction": "minimize", "optimum": 0.0,
                        "objective": "loss", "runs": {}})
    return out


@pytest.fixture(scope="module")
def run_dir(compare_dir):
    return compare_dir / run_name("hyperband", 0)


def test_the_history_counts_stopped_apart_and_charges_what_was_trained(run_dir):
    with RunStore.open(run_dir, readonly=True) as store:
        h = RunHistory.from_store(store)
        assert (store.objective, store.direction, store.multi_fidelity, store.optimum, store.max_resource) \
            == ("loss", "minimize", True, 0.0, 9)
    assert dict(h.counts) == COUNTS
    assert h.incumbent.trial_id == BEST_TRIAL and h.incumbent.objective == 0.3
    assert [p.resource for p in h.points] == RESOURCE and h.resource_spent == 29.0
    assert [p.best for p in h.points] == BEST
    assert [t.trial_id for t in h.finished] == [0, 1, 2, 3, 4, 5]
    assert h.first_error == "trial 2: boom"  # a stopped trial is no error
    assert h.ranked()[0] is h.incumbent


def test_a_resumed_runs_summary_agrees_with_the_history(run_dir):
    with RunStore.open(run_dir, readonly=True) as store:
        s = stored_summary(store)
    assert (s.n_done, s.n_failed, s.n_timeout, s.n_stopped) == (3, 1, 1, 1)
    assert s.best.trial_id == BEST_TRIAL and s.resource_spent == 29.0
    assert s.n_replayed == s.n_finished == 6 and s.first_error == "trial 2: boom"


def test_hps_results_ranks_the_incumbent_first_with_the_same_counts(run_dir):
    runner = CliRunner()
    out = runner.invoke(cli, ["results", str(run_dir), "--format", "json", "--failed", "--all", "--top", "0"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert rows[0]["trial_id"] == BEST_TRIAL and rows[0]["objective"] == 0.3 and rows[0]["rank"] == 1
    statuses = [r["status"] for r in rows]
    assert {s: statuses.count(s) for s in ("done", "failed", "timeout", "stopped")} == \
        {s: COUNTS[s] for s in ("done", "failed", "timeout", "stopped")}
    assert next(r for r in rows if r["status"] == "stopped")["step_reached"] == 5
    table = runner.invoke(cli, ["results", str(run_dir)])
    assert table.exit_code == 0, table.output
    assert "2 failed or timed out (--failed lists them); 1 stopped early (--failed lists them); " \
        "2 running or interrupted" in table.output


def test_hps_plot_curve_is_the_history(run_dir):
    with RunStore.open(run_dir, readonly=True) as store:
        finished = store.trials(finished_only=True, order="tell_seq")
    x, best, _, _ = best_so_far(finished, "minimize", multi_fidelity=True, by_resource=True)
    assert x == RESOURCE and best == BEST
    x, best, _, _ = best_so_far(finished, "minimize", multi_fidelity=True)
    assert x == [1, 2, 3, 4, 5, 6] and best == BEST


def test_hps_compare_curve_charges_the_same_resource(compare_dir):
    cmp = summarise(compare_dir)
    (curve,) = cmp.curves["hyperband"]
    assert list(curve.spent) == RESOURCE and curve.evaluations == 6
    # compare's "best" is over full-budget evaluations only, as regret: the incumbent's at the end
    assert curve.best[-1] == pytest.approx(0.3) and cmp.rows[0].spent == 29.0


def test_the_dashboard_shows_the_same_counts_best_and_resource_curve(compare_dir):
    pytest.importorskip("flask", reason="the dashboard extra is not installed")
    from hpsearch.dashboard.app import create_app

    client = create_app([str(compare_dir)]).test_client()
    (run,) = [r for r in client.get("/api/runs").get_json() if r["kind"] == "run"]
    assert (run["done"], run["failed"], run["running"]) == (3, 2, 2)  # failed: failed or timed out
    assert run["best"] == 0.3 and run["spent"] == 29.0
    meta = client.get(f"/api/run/{run['key']}").get_json()
    assert meta["counts"] == COUNTS and meta["finished"] == 6
    assert meta["direction"] == "minimize" and meta["objective"] == "loss" and meta["multi_fidelity"]
    pts = client.get(f"/api/run/{run['key']}/points?since=0").get_json()
    assert [t[0] for t in pts["trials"]] == [0, 1, 2, 3, 4, 5]
    assert pts["curve"]["spent"] == RESOURCE and pts["curve"]["best"] == BEST
    assert pts["curve"]["regret"] == BEST  # minimize, optimum 0


MF_PROBLEM = """
from hpsearch import HpProblem
Problem = HpProblem(objective="score", direction="minimize")
Problem.add_dim("epochs", (1, 9), default=3, resource=True)
Problem.add_dim("x", (0.0, 1.0), default=0.0)
"""
# score falls with the epoch; x > 0.7 fails; a median pruner stops the worse curves part-way
MF_RUN = """
def run(config, trial):
    if config["x"] > 0.7:
        raise ValueError("x too large")
    v = None
    for step in range(int(trial.previous_budget or 0) + 1, int(trial.budget) + 1):
        v = config["x"] + 1.0 / step
        if trial.report(step, score=v):
            break
    return v
"""


def test_a_live_runs_summary_and_its_stored_summary_agree(make_problem, tmp_path):
    from hpsearch.run.runner import RunConfig, start_run

    folder = make_problem("mf", problem=MF_PROBLEM, model_run=MF_RUN)
    out = start_run(RunConfig(problem=str(folder), algo="hyperband", seed=3, run_dir=str(tmp_path / "run"),
                              evaluator="serial", pruner="median", pruner_options={"min_trials": 1}))
    live = out.summary
    out.store.close()
    with RunStore.open(tmp_path / "run", readonly=True) as store:
        stored = stored_summary(store)
        h = RunHistory.from_store(store)
    assert live.n_stopped and live.n_failed and live.n_done  # the run has pruned and failed trials
    figures = lambda s: (s.n_done, s.n_failed, s.n_timeout, s.n_stopped, s.best.trial_id,  # noqa: E731
                         s.resource_spent, s.first_error)
    assert figures(stored) == figures(live)
    assert (h.counts["done"], h.counts["stopped"], h.incumbent.trial_id, h.resource_spent) == \
        (live.n_done, live.n_stopped, live.best.trial_id, live.resource_spent)
    stopped = [t for t in h.finished if t.status == "stopped"]
    assert any(t.resource_used < float(t.budget) - float(t.previous_budget or 0) for t in stopped)


def test_a_store_without_those_settings_reads_as_before(tmp_path):
    """A store made with no space in its settings: maximize the objective ``objective``, no optimum,
    multi-fidelity only when an evaluation has a rung."""
    store = RunStore.create(tmp_path / "run", {}, ["x"])
    assert (store.objective, store.direction, store.optimum, store.multi_fidelity, store.max_resource) == \
        ("objective", "maximize", None, False, None)
    store.add_trials([0, 1], [Suggestion({"x": 1.0}, 0, budget=3, rung=0), Suggestion({"x": 2.0}, 1)], 0, 2)
    store.finish_trial(TrialResult(0, "done", objective=1.0), 1)
    store.finish_trial(TrialResult(1, "done", objective=2.0), 2)
    assert store.multi_fidelity
    h = RunHistory.from_store(store)
    store.close()
    assert h.incumbent.trial_id == 0  # maximize, but a larger budget ranks first
