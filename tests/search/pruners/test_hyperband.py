"""The Hyperband pruner on hand-computed sequences: trials are dealt to brackets in Hyperband's
proportions (smooth weighted round-robin by trial id), and each bracket applies ASHA's rule at its own
rungs, among its own trials only; the last bracket never stops a trial."""
from __future__ import annotations

from collections import Counter

import pytest

from hpsearch.search.pruners import PrunerOptionError, make_pruner


def hyperband(problem, **options):
    # R = 27, r_min = 1, eta = 3: brackets s = 3, 2, 1, 0 start 27, 12, 6, 4 configurations;
    # pruner bracket b judges at rungs [1, 3, 9][b:] (bracket 3 has none)
    return make_pruner("hyperband", problem, {"max_resource": 27, **options})


def test_trials_are_dealt_in_hyperbands_proportions(problem):
    p = hyperband(problem)
    # smooth weighted round-robin over weights 27, 12, 6, 4 (worked by hand for the first six)
    assert [p.bracket_of(t) for t in range(6)] == [0, 1, 0, 2, 0, 3]
    assert Counter(p.bracket_of(t) for t in range(49)) == {0: 27, 1: 12, 2: 6, 3: 4}
    assert [p.bracket_of(t + 49) for t in range(49)] == [p.bracket_of(t) for t in range(49)]


def test_each_bracket_judges_at_its_own_rungs(problem):
    p = hyperband(problem)
    # trials 0, 2 in bracket 0 (rungs 1, 3, 9): the second worse one stops at step 1
    assert p.report(0, 1, 0.5) is False
    assert p.report(2, 1, 0.9) is True
    # trial 1 in bracket 1 (rungs 3, 9): step 1 is no rung there, whatever its loss
    assert p.report(1, 1, 99.0) is False
    assert p.report(1, 3, 99.0) is False  # the first at rung 3 of bracket 1
    # trial 3 in bracket 2 (rung 9 only)
    assert p.report(3, 3, 99.0) is False and p.report(3, 9, 99.0) is False


def test_brackets_do_not_compare_across(problem):
    p = hyperband(problem)
    p.report(0, 3, 0.1)  # bracket 0 records 0.1 at rungs 1 and 3
    assert p.report(1, 3, 5.0) is False  # bracket 1's first at rung 3: not compared with trial 0
    assert p.report(7, 3, 6.0) is True  # trial 7 is in bracket 1 too: [5.0, 6.0], 1 better, cut 1


def test_the_last_bracket_never_stops_a_trial(problem):
    p = hyperband(problem)
    last = [t for t in range(49) if p.bracket_of(t) == 3]
    assert last == [5, 16, 32, 41]
    p.report(5, 26, 0.0)
    for step in range(1, 27):
        assert p.report(16, step, 1000.0 + step) is False


def test_needs_a_maximum_step(problem):
    with pytest.raises(PrunerOptionError) as info:
        make_pruner("hyperband", problem, {})
    assert str(info.value) == ("--pruner hyperband: needs --pruner-max-resource (the problem declares no "
                               "resource dimension)")


def test_r_is_no_rung(problem):
    p = hyperband(problem)
    p.report(0, 27, 0.0)  # bracket 0: recorded at rungs 1, 3 and 9
    assert p.report(2, 9, 0.0) is False  # ties at every rung: goes on
    assert p.report(2, 27, 1.0) is False  # worse at R, but R is no rung


def test_ties_in_the_deal_go_to_the_lower_bracket(problem):
    # R = 4, eta = 2: brackets start 4, 3, 3 configurations; credits after the first deal are
    # -6, 3, 3 plus the weights: brackets 1 and 2 tie, and the lower one is dealt first
    p = hyperband(problem, max_resource=4, eta=2)
    assert [p.bracket_of(t) for t in range(5)] == [0, 1, 2, 0, 1]


def test_a_real_valued_maximum_works(problem):
    p = hyperband(problem, max_resource=2.5, min_resource=0.1)  # rungs 0.1, 0.3, 0.9 (2.7 > R)
    assert Counter(p.bracket_of(t) for t in range(9 + 5 + 3)) == {0: 9, 1: 5, 2: 3}
    p.report(0, 0.9, 0.0)
    assert p.report(2, 0.3 * 3, 1.0) is True  # 0.8999999999999999 is rung 0.9 (no float slack lost)
