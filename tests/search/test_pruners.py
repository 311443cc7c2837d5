"""The rung-based pruners use Hyperband's exact schedule: brackets, rungs and bracket sizes."""
from collections import Counter

from hpsearch import HpProblem
from hpsearch.search.brackets import plan
from hpsearch.search.pruners import make_pruner
from hpsearch.search.pruners.base import rungs


def problem(resource):
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim(*resource, resource=True)
    return p


def dealt(pruner, n):
    return Counter(pruner.bracket_of(t) for t in range(n))


def test_hyperband_pruner_deals_trials_as_hyperband_starts_them_at_an_exact_power():
    # R = 3**10 steps: bracket s of Hyperband starts ceil(11 / (s + 1) * 3**s) configurations,
    # e.g. exactly 8019 for s = 8 (a float product says 8020)
    R = 3**10
    pruner = make_pruner("hyperband", problem(("steps", (1, R), 1)), {"eta": 3})
    starts = [b.rungs[0].n for b in plan(R, 3)]  # s = s_max .. 0: the pruner's brackets 0 .. s_max
    assert starts[2] == 8019
    assert dealt(pruner, sum(starts)) == dict(enumerate(starts))


def test_hyperband_pruner_just_above_r_over_a_power_has_no_extra_bracket():
    # r_min a hair above 1/243: 243 r_min > R = 1, so there are 5 brackets (s_max = 4), not 6
    r_min = 0.004115226337449
    pruner = make_pruner("hyperband", problem(("fraction", (0.001, 1.0), 1.0)), {"min_resource": r_min})
    starts = [b.rungs[0].n for b in plan(1.0, 3, r_min, integer=False)]
    assert len(starts) == 5
    assert dealt(pruner, sum(starts)) == dict(enumerate(starts))


def test_pruner_rungs_are_r_min_times_powers_of_eta_below_r():
    assert rungs(1, 81, 3) == [1, 3, 9, 27]  # a trial that reached R has nothing left to be judged for
    assert rungs(1, 100, 3) == [1, 3, 9, 27, 81]
    assert rungs(0.1, 1.0, 3) == [0.1, 0.3, 0.9]  # exact levels, not 0.1 * 3 = 0.30000000000000004
    assert len(rungs(2, None, 3)) == 64
