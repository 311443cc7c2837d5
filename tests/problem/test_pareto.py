"""The front's maths on hand-made sets: ties, duplicates, the ranking everyone uses, hypervolume."""
import numpy as np
import pytest

from hpsearch.problem import pareto

# a hand-made set: a front of three, one copy of a front point, a weak tie (same first loss,
# worse second) and two dominated points
SET = [(1.0, 5.0), (2.0, 3.0), (4.0, 1.0), (2.0, 3.0), (1.0, 6.0), (3.0, 4.0), (5.0, 5.0)]


def test_the_front_keeps_every_copy_and_drops_a_weak_tie():
    assert pareto.pareto_mask(SET).tolist() == [True, True, True, True, False, False, False]


def test_ranks_by_non_dominated_sorting():
    assert pareto.pareto_rank(SET).tolist() == [0, 0, 0, 0, 1, 1, 2]


def test_order_is_rank_then_spread_then_index():
    # front: boundary points (1,5) and (4,1) first, then the middle one and its copy by index
    assert pareto.order(SET) == [0, 2, 1, 3, 4, 5, 6]
    assert pareto.order([2.0, 1.0, 1.0]) == [1, 2, 0]


def test_hypervolume_against_a_reference_and_its_curve():
    ref = (6.0, 7.0)
    # the front (1,5), (2,3), (4,1) against (6,7): 5*2 + 4*2 + 2*2... computed by strips
    expected = (2 - 1) * (7 - 5) + (4 - 2) * (7 - 3) + (6 - 4) * (7 - 1)
    assert pareto.hypervolume(SET, ref) == pytest.approx(expected)
    curve = pareto.hypervolume_curve(SET, ref)
    assert curve[-1] == pytest.approx(expected) and curve == sorted(curve)
    assert pareto.hypervolume(SET, pareto.reference_point(SET)) > 0


def test_the_default_reference_point_counts_nadir_points():
    nadir_only = [(0.0, 1.0), (1.0, 0.0)]
    ref = pareto.reference_point(nadir_only)
    assert np.all(np.asarray(ref) > 1.0)
    assert pareto.hypervolume(nadir_only, ref) > 0
