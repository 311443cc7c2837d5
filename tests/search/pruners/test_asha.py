"""ASHA's stopping rule on hand-computed report sequences: rungs r_min * eta^k below R; a trial reaching
a rung records its loss there and goes on only while it is among the best ceil(n / eta) recorded there."""
from __future__ import annotations

from hpsearch.search.pruners import make_pruner


def asha(problem, **options):
    return make_pruner("asha", problem, {"max_resource": 27, **options})  # rungs 1, 3, 9


def test_the_top_ceil_n_over_eta_go_on_at_each_rung(problem):
    p = asha(problem)
    # rung 1: the recorded losses after each report, and the cut ceil(n / 3)
    assert p.report(0, 1, 0.5) is False  # [0.5]: 0 better, cut 1
    assert p.report(1, 1, 0.7) is True  # [0.5, 0.7]: 1 better, cut 1
    assert p.report(2, 1, 0.4) is False  # [0.4, 0.5, 0.7]: 0 better, cut 1
    assert p.report(3, 1, 0.45) is False  # 4 recorded: 1 better, cut 2
    assert p.report(4, 1, 0.5) is True  # 5 recorded: 2 strictly better (0.4, 0.45), cut 2
    assert p.report(5, 1, 0.41) is False  # 6 recorded: 1 better, cut 2


def test_steps_below_and_between_rungs_are_not_judged(problem):
    p = asha(problem)
    p.report(0, 1, 0.1)
    p.report(0, 3, 0.1)
    assert p.report(0, 5, 100.0) is False  # between rungs 3 and 9: nothing recorded
    assert p.report(1, 0.5, 100.0) is False  # below the first rung
    assert p.report(1, 1, 0.05) is False
    assert p.report(1, 2.5, 100.0) is False  # rung 1 already recorded, rung 3 not reached


def test_the_first_report_past_a_rung_is_recorded_there(problem):
    p = asha(problem)
    p.report(0, 1, 0.1)
    assert p.report(1, 2, 9.0) is True  # never reported at step 1: its step-2 loss is its rung-1 loss


def test_a_trial_is_recorded_once_per_rung(problem):
    p = asha(problem)
    p.report(0, 1, 0.1)
    assert p.report(1, 1, 0.2) is True
    p = asha(problem)
    p.report(0, 1, 0.1)
    p.report(2, 1, 0.05)
    assert p.report(2, 1, 50.0) is False  # its second report at rung 1 is not recorded again


def test_a_report_past_several_rungs_records_each_and_stops_at_the_first_failed(problem):
    p = asha(problem)
    p.report(0, 1, 0.5)
    p.report(0, 3, 0.1)
    assert p.report(1, 9, 0.3) is True  # rung 1: best (0.3 < 0.5); rung 3: [0.1, 0.3], 1 better, cut 1
    assert p.report(2, 9, 0.05) is False  # rungs 1, 3 and 9: the best at each
    assert p.report(3, 27, 0.01) is False  # R is no rung: nothing left to judge it for


def test_the_rung_level_itself_counts(problem):
    p = asha(problem, min_resource=2)  # rungs 2, 6, 18
    p.report(0, 2, 0.1)
    assert p.report(1, 1.999, 5.0) is False
    assert p.report(1, 2, 5.0) is True


def test_eta_sets_the_cut(problem):
    p = asha(problem, eta=2, max_resource=8)  # rungs 1, 2, 4; cut ceil(n / 2)
    assert p.report(0, 1, 0.5) is False
    assert p.report(1, 1, 0.7) is True  # 2 recorded: 1 better, cut 1
    assert p.report(2, 1, 0.6) is False  # 3 recorded: 1 better, cut 2 (with eta 3 the cut would be 1)
    assert p.report(0, 2, 0.4) is False
    assert p.report(2, 2, 0.45) is True  # rung 2: [0.4, 0.45], 1 better, cut 1


def test_a_step_short_of_a_rung_by_rounding_counts_as_reaching_it(problem):
    # the tolerance is 1e-9: a step computed in floating point may land a hair below the rung's level
    p = asha(problem)  # rungs 1, 3, 9
    p.report(0, 1, 0.1)
    p.report(0, 3, 0.1)
    p.report(1, 1, 0.05)
    assert p.report(1, 3 - 1e-9, 5.0) is True  # recorded at rung 3 behind 0.1: stopped
    p.report(2, 1, 0.01)
    assert p.report(2, 3 - 2e-9, 5.0) is False  # further below: rung 3 not reached, not judged
