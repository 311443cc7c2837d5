"""bohb's schedule: synchronous Hyperband below ``ASYNC_FROM`` workers, ASHA's asynchronous promotions with
the same model from there on; the run stores its choice, so a resume replays it whatever its workers."""
from __future__ import annotations

import sqlite3

import pytest

from hpsearch.run.compare import CompareConfig, run_comparison
from hpsearch.run.runner import RunConfig, resume_run, start_run
from hpsearch.search import OptionError
from hpsearch.search.presets import ASYNC_FROM, choose_schedule
from hpsearch.store import RunStore

HYPERBAND_ENDED = "the search is complete: hyperband's --iterations (1) pass is done"
ASHA_ENDED = "the search is complete: asha's --max-configs (9) configurations were all evaluated"


def _bohb(tmp_path, workers: int, **options):
    out = start_run(RunConfig(problem="mfbranin", algo="bohb", evaluator="simulated", workers=workers, seed=3,
                              algo_options={"max_resource": 9, **options}, run_dir=str(tmp_path / f"w{workers}")))
    out.store.close()
    return out


def test_the_preset_chooses_sync_below_the_threshold_and_async_from_it():
    assert choose_schedule("bohb", None, {}, ASYNC_FROM - 1) == {"schedule": "sync"}
    assert choose_schedule("bohb", None, {"schedule": "auto"}, ASYNC_FROM) == {"schedule": "async"}
    assert choose_schedule("bohb", "kde", {"eta": 2}, 10 * ASYNC_FROM) == {"eta": 2, "schedule": "async"}
    assert choose_schedule("bohb", None, {"schedule": "sync"}, 10 * ASYNC_FROM) == {"schedule": "sync"}
    assert choose_schedule("bohb", None, {"schedule": "async"}, 1) == {"schedule": "async"}


def test_a_preset_with_one_schedule_refuses_schedule_in_one_line():
    with pytest.raises(OptionError, match=r"^--schedule: does not apply to --algo asha \(it has one schedule, "
                                          r"scheduler asha\)$"):
        choose_schedule("asha", None, {"schedule": "async"}, 64)
    with pytest.raises(OptionError, match=r"^--schedule: expected one of auto, sync, async, got 'fast'$"):
        choose_schedule("bohb", None, {"schedule": "fast"}, 64)


@pytest.mark.parametrize("workers, schedule, ended", [(ASYNC_FROM - 1, "sync", HYPERBAND_ENDED),
                                                      (ASYNC_FROM, "async", ASHA_ENDED)])
def test_a_bohb_run_runs_and_stores_the_schedule_chosen_for_its_workers(tmp_path, workers, schedule, ended):
    out = _bohb(tmp_path, workers)
    assert out.summary.ended == ended
    assert out.store.settings["algo_options"] == {"max_resource": 9, "schedule": schedule, "fidelities": "all"}


def test_an_explicit_schedule_wins_over_the_workers(tmp_path):
    assert _bohb(tmp_path, 1, schedule="async").summary.ended == ASHA_ENDED
    assert _bohb(tmp_path, ASYNC_FROM, schedule="sync").summary.ended == HYPERBAND_ENDED


RESUMABLE_PROBLEM = """
from hpsearch import HpProblem
from hpsearch.problem.runtime import RuntimeModel
Problem = HpProblem(objective="objective", direction="minimize", cost=RuntimeModel(jitter=0.5))
Problem.add_dim("x", (0.0, 1.0), default=0.5)
Problem.add_dim("y", (0.0, 1.0), default=0.5)
Problem.add_dim("epochs", (1, 27), default=9, resource=True)
"""
RESUMABLE_RUN = """
from pathlib import Path

FLAG = Path(__file__).parent / "interrupt-at-trial"


def run(config, trial):
    if FLAG.exists() and int(FLAG.read_text()) == trial.id:
        FLAG.unlink()  # once: the resumed run goes on
        raise KeyboardInterrupt  # as Ctrl-C in the middle of the trial
    return (config["x"] - 0.3) ** 2 + (config["y"] - 0.6) ** 2 + 1.0 / trial.budget
"""
ROWS = ("SELECT t.trial_id, config_id, rung, bracket, budget, params, objective, status, worker, virtual_start,"
        " virtual_end FROM trials t LEFT JOIN virtual_times v USING (trial_id) ORDER BY t.trial_id")


def _rows(run_dir) -> list[tuple]:
    con = sqlite3.connect(f"file:{run_dir / 'results.db'}?mode=ro", uri=True)
    try:
        return con.execute(ROWS).fetchall()
    finally:
        con.close()


def test_an_async_bohb_run_interrupted_and_resumed_with_other_workers_replays_its_schedule(
        make_problem, tmp_path):
    """Stopped by Ctrl-C, resumed once with the same workers (the same run as one never interrupted) and
    once with one worker (still ASHA's promotions: the stored choice, not the new workers, decides)."""
    folder = make_problem("resumable", RESUMABLE_PROBLEM, RESUMABLE_RUN)
    common = dict(problem=str(folder), algo="bohb", evaluator="simulated", workers=ASYNC_FROM, seed=5,
                  algo_options={"max_resource": 27})
    full = start_run(RunConfig(**common, run_dir=str(tmp_path / "full")))
    full.store.close()
    assert full.summary.ended.startswith("the search is complete: asha's --max-configs (27)")
    want = _rows(tmp_path / "full")
    assert len(want) > 30 and {row[3] for row in want} == {0}  # ASHA: one bracket
    for name, workers in (("same", None), ("one", 1)):
        (folder / "interrupt-at-trial").write_text("20")
        part = start_run(RunConfig(**common, run_dir=str(tmp_path / name)))
        part.store.close()
        assert part.summary.stopped_by == "signal"
        resumed = resume_run(tmp_path / name, workers=workers)
        resumed.store.close()
        assert resumed.summary.ended == full.summary.ended
        with RunStore.open(tmp_path / name, readonly=True) as store:
            assert store.settings["algo_options"] == {"max_resource": 27, "schedule": "async", "fidelities": "all"}
    assert _rows(tmp_path / "same") == want
    one = _rows(tmp_path / "one")  # the same evaluations up to the cut; after it, one worker's order
    assert [r[:7] for r in one[:20]] == [r[:7] for r in want[:20]] and {r[3] for r in one} == {0}


def test_a_comparison_chooses_each_bohb_run_s_schedule_from_its_workers(tmp_path):
    for workers, schedule in ((ASYNC_FROM - 1, "sync"), (ASYNC_FROM, "async")):
        out = tmp_path / f"w{workers}"
        run_comparison(CompareConfig(problem="mfbranin", algos=["bohb", "asha"], seeds=1, budget=20 * 81,
                                     out=str(out), evaluator="simulated", workers=workers))
        with RunStore.open(out / "bohb-seed0", readonly=True) as store:
            assert store.settings["algo_options"]["schedule"] == schedule
        with RunStore.open(out / "asha-seed0", readonly=True) as store:
            assert "schedule" not in store.settings["algo_options"]
