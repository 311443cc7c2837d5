"""The median stopping rule on hand-computed report sequences: a trial stops at step s when its best loss
so far is worse than the median of the other trials' running averages at s (those that reached s),
never before the grace period nor before ``min_trials`` others reached s."""
from __future__ import annotations

import pytest

from hpsearch.search.pruners import PrunerOptionError, make_pruner


def median(problem, **options):
    return make_pruner("median", problem, options)


def test_defaults_grace_period_1_and_three_other_trials(problem):
    p = median(problem)
    assert p.options == {"grace_period": 1, "min_trials": 3}
    for tid in range(3):
        assert p.report(tid, 1, 1.0) is False  # 0, 1, then 2 others: too few to judge
    assert p.report(3, 1, 1.5) is True  # three others at step 1, median 1.0 < 1.5


def test_nothing_stops_before_the_grace_period(problem):
    p = median(problem, grace_period=3, min_trials=1)
    for step in (1, 2, 3):
        assert p.report(0, step, 1.0) is False
    assert p.report(1, 1, 9.0) is False  # far worse, but step 1 < 3
    assert p.report(1, 2.999, 9.0) is False
    assert p.report(1, 3, 9.0) is True  # at the grace period itself it is judged


def test_a_step_is_judged_once_min_trials_others_reached_it(problem):
    p = median(problem, min_trials=2)
    assert p.report(0, 1, 1.0) is False
    assert p.report(1, 1, 5.0) is False  # one other: fewer than 2
    assert p.report(2, 1, 9.0) is True  # exactly 2 others: median(1, 5) = 3 < 9


def test_a_tie_with_the_median_goes_on(problem):
    p = median(problem, min_trials=1)
    assert p.report(0, 1, 2.0) is False
    assert p.report(1, 1, 2.0) is False  # 2.0 is not worse than 2.0
    assert p.report(2, 1, 2.0000001) is True


def test_the_median_is_of_running_averages_of_trials_that_reached_the_step(problem):
    p = median(problem, min_trials=1)
    for step, loss in ((1, 3.0), (2, 2.0), (3, 1.0)):  # running averages 3, 2.5, 2
        assert p.report(0, step, loss) is False
    for step in (1, 2):  # reached step 2 only: not among the others at step 3
        p.report(1, step, 10.0)
    assert p.report(2, 3, 1.5) is False  # 1.5 < trial 0's average 2.0 (its last loss, 1.0, is lower)
    assert p.report(3, 3, 2.5) is True  # 2.5 > 2.0 (were trial 1 counted: median(2, 10) = 6)


def test_a_trial_that_did_not_reach_the_step_is_not_among_the_others(problem):
    p = median(problem, min_trials=1)
    for step in (1, 2, 3):
        p.report(0, step, 2.0)  # running average 2.0 at step 3
    for step in (1, 2):
        p.report(1, step, 0.0)  # stopped reporting at step 2
    assert p.report(2, 3, 1.5) is False  # 1.5 < 2.0 (counting trial 1: median(2, 0) = 1 < 1.5)


def test_a_trial_is_judged_by_its_best_loss_not_its_last(problem):
    p = median(problem, min_trials=1)
    p.report(0, 1, 1.0)
    p.report(0, 2, 1.0)
    assert p.report(1, 1, 0.5) is False
    assert p.report(1, 2, 3.0) is False  # best 0.5 <= 1.0
    assert p.report(1, 3, 3.0) is False  # nobody else reached step 3


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(problem):
    p = median(problem, min_trials=4)
    for tid, loss in enumerate((1.0, 2.0, 4.0, 8.0)):
        p.report(tid, 1, loss)
    assert p.report(4, 1, 3.0) is False  # median(1, 2, 4, 8) = 3
    p = median(problem, min_trials=4)
    for tid, loss in enumerate((1.0, 2.0, 4.0, 8.0)):
        p.report(tid, 1, loss)
    assert p.report(4, 1, 3.01) is True


def test_a_restarted_curve_keeps_its_first_pass(problem):
    p = median(problem, min_trials=1)
    p.report(0, 1, 1.0)
    p.report(0, 2, 1.0)
    p.report(0, 1, 50.0)  # steps went back (a restarted trial): ignored
    assert p.report(1, 2, 1.5) is True  # trial 0's average at step 2 is still 1.0
    p = median(problem, min_trials=1)
    p.report(0, 1, 1.0)
    p.report(0, 1, 0.1)  # the same step again is a new report
    assert p.report(1, 1, 0.6) is True  # trial 0's average at step 1: (1.0 + 0.1) / 2 = 0.55


def test_tell_changes_nothing(problem):
    p = median(problem, min_trials=1)
    p.report(0, 1, 1.0)
    p.tell(0, "done", 1.0, 1)
    assert p.report(1, 1, 2.0) is True


@pytest.mark.parametrize("options, message", [
    ({"grace_period": 0}, "--pruner-grace-period must be > 0, got 0"),
    ({"min_trials": 0}, "--pruner-min-trials must be an integer >= 1, got 0"),
])
def test_bad_options_are_one_line_errors(problem, options, message):
    with pytest.raises(PrunerOptionError, match=message):
        median(problem, **options)


def test_a_trial_that_started_past_the_step_is_not_among_the_others_there(problem):
    p = median(problem, min_trials=1)
    p.report(0, 5, 9.0)  # its first report is at step 5: no running average at step 2
    assert p.report(1, 2, 1.0) is False  # nobody to compare with at step 2
    p.report(2, 1, 0.5)
    p.report(2, 2, 0.5)
    assert p.report(3, 2, 1.0) is True  # compared with trial 2 only
