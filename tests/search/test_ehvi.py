"""Expected hypervolume improvement: the boxes of the improvable region, the exact expectation, and the
``bayesian`` searcher proposing by it on a multi-objective problem."""
from __future__ import annotations

import math

import moocore
import numpy as np
import pytest

from hpsearch import HpProblem
from hpsearch.search.searchers.bayesian import BayesianSearcher
from hpsearch.search.searchers.ehvi import ehvi, hopeless, hvi, improvement_boxes, reference_for

FRONT = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
REF = np.array([4.0, 4.0])


def test_improvement_of_a_point_on_a_hand_computed_2d_front():
    # (1.5, 1.5) adds [1.5, 2) x [1.5, 3) = 0.75 and [2, 3) x [1.5, 2) = 0.5; a front point adds nothing;
    # (0, 0) adds the whole 4 x 4 box but the front's 6.
    lower, upper = improvement_boxes(FRONT, REF)
    assert hvi(np.array([[1.5, 1.5], [2.0, 2.0], [0.0, 0.0], [5.0, 0.0]]), lower, upper).tolist() == \
        [1.25, 0.0, 10.0, 0.0]


def test_expectation_of_a_standard_normal_against_an_empty_front_is_phi0_squared():
    # E[max(0, -Y1)] E[max(0, -Y2)] with Y ~ N(0, 1) each: (1 / sqrt(2 pi))^2
    lower, upper = improvement_boxes(np.empty((0, 2)), np.zeros(2))
    assert ehvi(np.zeros((1, 2)), np.ones((1, 2)), lower, upper)[0] == pytest.approx(1 / (2 * math.pi))


def test_a_certain_prediction_scores_its_improvement_and_uncertain_ones_their_sampled_mean():
    lower, upper = improvement_boxes(FRONT, REF)
    assert ehvi(np.array([[1.5, 1.5]]), np.full((1, 2), 1e-12), lower, upper)[0] == pytest.approx(1.25)
    mu, sd = np.array([[1.5, 2.5], [3.5, 0.5]]), np.array([[0.3, 0.8], [0.2, 0.4]])
    draws = np.random.default_rng(0).normal(size=(200_000, 2))
    sampled = [hvi(mu[i] + sd[i] * draws, lower, upper).mean() for i in range(2)]
    assert ehvi(mu, sd, lower, upper) == pytest.approx(sampled, rel=0.02)


@pytest.mark.parametrize("m", [2, 3])
def test_boxes_give_moocores_improvement_with_ties_duplicates_and_points_beyond_the_reference(m):
    rng = np.random.default_rng(m)
    front = rng.random((25, m))
    front = np.vstack([front, front[:4], np.round(front[4:12] * 4) / 4, np.full((2, m), 1.5)])
    ref = np.full(m, 1.1)
    lower, upper = improvement_boxes(front, ref)
    points = rng.random((40, m)) * 1.2
    inside = front[np.all(front < ref, axis=1)]
    base = moocore.hypervolume(inside, ref=ref)
    expected = [moocore.hypervolume(np.vstack([inside, p]), ref=ref) - base for p in points]
    assert hvi(points, lower, upper) == pytest.approx(expected, abs=1e-12)


def test_a_prediction_dominated_even_at_its_optimistic_corner_is_skipped_and_would_score_next_to_nothing():
    lower, upper = improvement_boxes(FRONT, REF)
    mu, sd = np.array([[2.5, 2.5], [2.5, 2.5]]), np.array([[0.1, 0.1], [0.2, 0.2]])
    assert hopeless(mu, sd, FRONT).tolist() == [True, False]  # 2.5 - 4 * 0.1 >= 2; 2.5 - 0.8 < 2
    assert ehvi(mu[:1], sd[:1], lower, upper)[0] < 1e-6 < ehvi(mu[1:], sd[1:], lower, upper)[0]


def test_four_objectives_are_refused():
    with pytest.raises(ValueError, match="2 to 3 objectives, got 4"):
        improvement_boxes(np.ones((1, 4)), np.full(4, 2.0))


def test_reference_is_the_declared_point_once_a_loss_lies_inside_it():
    losses = np.array([[0.0, 3.0], [2.0, 0.5]])
    assert reference_for(losses, (1.0, 1.0)).tolist() == pytest.approx([2.2, 3.25])  # none inside
    assert reference_for(losses, (2.5, 1.0)).tolist() == [2.5, 1.0]


def line_problem() -> HpProblem:
    p = HpProblem(objectives={"f1": "minimize", "f2": "minimize"}, reference_point={"f1": 1.0, "f2": 1.0})
    p.add_dim("x", (0.0, 1.0), default=0.0)
    return p


def test_bayesian_aims_at_the_largest_gap_of_the_front():
    # f = (x, 1 - x): every point is on the front; the largest gap, between x = 0.3 and 1, is where a
    # point adds most hypervolume.
    s = BayesianSearcher(line_problem(), seed=0, initial_points=0)
    assert s.suggest(1) == [{"x": 0.0}]  # the starting point
    for x in (0.0, 0.1, 0.2, 0.3, 1.0):
        s.observe({"x": x}, None, (x, 1.0 - x))
    x = s.suggest(1)[0]["x"]
    assert 0.45 < x < 0.85


def test_parego_stays_available_and_both_are_seeded():
    def run(acq: str, seed: int) -> list[float]:
        s = BayesianSearcher(line_problem(), seed=seed, initial_points=2, mo_acquisition=acq)
        out = []
        for _ in range(8):
            c = s.suggest(1)[0]
            s.observe(c, None, (c["x"], (1.0 - c["x"]) ** 2))
            out.append(c["x"])
        return out

    for acq in ("ehvi", "parego"):
        assert run(acq, 3) == run(acq, 3)
    assert run("ehvi", 3) != run("parego", 3)
