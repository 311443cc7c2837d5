"""The engine through runner.start_run (failures recorded, search goes on, limits, resume), and its rules
on scripted evaluations (an in-process evaluator that plays each trial's reports and outcome, no clock):
what a stop condition does to the trials in flight, which reports reach the pruner, late and missing
reports, an interrupt, and the resume checks that the replayed history still fits."""
from __future__ import annotations

import os
import signal

import pytest

from hpsearch import HpProblem
from hpsearch.evaluators.base import Evaluator
from hpsearch.run.engine import Engine, Limits, ResumeError
from hpsearch.run.runner import RunConfig, RunError, resume_run, start_run
from hpsearch.run.stopping import parse_condition
from hpsearch.search import DONE, WAIT, make_scheduler
from hpsearch.store import RunStore
from hpsearch.trial import Status, TrialResult

from ..conftest import PROBLEMS

FAILING = """
import math
def run(config):
    i = round(config["x"] * 1000) % 5
    if i == 0:
        raise RuntimeError("bad luck")
    if i == 1:
        return math.nan
    if i == 2:
        return "high"
    if i == 3:
        return {"acc": 1.0}
    return config["x"]
"""
PROBLEM = """
from hpsearch import HpProblem
Problem = HpProblem(objective="objective", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.0)
"""


def run(problem, tmp_path, **kw):
    kw.setdefault("evaluator", "serial")
    kw.setdefault("seed", 0)
    out = start_run(RunConfig(problem=str(problem), run_dir=str(tmp_path / "run"), **kw))
    out.store.close()
    return out


def test_failures_are_recorded_with_reasons_and_the_search_goes_on(make_problem, tmp_path):
    folder = make_problem("fails", problem=PROBLEM, model_run=FAILING)
    out = run(folder, tmp_path, max_evals=40)
    with RunStore.open(tmp_path / "run") as s:
        trials = s.trials()
    assert len(trials) == 40
    errors = {t.error.split(":")[0] for t in trials if t.status == "failed"}
    assert any(e.startswith("RuntimeError") for e in errors)
    reasons = " | ".join(t.error for t in trials if t.status == "failed")
    assert "RuntimeError: bad luck (model_run.py:6)" in reasons
    assert "objective is nan (not a finite number)" in reasons
    assert "run() returned str 'high'; expected a number or a dict with the key 'objective'" in reasons
    assert "run() returned a dict without the objective 'objective' (keys: acc)" in reasons
    assert out.summary.n_done == sum(t.status == "done" for t in trials) > 0
    assert out.summary.n_failed == 40 - out.summary.n_done


def test_trial_timeout_in_the_serial_evaluator(make_problem, tmp_path):
    folder = make_problem("slow", problem=PROBLEM, model_run="""
import time
def run(config):
    if config["x"] == 0.0:
        time.sleep(3600)  # only the trial timeout ends it
    return config["x"]
""")
    out = run(folder, tmp_path, max_evals=3, trial_timeout=0.5)
    with RunStore.open(tmp_path / "run") as s:
        statuses = [t.status for t in s.trials()]
    assert statuses == ["timeout", "done", "done"]
    assert out.summary.n_timeout == 1


@pytest.mark.slow
def test_run_timeout_stops_and_resume_finishes(make_problem, tmp_path):
    folder = make_problem("slow", problem=PROBLEM, model_run="""
import time
from pathlib import Path
CALLS = Path(__file__).with_name("calls")
def run(config):
    n = int(CALLS.read_text()) + 1 if CALLS.exists() else 1
    CALLS.write_text(str(n))
    if n == 3:
        time.sleep(3600)  # the third call runs until the run's timeout ends it
    return config["x"]
""")
    out = run(folder, tmp_path, max_evals=8, timeout=5.0)
    assert out.summary.stopped_by == "timeout"
    assert out.summary.n_done == 2 and out.summary.n_interrupted == 1
    again = resume_run(tmp_path / "run", timeout=60)
    again.store.close()
    assert again.summary.n_done == 8 and again.summary.stopped_by is None


def test_max_evals_and_fix(tmp_path):
    out = run(PROBLEMS / "mixed", tmp_path, max_evals=12, fix={"act": "relu", "layers": "3"})
    with RunStore.open(tmp_path / "run") as s:
        configs = [t.params for t in s.trials()]
    assert len(configs) == 12 and out.summary.n_done == 12
    assert {c["act"] for c in configs} == {"relu"} and {c["layers"] for c in configs} == {3}


@pytest.mark.parametrize("kw, message", [
    ({"max_evals": 0}, "--max-evals must be >= 1, got 0"),
    ({"workers": 0}, "--workers must be >= 1, got 0"),
    ({"timeout": -1.0}, "--timeout must be > 0 seconds, got -1"),
])
def test_bad_limits_are_usage_errors_and_write_nothing(tmp_path, kw, message):
    with pytest.raises(RunError, match=message):
        run(PROBLEMS / "mixed", tmp_path, **kw)
    assert not (tmp_path / "run").exists()


# -- the rules, on scripted evaluations ------------------------------------------------------------
def problem() -> HpProblem:
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    return p


class Scripted(Evaluator):
    """Plays ``script(trial_id) -> (reports, outcome)``: at each ``wait`` every trial in flight sends its
    next report, then the oldest trial whose reports are all sent ends with ``outcome`` (a loss, or a
    TrialResult). ``decisions`` keeps what the engine answered to each report; ``interrupt_at`` raises
    Ctrl-C in the wait of that number."""

    def __init__(self, script, workers=1, interrupt_at=None, forget_on_cancel=False):
        super().__init__(".", workers=workers)
        self.script = script
        self.flight: dict[int, list] = {}  # trial -> reports still to send
        self.specs = {}
        self.decisions: list[tuple[int, dict, bool]] = []
        self.waits = 0
        self.interrupt_at = interrupt_at
        self.forget_on_cancel = forget_on_cancel

    def submit(self, spec):
        self.specs[spec.trial_id] = spec
        self.flight[spec.trial_id] = list(self.script(spec.trial_id)[0])

    def wait(self, timeout=None, deadline=None):
        self.waits += 1
        if self.waits == self.interrupt_at:
            raise KeyboardInterrupt
        for tid, left in self.flight.items():
            if left:
                report = left.pop(0)
                self.decisions.append((tid, report, self._report(tid, report)))
        done = next(tid for tid, left in self.flight.items() if not left)
        del self.flight[done]
        outcome = self.script(done)[1]
        if isinstance(outcome, TrialResult):
            return [outcome]
        return [TrialResult(trial_id=done, status=Status.DONE, objective=outcome, metrics={"acc": 1 - outcome})]

    def in_flight(self):
        return list(self.flight)

    def cancel(self):
        ids = [] if self.forget_on_cancel else list(self.flight)
        self.flight.clear()
        return ids


class AlwaysStop:
    """A pruner that stops every trial it is asked about, and remembers what it was asked."""

    def __init__(self):
        self.asked = []

    def report(self, trial_id, step, loss):
        self.asked.append((trial_id, step, loss))
        return True

    def tell(self, trial_id, status, loss, step):
        pass


def engine(tmp_path, evaluator, max_evals=4, seed=0, **kw) -> Engine:
    p = problem()
    store = RunStore.create(tmp_path / "run", {}, p.names)
    return Engine(p, make_scheduler("random", p, seed, {}), evaluator, store, Limits(max_evals=max_evals),
                  seed=seed, **kw)


def stored(tmp_path):
    with RunStore.open(tmp_path / "run", readonly=True) as s:
        return {t.trial_id: t for t in s.trials()}, {t.trial_id: s.reports(t.trial_id) for t in s.trials()}


def test_the_stop_condition_stores_a_trial_in_flight_as_stopped_with_its_last_report(tmp_path):
    def script(tid):
        if tid == 0:
            return [{"step": 1, "loss": 0.05}], 0.05  # meets loss<=0.1
        return [{"step": 1, "loss": 0.9, "acc": 0.2}, {"step": 2, "loss": 0.7, "acc": 0.4}, {"step": 3}], 0.5

    ev = Scripted(script, workers=2)
    e = engine(tmp_path, ev, stop_when=[parse_condition("loss<=0.1")])
    summary = e.run()
    e.store.close()
    trials, _ = stored(tmp_path)
    assert summary.stopped_by == "condition" and summary.n_done == 1 and summary.n_stopped == 1
    assert summary.ended == "stop condition met: loss 0.05 <= 0.1 at trial 0"
    cut = trials[1]
    assert cut.status == "stopped"
    assert cut.error == "stopped: the run met its condition (loss 0.05 <= 0.1 at trial 0)"
    assert cut.objective == 0.9 and cut.metrics == {"acc": 0.2} and cut.step_reached == 1  # its one report
    assert cut.params == ev.specs[1].config and cut.config_id == ev.specs[1].config_id
    assert not cut.worker  # the driver cut it off: no worker returned it
    assert sorted(trials) == [0, 1]  # nothing asked after the condition was met


def test_reports_without_a_step_or_a_value_never_reach_the_pruner(tmp_path):
    reports = {0: [{"loss": 0.5}], 1: [{"step": 1}], 2: [{"step": 1, "loss": "n/a"}], 3: [{"step": 2, "loss": 0.5}]}
    ev = Scripted(lambda tid: (reports[tid], 0.3))
    pruner = AlwaysStop()
    e = engine(tmp_path, ev, pruner=pruner)
    e.run()
    e.store.close()
    assert [(tid, stop) for tid, _, stop in ev.decisions] == [(0, False), (1, False), (2, False), (3, True)]
    assert pruner.asked == [(3, 2.0, 0.5)]


def test_a_late_report_is_answered_stop_and_not_stored(tmp_path):
    ev = Scripted(lambda tid: ([{"step": 1, "loss": 0.4}], 0.3))
    e = engine(tmp_path, ev, max_evals=2)
    e.run()
    assert ev.on_report(0, {"step": 2, "loss": 0.1}) is True  # trial 0 already finished
    assert ev.on_report(99, {"step": 1, "loss": 0.1}) is True  # never asked
    e.store.close()
    _, reports = stored(tmp_path)
    assert [r["step"] for r in reports[0]] == [1]


def test_a_report_that_is_no_dict_is_answered_stop_and_not_stored(tmp_path):
    ev = Scripted(lambda tid: (["step 1: 0.4"] if tid == 0 else [], 0.3))
    e = engine(tmp_path, ev, max_evals=2)
    e.run()
    e.store.close()
    assert ev.decisions == [(0, "step 1: 0.4", True)]
    _, reports = stored(tmp_path)
    assert reports[0] == []


def test_reports_a_result_carries_that_did_not_stream_are_stored_once(tmp_path):
    # a Dask worker may send the result before its last reports arrived: the result carries them all
    streamed = [{"step": 1, "loss": 0.9}]
    carried = [{"step": 1, "loss": 0.9}, {"step": 2, "loss": 0.6}, {"step": 3, "loss": 0.4}]

    def script(tid):
        return streamed, TrialResult(trial_id=tid, status=Status.DONE, objective=0.4, reports=carried)

    e = engine(tmp_path, Scripted(script), max_evals=2)
    e.run()
    e.store.close()
    _, reports = stored(tmp_path)
    assert [[r["step"] for r in reports[tid]] for tid in (0, 1)] == [[1, 2, 3], [1, 2, 3]]


def test_an_interrupt_marks_every_trial_in_flight_even_one_the_evaluator_lost(tmp_path):
    # the evaluator was interrupted in the middle of a trial and cannot name it any more
    ev = Scripted(lambda tid: ([], 0.3), workers=2, interrupt_at=2, forget_on_cancel=True)
    e = engine(tmp_path, ev, max_evals=4)
    summary = e.run()
    e.store.close()
    trials, _ = stored(tmp_path)
    assert summary.stopped_by == "signal" and summary.ended == "interrupted (SIGINT)"
    assert {tid: t.status for tid, t in trials.items()} == {0: "done", 1: "interrupted", 2: "interrupted"}
    assert summary.n_interrupted == 2


def first_run(tmp_path, n=3):
    e = engine(tmp_path, Scripted(lambda tid: ([], 0.3)), max_evals=n)
    e.run()
    e.store.close()


def resume_with(tmp_path, scheduler) -> Engine:
    p = problem()
    store = RunStore.open(tmp_path / "run")
    return Engine(p, scheduler, Scripted(lambda tid: ([], 0.3)), store, Limits(max_evals=5), seed=0)


def test_a_resume_whose_scheduler_proposes_other_configurations_is_refused(tmp_path):
    first_run(tmp_path)
    p = problem()
    e = resume_with(tmp_path, make_scheduler("random", p, 1, {}))  # another seed: the same default first, then other points
    with pytest.raises(ResumeError, match=r"^cannot resume: trial 1 was \{'x': .*\} but the scheduler now "
                       r"proposes \{'x': .*\}; was the problem or hpsearch changed since the run started\?$"):
        e.run()
    e.store.close()


class Finished:
    """A scheduler with nothing left to propose."""

    multi_fidelity = False

    def ask(self, n):
        return DONE

    def tell(self, told):
        pass

    def done_reason(self):
        return "nothing left"


def test_a_resume_whose_scheduler_proposes_nothing_is_refused_naming_the_first_trial(tmp_path):
    first_run(tmp_path)
    e = resume_with(tmp_path, Finished())
    with pytest.raises(ResumeError, match=r"^cannot resume: the search scheduler no longer proposes trial 0 "
                       r"\(got DONE\); was the problem or hpsearch changed\?$"):
        e.run()
    e.store.close()


def test_the_summary_names_the_best_and_the_first_error_in_the_problems_direction(tmp_path):
    losses = {0: 0.4, 1: 0.9, 2: 0.1, 3: 0.7}

    def script(tid):
        if tid == 1:
            return [], TrialResult(trial_id=1, status=Status.FAILED, error="ValueError: no")
        return [], losses[tid]

    p = HpProblem(objective="loss", direction="maximize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    store = RunStore.create(tmp_path / "run", {}, p.names)
    summary = Engine(p, make_scheduler("random", p, 0, {}), Scripted(script), store, Limits(max_evals=4),
                     seed=0).run()
    store.close()
    assert summary.best.trial_id == 3 and summary.best.objective == 0.7  # the largest: maximize
    assert summary.first_error == "trial 1: ValueError: no"
    assert (summary.n_done, summary.n_failed) == (3, 1)


def test_the_best_of_a_multi_fidelity_run_is_at_the_largest_budget(tmp_path):
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("epochs", (1, 3), default=1, resource=True)
    ev = Scripted(lambda tid: ([], 0.1 if ev.specs[tid].budget == 1 else 0.5))  # budget 1 looks better
    store = RunStore.create(tmp_path / "run", {}, p.names)
    summary = Engine(p, make_scheduler("hyperband", p, 0, {}), ev, store, Limits(), seed=0).run()
    store.close()
    assert summary.best.budget == 3 and summary.best.objective == 0.5


class Recorder:
    def __init__(self):
        self.events = []

    def on_start(self, engine):
        self.events.append("start")

    def on_result(self, trial, best, summary):
        self.events.append((trial.trial_id, best.trial_id, summary.n_done))

    def on_end(self, summary):
        self.events.append(("end", summary.ended))


def test_the_observer_hears_the_start_each_result_with_the_best_so_far_and_the_end(tmp_path):
    losses = {0: 0.5, 1: 0.7, 2: 0.2}
    observer = Recorder()
    e = engine(tmp_path, Scripted(lambda tid: ([], losses[tid])), max_evals=3, observer=observer)
    e.run()
    e.store.close()
    assert observer.events == ["start", (0, 0, 1), (1, 0, 2), (2, 2, 3), ("end", "max-evals reached (3)")]


def test_each_trial_is_told_the_run_directorys_checkpoint_folder(tmp_path):
    ev = Scripted(lambda tid: ([], 0.3))
    e = engine(tmp_path, ev, max_evals=2)
    e.run()
    e.store.close()
    assert {spec.checkpoint_root for spec in ev.specs.values()} == {str(tmp_path / "run" / "checkpoints")}


def test_evaluations_without_a_resource_spend_none_of_a_resource_limit(tmp_path):
    p = problem()
    store = RunStore.create(tmp_path / "run", {}, p.names)
    summary = Engine(p, make_scheduler("random", p, 0, {}), Scripted(lambda tid: ([], 0.3)), store,
                     Limits(max_evals=4, max_resource_spent=2), seed=0).run()
    store.close()
    assert summary.n_done == 4 and summary.ended == "max-evals reached (4)"


class SignalledAt(Scripted):
    """Sends the driver (this process) ``sig`` from inside ``where`` ("wait" or "submit"), once."""

    def __init__(self, sig, where, **kw):
        super().__init__(lambda tid: ([], 0.3), **kw)
        self.sig, self.where, self.sent = sig, where, False

    def _send(self, where):
        if where == self.where and not self.sent:
            self.sent = True
            os.kill(os.getpid(), self.sig)

    def submit(self, spec):
        super().submit(spec)
        if spec.trial_id == 1:
            self._send("submit")

    def wait(self, timeout=None, deadline=None):
        if self.waits == 1:
            self._send("wait")
        return super().wait(timeout, deadline)


@pytest.mark.parametrize("sig, where", [(signal.SIGTERM, "wait"), (signal.SIGHUP, "wait"),
                                        (signal.SIGINT, "submit")])
def test_a_signal_to_the_driver_interrupts_the_run_and_is_named(tmp_path, sig, where):
    # in wait() the handler stops the wait at once; anywhere else the loop stops at its next turn
    ev = SignalledAt(sig, where)
    e = engine(tmp_path, ev, max_evals=6)
    summary = e.run()
    e.store.close()
    assert ev.sent and summary.stopped_by == "signal" and summary.signal == sig
    assert summary.ended == f"interrupted ({signal.Signals(sig).name})"
    assert summary.n_done == 1 and summary.n_interrupted == 1
    assert signal.getsignal(sig) != e._on_signal  # the handlers are given back


def test_configurations_enqueued_are_asked_first_and_replayed_on_resume(tmp_path):
    # the steps an ask/tell study takes: replay, enqueue, ask, finish
    e = engine(tmp_path, Scripted(lambda tid: ([], 0.3)))
    assert e.replay() == []
    first, second = e.enqueue({"x": 0.25}), e.enqueue({"x": 0.75})
    assert (first, second) == ({"x": 0.25}, {"x": 0.75})
    for _ in range(3):
        (tid,) = e.ask(1)
        e.finish(TrialResult(trial_id=tid, status=Status.DONE, objective=0.3))
    e.store.close()
    trials, _ = stored(tmp_path)
    assert [trials[0].params, trials[1].params] == [first, second]
    assert trials[0].ask_seq == 2  # one event each: enqueued at 0 and 1, then the first ask
    with RunStore.open(tmp_path / "run", readonly=True) as s:
        assert s.enqueued() == [(0, first), (1, second)]
    p = problem()
    store = RunStore.open(tmp_path / "run")
    summary = Engine(p, make_scheduler("random", p, 0, {}), Scripted(lambda tid: ([], 0.3)), store,
                     Limits(max_evals=4), seed=0).run()
    store.close()
    assert (summary.n_replayed, summary.n_done) == (3, 4)  # the enqueued ones replayed in their place


def two_objectives() -> HpProblem:
    p = HpProblem(objectives={"loss": "minimize", "acc": "maximize"})
    p.add_dim("x", (0.0, 1.0), default=0.5)
    return p


def test_a_multi_objective_trial_cut_off_by_the_stop_condition_keeps_every_objective(tmp_path):
    def script(tid):
        if tid == 0:
            return [], TrialResult(trial_id=0, status=Status.DONE, objective=0.05, metrics={"acc": 0.9})
        return [{"step": 1, "loss": 0.9, "acc": 0.2}, {"step": 2}, {"step": 3}], 0.5

    p = two_objectives()
    store = RunStore.create(tmp_path / "run", {}, p.names)
    summary = Engine(p, make_scheduler("random", p, 0, {}), Scripted(script, workers=2), store,
                     Limits(max_evals=4), seed=0, stop_when=[parse_condition("loss<=0.1")]).run()
    store.close()
    trials, _ = stored(tmp_path)
    assert summary.stopped_by == "condition" and trials[1].status == "stopped"
    # the first objective is the objective column and stays in the metrics, as every objective does
    assert (trials[1].objective, trials[1].metrics) == (0.9, {"loss": 0.9, "acc": 0.2})
    assert [t.trial_id for t in summary.front] == [0]  # the summary's result is the front (done trials)


def test_the_pruner_of_a_multi_objective_run_is_given_every_objectives_loss(tmp_path):
    p = two_objectives()
    pruner = AlwaysStop()
    store = RunStore.create(tmp_path / "run", {}, p.names)
    Engine(p, make_scheduler("random", p, 0, {}), Scripted(lambda tid: ([{"step": 1, "loss": 0.5, "acc": 0.8}],
                                                                        TrialResult(trial_id=tid, status=Status.DONE,
                                                                                    objective=0.4,
                                                                                    metrics={"acc": 0.9}))),
           store, Limits(max_evals=1), seed=0, pruner=pruner).run()
    store.close()
    assert pruner.asked == [(0, 1.0, (0.5, -0.8))]  # losses: acc is maximised


def test_configurations_enqueued_before_anything_was_asked_are_asked_first_on_resume(tmp_path):
    e = engine(tmp_path, Scripted(lambda tid: ([], 0.3)))
    e.replay()
    e.enqueue({"x": 0.125})
    e.store.close()  # stopped before the first ask
    p = problem()
    store = RunStore.open(tmp_path / "run")
    Engine(p, make_scheduler("random", p, 0, {}), Scripted(lambda tid: ([], 0.3)), store, Limits(max_evals=2),
           seed=0).run()
    store.close()
    trials, _ = stored(tmp_path)
    assert trials[0].params == {"x": 0.125} and trials[0].ask_seq == 1


def test_a_run_whose_limit_was_reached_before_this_session_ends_saying_which(tmp_path):
    # what an ask/tell study loaded after its last evaluation asks the engine: finished? why?
    first_run(tmp_path, n=3)
    e = resume_with(tmp_path, make_scheduler("random", problem(), 0, {}))
    e.limits = Limits(max_evals=3)
    assert e.replay() == []
    assert e.exhausted()
    assert e.end_reason() == "max-evals reached (3)"  # without asking first
    assert e.ask(1) == [] and not e.waiting
    e.store.close()


def test_the_resource_limit_is_named_when_it_ends_the_run_before_max_evals(tmp_path):
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("epochs", (1, 3), default=1, resource=True)
    store = RunStore.create(tmp_path / "run", {}, p.names)
    summary = Engine(p, make_scheduler("random", p, 0, {}), Scripted(lambda tid: ([], 0.3)), store,
                     Limits(max_evals=3, max_resource_spent=2), seed=0).run()
    store.close()
    # each evaluation trains epochs=1: two reach the limit with one evaluation of max_evals left
    assert (summary.n_done, summary.resource_spent) == (2, 2.0)
    assert summary.ended == "max_resource_spent reached (2)"


class Waiting:
    """A broken scheduler: it waits for results while nothing is in flight."""

    multi_fidelity = False

    def ask(self, n):
        return WAIT

    def tell(self, told):
        pass


def test_a_scheduler_that_waits_with_nothing_in_flight_is_a_bug_named_after_it(tmp_path):
    p = problem()
    store = RunStore.create(tmp_path / "run", {}, p.names)
    with pytest.raises(RuntimeError, match="^Waiting says WAIT with nothing in flight$"):
        Engine(p, Waiting(), Scripted(lambda tid: ([], 0.3)), store, Limits(max_evals=2), seed=0).run()
    store.close()


def test_the_stored_warm_start_is_given_to_the_scheduler_before_its_first_ask(tmp_path):
    p = problem()
    warm = {"sources": [{"run_dir": "earlier"}],
            "evaluations": [{"source": 0, "trial_id": 7, "params": {"x": 0.2}, "budget": None, "objective": 0.1}]}
    store = RunStore.create(tmp_path / "run", {}, p.names, warm_start=warm)
    scheduler = make_scheduler("random", p, 0, {})
    given = []
    learn = scheduler.warm_start
    scheduler.warm_start = lambda observations: given.append(list(observations)) or learn(observations)
    Engine(p, scheduler, Scripted(lambda tid: ([], 0.3)), store, Limits(max_evals=1), seed=0).run()
    store.close()
    assert [[(o.config, o.budget, o.loss) for o in obs] for obs in given] == [[({"x": 0.2}, None, 0.1)]]


def test_the_front_of_a_multi_objective_multi_fidelity_run_holds_full_budget_evaluations_only(tmp_path):
    p = HpProblem(objectives={"loss": "minimize", "acc": "maximize"})
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("epochs", (1, 3), default=1, resource=True)

    def script(tid):  # a budget of 1 looks better on both objectives: a preview, not a result
        short = ev.specs[tid].budget == 1
        return [], TrialResult(trial_id=tid, status=Status.DONE, objective=0.1 if short else 0.5,
                               metrics={"acc": 0.9 if short else 0.6})

    ev = Scripted(script)
    store = RunStore.create(tmp_path / "run", {"space": p.to_dict()}, p.names)  # as a run stores it
    summary = Engine(p, make_scheduler("hyperband", p, 0, {}), ev, store, Limits(), seed=0).run()
    store.close()
    assert summary.front and {t.budget for t in summary.front} == {3}


def test_a_resume_of_a_run_that_met_its_stop_condition_runs_nothing_and_says_why(tmp_path):
    def script(tid):
        return [], 0.05 if tid == 0 else 0.5

    stop = [parse_condition("loss<=0.1")]
    first = engine(tmp_path, Scripted(script), stop_when=stop)
    first.run()
    first.store.close()
    p = problem()
    store = RunStore.open(tmp_path / "run")
    again = Scripted(script)
    summary = Engine(p, make_scheduler("random", p, 0, {}), again, store, Limits(max_evals=4), seed=0,
                     stop_when=stop).run()
    store.close()
    assert summary.ended == "stop condition met: loss 0.05 <= 0.1 at trial 0" and again.specs == {}
    assert 0.0 <= summary.startup_s <= summary.wall_s  # starting the evaluator: part of the wall time
