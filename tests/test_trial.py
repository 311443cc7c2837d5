"""One evaluation: what run() may return, how each outcome becomes a status, and what ``trial`` offers."""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from hpsearch.trial import (
    BadReturn,
    Status,
    Trial,
    TrialSpec,
    TrialTimeout,
    execute_trial,
    exit_call,
    finite_number,
    parse_return,
    stopped_result,
)


def spec(**kw) -> TrialSpec:
    return TrialSpec(**{"trial_id": 3, "config_id": 2, "config": {"x": 0.5}, **kw})


@pytest.mark.parametrize("value, expected", [
    (0.25, (0.25, {})),
    (3, (3.0, {})),
    (np.float32(0.5), (0.5, {})),
    (np.array(1.5), (1.5, {})),
    ({"objective": 2, "acc": np.float64(0.9), "n": np.int64(4), "tag": "a"},
     (2.0, {"acc": 0.9, "n": 4, "tag": "a"})),
])
def test_a_number_or_a_dict_holding_the_objective(value, expected):
    obj, metrics = parse_return(value, "objective")
    assert (obj, metrics) == expected and type(obj) is float
    assert all(type(v) in (int, float, str) for v in metrics.values())


@pytest.mark.parametrize("value, message", [
    ({"acc": 1.0}, "run() returned a dict without the objective 'objective' (keys: acc)"),
    ({}, "run() returned a dict without the objective 'objective' (keys: none)"),
    ("high", "run() returned str 'high'; expected a number or a dict with the key 'objective'"),
    (True, "run() returned bool True; expected a number"),
    (None, "run() returned NoneType None; expected a number"),
    ([1.0], "run() returned list [1.0]; expected a number"),
    (math.nan, "objective is nan (not a finite number)"),
    (-math.inf, "objective is -inf (not a finite number)"),
    ({"objective": math.inf}, "objective is inf (not a finite number)"),
])
def test_anything_else_is_a_bad_return_that_says_why(value, message):
    with pytest.raises(BadReturn) as info:
        parse_return(value, "objective")
    assert str(info.value).startswith(message)


def test_finite_number():
    assert [finite_number(x) for x in (1, 2.5, np.float64(3), True, "1", None, math.nan, math.inf)] == [
        1.0, 2.5, 3.0, None, None, None, None, None]


def run_plain(config):
    return config["x"] * 2


def test_a_run_that_returns_is_done_with_its_objective():
    r = execute_trial(run_plain, False, spec(), worker="w0")
    assert (r.status, r.objective, r.error, r.worker, r.trial_id) == (Status.DONE, 1.0, None, "w0", 3)
    assert r.finished_at >= r.started_at and r.duration_s >= 0 and r.step is None


@pytest.mark.parametrize("body, status, error", [
    (lambda c: 1 / 0, Status.FAILED, "ZeroDivisionError: division by zero (test_trial.py:"),
    (lambda c: sys.exit(0), Status.FAILED, "run() called sys.exit(0)"),
    (lambda c: sys.exit(), Status.FAILED, "run() called sys.exit()"),
    (lambda c: {"acc": 1}, Status.FAILED, "run() returned a dict without the objective"),
])
def test_each_failure_fails_only_the_trial_with_a_reason(body, status, error):
    r = execute_trial(body, False, spec())
    assert r.status == status and r.objective is None and r.error.startswith(error)
    assert r.worker.startswith("pid-")


def test_a_timeout_is_status_timeout():
    def run(config):
        raise TrialTimeout()

    r = execute_trial(run, False, spec(timeout=2.5))
    assert r.status == Status.TIMEOUT and r.error == "trial exceeded the trial timeout of 2.5 s"


def test_keyboard_interrupt_passes_through():
    def run(config):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        execute_trial(run, False, spec())


def test_reports_reach_the_reporter_and_a_stop_decision_makes_the_trial_stopped():
    seen = []

    def reporter(rep):
        seen.append(rep)
        return rep["step"] >= 2

    def run(config, trial):
        for step in range(1, 6):
            if trial.report(step, loss=np.float32(1.0 / step), n=np.int64(step)):
                return {"objective": 1.0 / step}
        return 0.0

    r = execute_trial(run, True, spec(), reporter=reporter)
    assert seen == [{"step": 1, "loss": 1.0, "n": 1}, {"step": 2, "loss": 0.5, "n": 2}]
    assert r.status == Status.STOPPED and r.objective == 0.5 and r.step == 2
    assert r.reports == seen


def test_a_run_that_ignores_the_stop_past_the_grace_is_stopped_with_its_last_report():
    def run(config, trial):
        step = 0
        while True:  # never looks at report's answer
            step += 1
            trial.report(step, objective=10.0 + step, acc=step)

    r = execute_trial(run, True, spec(stop_grace=0.0), reporter=lambda rep: rep["step"] >= 3)
    assert r.status == Status.STOPPED and r.error == "ignored the stop decision for 0 s"
    assert r.step >= 3 and r.objective == 10.0 + r.step and r.metrics == {"acc": r.step}


def test_without_a_reporter_reports_are_collected_and_never_stop():
    def run(config, trial):
        return {"objective": 1.0} if not any(trial.report(s, v=s) for s in range(3)) else 0.0

    r = execute_trial(run, True, spec())
    assert r.status == Status.DONE and r.objective == 1.0 and r.step == 2 and len(r.reports) == 3


def test_the_trial_object(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    t = Trial(spec(budget=9, previous_budget=3, seed=11, checkpoint_root=str(tmp_path)))
    assert (t.id, t.config_id, t.budget, t.previous_budget, t.seed, t.devices) == (3, 2, 9, 3, 11, ["2", "3"])
    assert t.checkpoint_dir == tmp_path / "config-2" and t.checkpoint_dir.is_dir()
    assert not t.should_stop and t.report(1, obj=1.0) is False
    assert repr(t) == "Trial(id=3, config_id=2, budget=9)"
    with pytest.raises(RuntimeError, match="no checkpoint directory"):
        _ = Trial(spec()).checkpoint_dir


def test_stopped_result_takes_the_last_report():
    r = stopped_result(spec(objective="loss"), {"step": 4, "loss": 0.3, "acc": 0.8}, 100.0, "w1")
    assert (r.status, r.objective, r.metrics, r.step, r.worker) == (Status.STOPPED, 0.3, {"acc": 0.8}, 4, "w1")
    empty = stopped_result(spec(), None, 100.0, "w1", error="killed")
    assert (empty.objective, empty.step, empty.metrics, empty.error) == (None, None, {}, "killed")


def test_exit_call_says_what_the_code_called():
    assert [exit_call(SystemExit(c)) for c in (None, 0, 3, "bye")] == [
        "sys.exit()", "sys.exit(0)", "sys.exit(3)", "sys.exit('bye')"]


def test_status_prints_as_its_value():
    assert str(Status.DONE) == "done" and f"{Status.STOPPED}" == "stopped" and f"{Status.FAILED:>7}" == " failed"
