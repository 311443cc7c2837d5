"""The history's rules on hand-made evaluations: the incumbent in each direction (ties keep the earlier),
what each point records, the seconds and counts, regret, the best-so-far curve and the ranking of a
multi-fidelity run (each configuration once, at its highest rung)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from hpsearch.store import RunHistory, RunStore, Tally


def t(tid, status="done", objective=None, budget=None, duration=1.0, error=None, used=0.0, config=None,
      rung=None):
    return SimpleNamespace(trial_id=tid, status=status, objective=objective, budget=budget, duration_s=duration,
                           error=error, resource_used=used, config_id=tid if config is None else config,
                           rung=rung)


TRIALS = [t(0, objective=1.0), t(1, objective=3.0), t(2, "failed", error="boom"), t(3, objective=2.0),
          t(4, "stopped", objective=0.5), t(5, "running"), t(6, "running"), t(7, "interrupted")]


@pytest.mark.parametrize("direction, best, ranked", [("maximize", 1, [1, 3, 0]), ("minimize", 0, [0, 3, 1])])
def test_the_incumbent_and_the_ranking_follow_the_direction(direction, best, ranked):
    h = RunHistory.from_trials(TRIALS, direction)
    assert h.incumbent.trial_id == best and h.direction == direction
    assert [x.trial_id for x in h.ranked()] == ranked
    tally = Tally(direction)
    for x in TRIALS[:5]:
        tally.add(x)
    assert tally.incumbent.trial_id == best


def test_maximize_and_not_multi_fidelity_are_the_defaults():
    tally = Tally()
    tally.add(t(0, objective=1.0, budget=9))
    tally.add(t(1, objective=2.0, budget=1))  # larger, and a smaller budget does not matter
    assert tally.incumbent.trial_id == 1
    assert RunHistory.from_trials(TRIALS).incumbent.trial_id == 1
    assert RunHistory.from_trials(TRIALS).multi_fidelity is False


def test_a_tie_keeps_the_earlier_incumbent():
    tally = Tally("minimize")
    assert tally.add(t(0, objective=2.0)) is True
    assert tally.add(t(1, objective=2.0)) is False
    assert tally.add(t(2, "failed")) is False
    assert tally.add(t(3, objective=1.0)) is True
    assert tally.incumbent.trial_id == 3


def test_only_finished_evaluations_are_added():
    with pytest.raises(ValueError, match=r"^Tally.add: trial 5 is running, not finished$"):
        Tally().add(t(5, "running"))


def test_each_point_records_the_evaluation_and_the_incumbent_after_it():
    h = RunHistory.from_trials([t(0, objective=1.0, duration=1.5), t(1, "failed", error="x", duration=None),
                                t(2, "stopped", objective=0.5, duration=2.0), t(3, objective=0.25, duration=0.5)],
                               "minimize")
    assert [tuple(p) for p in h.points] == [
        (0, "done", 1, 0.0, 1.5, 1.0, 1.0, 0),
        (1, "failed", 2, 0.0, 1.5, None, 1.0, 0),  # no duration: nothing added
        (2, "stopped", 3, 0.0, 3.5, None, 1.0, 0),  # a stopped trial's objective is no result
        (3, "done", 4, 0.0, 4.0, 0.25, 0.25, 3),
    ]
    assert Tally().seconds == 0.0


def test_counts_have_every_status_and_the_unfinished_ones_too():
    h = RunHistory.from_trials(TRIALS, "maximize")
    assert dict(h.counts) == {"done": 3, "failed": 1, "timeout": 0, "stopped": 1, "running": 2,
                              "interrupted": 1}
    assert h.present_counts() == {"done": 3, "failed": 1, "stopped": 1, "running": 2, "interrupted": 1}
    assert h.first_error == "trial 2: boom" and h.n_finished == 5


def test_regret_is_in_the_losses_sign():
    assert RunHistory.from_trials([], "minimize", optimum=0.5).regret(0.8) == pytest.approx(0.3)
    assert RunHistory.from_trials([], "maximize", optimum=3.32).regret(3.0) == pytest.approx(0.32)
    with pytest.raises(ValueError, match=r"^regret needs the problem's optimum, and this run has none$"):
        RunHistory.from_trials([], "minimize").regret(1.0)


def test_best_so_far_has_a_dot_per_success_and_the_curve_from_the_first_success():
    h = RunHistory.from_trials([t(0, "failed", used=2.0, duration=2.0), t(1, objective=3.0, used=1.0),
                                t(2, objective=1.0, used=3.0), t(3, objective=2.0, used=1.0)], "minimize")
    assert h.best_so_far() == ([2.0, 3.0, 4.0], [3.0, 1.0, 1.0], [2.0, 3.0, 4.0], [3.0, 1.0, 2.0])
    budgeted = RunHistory.from_trials([t(0, objective=3.0, budget=1, used=1.0),
                                       t(1, objective=1.0, budget=3, used=2.0)], "minimize")
    assert budgeted.best_so_far(by_resource=True) == ([1.0, 3.0], [3.0, 1.0], [1.0, 3.0], [3.0, 1.0])
    assert h.best_so_far(by_resource=True)[0] == [3.0, 4.0, 5.0]  # no budget: seconds inside evaluations


def test_a_multi_fidelity_ranking_shows_each_configuration_once_at_its_highest_rung():
    trials = [t(0, objective=0.1, budget=1, rung=0, config=0), t(1, objective=0.5, budget=1, rung=0, config=1),
              t(2, objective=0.2, budget=1, rung=0, config=2), t(3, objective=0.9, budget=3, rung=1, config=0),
              t(4, objective=0.4, budget=3, rung=1, config=2)]
    h = RunHistory.from_trials(trials, "minimize", multi_fidelity=True)
    assert [x.trial_id for x in h.ranked()] == [4, 3, 1]  # budget 3 first, then by objective
    assert [x.trial_id for x in h.ranked(all_rungs=True)] == [4, 3, 0, 2, 1]
    assert h.incumbent.trial_id == 4
    flat = RunHistory.from_trials(trials, "minimize")
    assert [x.trial_id for x in flat.ranked()] == [0, 2, 4, 1, 3]  # not multi-fidelity: every evaluation


def test_from_store_reads_the_direction_optimum_and_kind(tmp_path):
    with RunStore.create(tmp_path / "run", {"space": {"direction": "maximize", "optimum": 3.32},
                                            "multi_fidelity": True}, ["x"]) as store:
        h = RunHistory.from_store(store)
    assert (h.direction, h.optimum, h.multi_fidelity) == ("maximize", 3.32, True)
