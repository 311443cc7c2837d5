"""Live trials through the real engine on every evaluator: reports streamed and stored while the trial
runs, pruned trials stopped and stored ``stopped``, the grace period, exact resume, ``--stop-when``."""
from __future__ import annotations

import threading
import time

import pytest

from hpsearch.cli import cli
from hpsearch.run.runner import RunConfig, resume_run, start_run
from hpsearch.store import RunStore, StoreError

PROBLEM = """
from hpsearch import HpProblem
Problem = HpProblem(objective="score", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.0)
"""
# score falls with the step; x = 0 (the default, trial 0) is the best curve, every later one is worse
CURVE = """
import time
def run(config, trial):
    v = None
    for step in range(1, 11):
        v = config["x"] + 1.0 / step
        time.sleep(SLEEP)
        if trial.report(step, score=v, other=2 * step):
            break
    return {"score": v, "other": 2 * step}
"""
# every step reports x + 1; the starting points make each trial worse than all before it
FLAT_PROBLEM = PROBLEM + """
for x in (0.5, 0.6, 0.7):
    Problem.add_starting_point(x=x)
"""
# (trial 0 does not sleep: on dask, trials run two at a time, and its reports must come first)
FLAT = CURVE.replace("1.0 / step", "1.0").replace("time.sleep(SLEEP)", "time.sleep(SLEEP if config['x'] else 0)")
# reports once, then waits until the test creates the file GO (at most 60 s)
WAITING = """
import os, time
def run(config, trial):
    trial.report(1, score=0.5)
    end = time.monotonic() + 60
    while not os.path.exists(GO) and time.monotonic() < end:
        time.sleep(0.02)
    return 0.25
"""
# ignores every stop decision and keeps reporting (trial 0, x = 0, reports 200 steps at once: on
# dask, trials run two at a time, and its reports must be there when trial 1 is judged)
IGNORING = """
import time
def run(config, trial):
    for step in range(1, 200 if config["x"] == 0.0 else 3000):
        trial.report(step, score=config["x"] + 1.0 / step)
        time.sleep(0.01 if config["x"] else 0)
    return 0.0
"""

EVALUATORS = ["serial", "process", pytest.param("dask", marks=pytest.mark.slow)]


@pytest.fixture
def dask_scheduler(request):
    """The dask evaluator runs on test_dask's module cluster; the others need no Dask scheduler."""
    if request.node.callspec.params.get("evaluator") != "dask":
        return None
    pytest.importorskip("distributed")
    return request.getfixturevalue("cluster").address




def curve_problem(make_problem, sleep=0.0, model_run=CURVE, name="curve"):
    return make_problem(name, problem=PROBLEM, model_run=f"SLEEP = {sleep}\n" + model_run)


def config(folder, tmp_path, evaluator, dask_scheduler=None, name="run", **kw):
    kw.setdefault("seed", 0)
    return RunConfig(problem=str(folder), run_dir=str(tmp_path / name), evaluator=evaluator,
                     dask_scheduler=dask_scheduler, **kw)


def table(run_dir):
    with RunStore.open(run_dir, readonly=True) as s:
        return [(t.trial_id, t.config_id, t.params, t.status, t.objective, t.step_reached,
                 [r["step"] for r in s.reports(t.trial_id)]) for t in s.trials()]


@pytest.mark.slow
@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_reports_are_stored_while_the_trial_runs(evaluator, dask_scheduler, make_problem, tmp_path):
    go = tmp_path / "go"
    folder = make_problem("waiting", problem=PROBLEM, model_run=f"GO = {str(go)!r}\n" + WAITING)
    cfg = config(folder, tmp_path, evaluator, dask_scheduler, max_evals=1)
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("run", start_run(cfg)))
    thread.start()
    try:
        seen = None
        end = time.monotonic() + 60
        while time.monotonic() < end and not seen:
            time.sleep(0.05)
            try:
                with RunStore.open(tmp_path / "run", readonly=True) as s:
                    if s.trials() and s.reports(0):
                        seen = (s.trials()[0].status, s.reports(0), s.last_reports())
            except StoreError:  # not created yet
                pass
        assert seen == ("running", [{"step": 1, "score": 0.5}], {0: {"step": 1, "score": 0.5}})
        if evaluator == "serial":  # what hps results and hps plot show of a running trial
            from click.testing import CliRunner

            res = CliRunner().invoke(cli, ["results", str(tmp_path / "run")])
            assert res.exit_code == 0 and res.output.rstrip().endswith("trial 0 running: step 1, score 0.5")
            res = CliRunner().invoke(cli, ["plot", str(tmp_path / "run")])
            assert res.exit_code == 0 and res.output.split() == [str(tmp_path / "run" / "plots" /
                                                                      "learning_curves.png")]
    finally:
        go.write_text("")
        thread.join(60)
    out["run"].store.close()
    assert table(tmp_path / "run") == [(0, 0, {"x": 0.0}, "done", 0.25, 1, [1])]


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_a_pruned_trial_stops_within_one_report_and_keeps_its_last_values(evaluator, dask_scheduler,
                                                                           make_problem, tmp_path):
    folder = make_problem("flat", problem=FLAT_PROBLEM,
                          model_run=f"SLEEP = {0.2 if evaluator == 'dask' else 0.0}\n" + FLAT)
    out = start_run(config(folder, tmp_path, evaluator, dask_scheduler, max_evals=4, pruner="median",
                           pruner_options={"min_trials": 1}))
    out.store.close()
    rows = table(tmp_path / "run")
    assert rows[0][3:] == ("done", 1.0, 10, list(range(1, 11)))  # nobody to compare with
    assert [r[2]["x"] for r in rows] == [0.0, 0.5, 0.6, 0.7]
    assert out.summary.n_stopped == 3 and out.summary.n_done == 1
    # the median rule says stop at step 1 for every later trial (x + 1 > the median of the others):
    # the run function learns it from that report (serial, process) or the next one (dask) and returns;
    # on dask a report can also be judged before trial 0's reports have arrived (then at step 2)
    most = 3 if evaluator == "dask" else 1
    for _, _, params, status, objective, step, steps in rows[1:]:
        assert status == "stopped" and 1 <= step <= most and steps == list(range(1, step + 1))
        assert objective == pytest.approx(params["x"] + 1.0)
    if evaluator == "serial":
        from hpsearch.reporting.plots import plot_run

        assert "learning_curves.png" in [f.name for f in plot_run(tmp_path / "run")]
    with RunStore.open(tmp_path / "run", readonly=True) as s:
        stopped = [t for t in s.trials() if t.status == "stopped"]
        assert all(t.metrics == {"other": 2 * t.step_reached} for t in stopped)
        assert out.summary.resource_spent == 0.0  # no resource dimension: nothing counted
    if evaluator == "dask":  # the stop Events were cleared, so the cluster keeps none of them
        from distributed import Client

        with Client(dask_scheduler, timeout=30) as client:
            # Dask has no public call that lists the Events a scheduler holds: this reads its table
            events = client.run_on_scheduler(
                lambda dask_scheduler: list(dask_scheduler.extensions["events"]._events))
        assert not [e for e in events if str(e).startswith("hps-")]


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_a_run_function_that_ignores_the_stop_is_stopped_after_the_grace_period(evaluator, dask_scheduler,
                                                                                 make_problem, tmp_path):
    folder = curve_problem(make_problem, model_run=IGNORING, name="ignoring")
    out = start_run(config(folder, tmp_path, evaluator, dask_scheduler, max_evals=2, pruner="median",
                           pruner_options={"min_trials": 1, "grace_period": 5}, stop_grace=0.5))
    out.store.close()
    with RunStore.open(tmp_path / "run", readonly=True) as s:
        first, second = s.trials()
        reports = s.reports(1)
    assert first.status == "done"  # nobody to compare with: never told to stop
    assert second.status == "stopped" and "ignored the stop decision for 0.5 s" in second.error
    assert second.step_reached == reports[-1]["step"] >= 5
    assert second.objective == pytest.approx(second.params["x"] + 1.0 / second.step_reached)
    assert second.step_reached < 2999  # stopped, not run to the end of its loop


@pytest.mark.slow
def test_resume_of_a_run_with_pruned_and_running_trials_equals_an_uninterrupted_one(make_problem, tmp_path):
    folder = curve_problem(make_problem, sleep=0.02)
    kw = dict(max_evals=20, pruner="asha", pruner_options={"max_resource": 10, "eta": 2})
    whole = start_run(config(folder, tmp_path, "serial", name="whole", **kw))
    whole.store.close()
    cut = start_run(config(folder, tmp_path, "serial", name="cut", timeout=0.5, **kw))
    cut.store.close()
    assert cut.summary.stopped_by == "timeout" and cut.summary.n_interrupted == 1
    assert 0 < cut.summary.n_stopped < whole.summary.n_stopped
    again = resume_run(tmp_path / "cut", timeout=600)
    again.store.close()
    assert table(tmp_path / "cut") == table(tmp_path / "whole")
    assert whole.summary.n_stopped >= 10 and again.summary.n_stopped == whole.summary.n_stopped


@pytest.mark.slow
def test_stop_when_ends_the_run_and_resume_respects_it(runner, make_problem, tmp_path):
    folder = curve_problem(make_problem, sleep=0.02)
    run_dir = tmp_path / "run"
    res = runner.invoke(cli, ["run", "--problem", str(folder), "--seed", "0", "--max-evals", "40", "--workers",
                              "2", "--run-dir", str(run_dir), "--stop-when", "score<=0.35",
                              "--stop-when", "other>=100"])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("ended: "))
    with RunStore.open(run_dir, readonly=True) as s:
        trials = s.trials()
        met = next(t for t in trials if t.status == "done" and t.objective <= 0.35)
        assert line == f"ended:         stop condition met: score {met.objective:.6g} <= 0.35 at trial {met.trial_id}"
        assert all(t.status in ("done", "stopped") for t in trials)  # the other worker's trial: stopped
        assert s.settings["stop_when"] == ["score<=0.35", "other>=100"]
        n = len(trials)
    assert n < 40
    res = runner.invoke(cli, ["resume", str(run_dir)])
    assert res.exit_code == 0, res.output
    assert f"already met its condition: score {met.objective:.6g} <= 0.35 at trial {met.trial_id}; " \
           "pass --stop-when to change it" in res.output
    assert len(table(run_dir)) == n
    res = runner.invoke(cli, ["resume", str(run_dir), "--stop-when", "score<=0.0001", "--max-evals", str(n + 2)])
    assert res.exit_code == 0, res.output
    assert len(table(run_dir)) == n + 2
    assert f"ended:         max-evals reached ({n + 2})" in res.output.splitlines()


@pytest.mark.parametrize("flag, message", [
    ("val_accuracy=0.98", "Error: --stop-when: expected METRIC>=VALUE (or <=, >, <), e.g. 'val_accuracy>=0.98', "
                          "got 'val_accuracy=0.98'"),
    ("score>=high", "Error: --stop-when: the value must be a finite number, got 'high' in 'score>=high'"),
    ("val_accuracy>=0.98", "Error: --stop-when val_accuracy>=0.98: unknown metric 'val_accuracy' (trial 0 "
                           "stored: score, other); the finished trials are kept in {run}: continue with a "
                           "corrected condition, 'hps resume {run} --stop-when METRIC>=VALUE'"),
])
def test_stop_when_usage_errors_are_one_line(runner, make_problem, tmp_path, flag, message):
    folder = curve_problem(make_problem)
    res = runner.invoke(cli, ["run", "--problem", str(folder), "--evaluator", "serial", "--max-evals", "5",
                              "--run-dir", str(tmp_path / "run"), "--stop-when", flag])
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines()[-1] == message.format(run=tmp_path / "run")


def test_pruner_option_errors_are_one_line(runner, make_problem, tmp_path):
    folder = curve_problem(make_problem)
    base = ["run", "--problem", str(folder), "--evaluator", "serial", "--run-dir", str(tmp_path / "run")]
    res = runner.invoke(cli, [*base, "--pruner", "median", "--pruner-eta", "3"])
    assert res.exit_code == 2
    assert res.output.strip() == ("Error: --pruner-eta: does not apply to --pruner median (its options: "
                                  "--pruner-grace-period, --pruner-min-trials)")
    res = runner.invoke(cli, [*base, "--pruner-eta", "3"])
    assert res.exit_code == 2 and res.output.strip() == "Error: --pruner-eta: needs --pruner"
    res = runner.invoke(cli, [*base, "--pruner", "hyperband"])
    assert res.exit_code == 2 and "needs --pruner-max-resource" in res.output
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("flags, message", [
    (["--pruner", "median", "--pruner-grace-period", "0"], "--pruner-grace-period must be > 0, got 0"),
    (["--pruner", "median", "--pruner-grace-period", "nan"],
     "--pruner-grace-period must be a finite number, got nan"),
    (["--pruner", "median", "--pruner-min-trials", "0"], "--pruner-min-trials must be an integer >= 1, got 0"),
    (["--pruner", "asha", "--pruner-max-resource", "-2"], "--pruner-max-resource must be > 0, got -2"),
])
def test_pruner_options_are_checked_by_the_shared_option_protocol(runner, make_problem, tmp_path, flags,
                                                                  message):
    from hpsearch.search.base import OptionError
    from hpsearch.search.options import Option
    from hpsearch.search.pruners import PrunerOptionError, all_options

    assert issubclass(PrunerOptionError, OptionError)
    assert all(type(o) is Option and o.flag == "--pruner-" + o.name.replace("_", "-")
               for o in all_options().values())
    folder = curve_problem(make_problem)
    res = runner.invoke(cli, ["run", "--problem", str(folder), "--evaluator", "serial",
                              "--run-dir", str(tmp_path / "run"), *flags])
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == ["Error: " + message]
    assert not (tmp_path / "run").exists()
