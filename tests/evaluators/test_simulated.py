"""The simulated evaluator: the evaluator contract, results in the order real workers would deliver them
(a hand-computed schedule), durations from a metric or the problem's runtime model, and a resume that
stores the same virtual times as an uninterrupted run."""
from __future__ import annotations

import sqlite3

import pytest

from hpsearch.evaluators import make_evaluator
from hpsearch.run.runner import RunConfig, resume_run, start_run
from hpsearch.store import RunStore
from hpsearch.trial import TrialSpec

from ..conftest import DATA
from .contract import EvaluatorContract, started

TIMED_PROBLEM = """
from hpsearch import HpProblem
Problem = HpProblem(objective="objective", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.5)
Problem.add_dim("d", (0.0, 100.0), default=1.0)
"""
TIMED_RUN = """
def run(config):
    return {"objective": config["x"], "runtime_s": config["d"]}
"""


class TestSimulatedEvaluator(EvaluatorContract):
    @pytest.fixture
    def make_evaluator(self, tmp_path):
        with started("simulated", tmp_path) as make:
            yield make


@pytest.fixture
def timed(make_problem, tmp_path):
    """make(workers) -> a started simulated evaluator on a problem whose run() says it took config["d"] s."""
    folder = make_problem("timed", TIMED_PROBLEM, TIMED_RUN)
    with started("simulated", tmp_path, folder=folder) as make:
        yield make


def _spec(tid: int, d: float, x: float = 0.5, timeout: float | None = None) -> TrialSpec:
    return TrialSpec(trial_id=tid, config_id=tid, config={"x": x, "d": d}, seed=tid, timeout=timeout)


def test_results_come_in_the_order_three_real_workers_would_deliver_them(timed):
    """Durations 4, 2, 3, 1, 5, 2, 2, 1 on 3 workers, a new trial submitted whenever one finishes (as the
    engine does). By hand: 0, 1, 2 start at 0 on workers 0, 1, 2; 1 ends at 2 and 3 starts on worker 1
    (ends 3); 2 and 3 both end at 3: the lower trial_id first, so 2 (4 starts on worker 2, ends 8) then
    3 (5 starts on worker 1, ends 5); 0 ends at 4 (6 on worker 0, ends 6); 5 ends at 5 (7 on worker 1,
    ends 6); 6 and 7 end at 6; 4 ends last, at 8."""
    durations = [4, 2, 3, 1, 5, 2, 2, 1]
    ev = timed(workers=3)
    queue = list(enumerate(durations))
    for _ in range(3):
        ev.submit(_spec(*queue.pop(0)))
    got = []
    while ev.in_flight():
        (r,) = ev.wait()
        got.append((r.trial_id, r.worker, r.virtual_start, r.virtual_end))
        if queue:
            ev.submit(_spec(*queue.pop(0)))
    assert got == [
        (1, "sim-1", 0, 2), (2, "sim-2", 0, 3), (3, "sim-1", 2, 3), (0, "sim-0", 0, 4),
        (5, "sim-1", 3, 5), (6, "sim-0", 4, 6), (7, "sim-1", 5, 6), (4, "sim-2", 3, 8),
    ]
    assert ev.now == 8


def test_a_trial_submitted_while_every_worker_is_busy_starts_when_the_first_frees(timed):
    ev = timed(workers=2)
    for tid, d in enumerate([5, 3, 1, 1]):
        ev.submit(_spec(tid, d))
    got = []
    while ev.in_flight():
        got += [(r.trial_id, r.worker, r.virtual_start, r.virtual_end) for r in ev.wait()]
    # 2 waits for worker 1 (free at 3), 3 then for worker 1 again (free at 4)
    assert got == [(1, "sim-1", 0, 3), (2, "sim-1", 3, 4), (0, "sim-0", 0, 5), (3, "sim-1", 4, 5)]


def test_a_bad_duration_fails_the_trial_and_a_long_one_times_out_in_virtual_time(timed):
    ev = timed(workers=2)
    ev.submit(_spec(0, -1.0))
    ev.submit(_spec(1, 50.0, timeout=10.0))
    got = {r.trial_id: r for r in ev.wait() + ev.wait()}
    assert got[0].status == "failed" and "'runtime_s'" in got[0].error and "-1.0" in got[0].error
    assert got[1].status == "timeout" and got[1].virtual_end == 10.0 and "virtual time" in got[1].error


def test_the_problem_s_runtime_model_charges_only_the_budget_past_the_checkpoint(make_problem, tmp_path):
    folder = make_problem("modelled", """
        from hpsearch import HpProblem
        from hpsearch.problem.runtime import RuntimeModel
        Problem = HpProblem(objective="objective", direction="minimize",
                            cost=RuntimeModel(seconds_per_unit=2.0, jitter=0.0, overhead_s=1.0))
        Problem.add_dim("x", (0.0, 1.0), default=0.5)
        Problem.add_dim("epochs", (1, 27), resource=True)
        """, "def run(config, trial):\n    return config['x']\n")
    with started("simulated", tmp_path, folder=folder) as make:
        ev = make(workers=1)
        ev.submit(TrialSpec(0, 0, {"x": 0.1, "epochs": 9}, budget=9, previous_budget=3, seed=1))
        ev.submit(TrialSpec(1, 1, {"x": 0.2, "epochs": 3}, budget=3, previous_budget=0, seed=2))
        got = ev.wait() + ev.wait()
    assert [(r.trial_id, r.virtual_start, r.virtual_end) for r in got] == [(0, 0, 13), (1, 13, 20)]


def test_no_machine_bound_applies_to_virtual_workers(tmp_path):
    out = start_run(RunConfig(problem="mfbranin", algo="asha", evaluator="simulated", workers=5000,
                              max_evals=40, seed=0, run_dir=str(tmp_path / "r")))
    out.store.close()
    assert out.summary.workers == 40 and out.summary.n_done == 40  # capped by --max-evals only


RESUMABLE_PROBLEM = """
from hpsearch import HpProblem
from hpsearch.problem.runtime import RuntimeModel
Problem = HpProblem(objective="objective", direction="minimize", cost=RuntimeModel(jitter=0.5))
Problem.add_dim("x", (0.0, 1.0), default=0.5)
Problem.add_dim("epochs", (1, 27), default=9, resource=True)
"""
RESUMABLE_RUN = """
from pathlib import Path

FLAG = Path(__file__).parent / "interrupt-at-trial"


def run(config, trial):
    if FLAG.exists() and int(FLAG.read_text()) == trial.id:
        FLAG.unlink()  # once: the resumed run goes on
        raise KeyboardInterrupt  # as Ctrl-C in the middle of the trial
    return (config["x"] - 0.3) ** 2 + 1.0 / trial.budget
"""
#: what an evaluation is, where and when (virtual time) it ran
SCHEDULE = ("SELECT t.trial_id, config_id, rung, budget, previous_budget, params, objective, status, worker,"
            " virtual_start, virtual_end FROM trials t LEFT JOIN virtual_times v USING (trial_id)"
            " ORDER BY t.trial_id")


def _schedule(run_dir) -> list[tuple]:
    con = sqlite3.connect(f"file:{run_dir / 'results.db'}?mode=ro", uri=True)
    try:
        return con.execute(SCHEDULE).fetchall()
    finally:
        con.close()


def test_an_interrupted_and_resumed_run_equals_an_uninterrupted_one_virtual_times_included(
        make_problem, tmp_path):
    folder = make_problem("resumable", RESUMABLE_PROBLEM, RESUMABLE_RUN)
    common = dict(problem=str(folder), algo="asha", evaluator="simulated", workers=4, seed=7, max_evals=60,
                  algo_options={"max_resource": 27})
    full = start_run(RunConfig(**common, run_dir=str(tmp_path / "full")))
    full.store.close()

    (folder / "interrupt-at-trial").write_text("23")
    part = start_run(RunConfig(**common, run_dir=str(tmp_path / "part")))
    part.store.close()
    assert part.summary.stopped_by == "signal"
    with RunStore.open(tmp_path / "part", readonly=True) as store:
        cut = [t for t in store.trials() if t.status == "interrupted"]
    assert len(cut) == 4, "every virtual worker had a trial in flight when the run was interrupted"
    resumed = resume_run(tmp_path / "part")
    resumed.store.close()

    want = _schedule(tmp_path / "full")
    assert len(want) > 30 and all(row[-1] is not None for row in want)
    assert _schedule(tmp_path / "part") == want
    with RunStore.open(tmp_path / "full", readonly=True) as store:
        ends = [t.virtual_end for t in store.trials(order="tell_seq")]
    assert ends == sorted(ends), "results are stored in virtual-time order"


@pytest.mark.parametrize("name", ["branin-random", "hartmann6lc-hyperband"])
def test_a_store_made_before_virtual_times_reads_none_for_them(name):
    with RunStore.open(DATA / "runs" / name, readonly=True) as store:
        trials = store.trials()
    assert trials and all(t.virtual_start is None and t.virtual_end is None for t in trials)


def test_make_evaluator_knows_simulated(tmp_path):
    ev = make_evaluator("simulated", DATA / "problems" / "toy", workers=256)
    assert ev.capacity == 256 and ev.name == "simulated"
