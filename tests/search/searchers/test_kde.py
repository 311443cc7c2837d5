"""The kde searcher's rules (BOHB's TPE), on hand-computed cases: which observations are "good", the
normal-reference bandwidths and their bounds, the product kernel's density, the candidates drawn from the
good density, and a proposal that follows the good region.

The density pieces are called directly: their rules are what the module promises, and a wrong constant
(a bandwidth exponent, a kernel's weight) still gives valid proposals, only worse ones, which no test of
the proposals alone can see.
"""
import math

import numpy as np
import pytest

from hpsearch import HpProblem
from hpsearch.search.encoding import INACTIVE
from hpsearch.search.searchers.kde import KdeSearcher, _truncated_normal


def xc(**options) -> KdeSearcher:
    """x in [0, 1] and c in {a, b, c}: d = 2, compact columns (x, index of c)."""
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("c", ["a", "b", "c"], default="a")
    return KdeSearcher(p, 0, **options)


def reference_bandwidth(values) -> float:
    v = np.asarray(values, dtype=float)
    return 1.06 * v.std() * len(v) ** (-1 / 5)


# -- the split ---------------------------------------------------------------------------------
def test_the_best_top_fraction_is_good_at_least_d_plus_one_and_failures_rank_last():
    s = xc()
    losses = [0.9, None, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6]
    for i, loss in enumerate(losses):
        s.observe({"x": i / 10, "c": "a"}, None, loss)
    good, bad = s._split(None)
    # 0.15 x 10 = 1.5 -> at least d + 1 = 3 good; the rest (8.5 -> 8 at most) bad, the failure last
    assert good[:, 0].tolist() == [0.2, 0.6, 0.4]
    assert bad[:, 0].tolist() == [0.8, 0.3, 0.9, 0.5, 0.7, 0.0, 0.1]
    half = xc(top_fraction=0.5)
    for i, loss in enumerate(losses):
        half.observe({"x": i / 10, "c": "a"}, None, loss)
    good, bad = half._split(None)
    assert good[:, 0].tolist() == [0.2, 0.6, 0.4, 0.8, 0.3]
    assert bad[:, 0].tolist() == [0.9, 0.5, 0.7, 0.0, 0.1]


def test_with_few_observations_good_and_bad_both_hold_d_plus_one():
    s = xc(top_fraction=0.9)
    for i, loss in enumerate([0.5, 0.4, 0.3, 0.2]):
        s.observe({"x": i / 10, "c": "a"}, None, loss)
    good, bad = s._split(None)
    # 0.9 x 4 = 3.6 -> 3 good (d + 1 at least); 0.1 x 4 -> 0 -> d + 1 = 3 bad at most: the one left
    assert good[:, 0].tolist() == [0.3, 0.2, 0.1]
    assert bad[:, 0].tolist() == [0.0]


def test_several_objectives_split_by_non_dominated_rank():
    p = HpProblem(objectives={"a": "minimize", "b": "minimize"})
    p.add_dim("x", (0.0, 1.0), default=0.5)
    s = KdeSearcher(p, 0, top_fraction=0.5)
    losses = [(3.0, 3.0), (1.0, 2.0), (2.0, 1.0), (4.0, 4.0), (2.5, 2.5), None]
    for i, loss in enumerate(losses):
        s.observe({"x": i / 10}, None, loss)
    good, bad = s._split(None)
    assert sorted(good[:, 0].tolist()) == [0.1, 0.2, 0.4]  # the front, then the next rank
    assert bad[:, 0].tolist()[-1] == 0.5  # the failure ranks last


# -- bandwidths ----------------------------------------------------------------------------------
def test_bandwidths_follow_the_normal_reference_rule_per_column():
    s = xc(min_bandwidth=1e-3)
    data = np.array([[0.1, 0.0], [0.3, 1.0], [0.5, 0.0], [0.9, 1.0]])
    bw = s._bandwidths(data)
    assert bw[0] == pytest.approx(reference_bandwidth([0.1, 0.3, 0.5, 0.9]))
    assert bw[1] == pytest.approx(reference_bandwidth([0, 1, 0, 1]))  # 0.40, below the cap 2/3
    two = s._bandwidths(data[:2])
    assert two[0] == pytest.approx(reference_bandwidth([0.1, 0.3]))


def test_a_categorical_bandwidth_is_at_most_its_uniform_weight_and_every_one_at_least_the_minimum():
    s = xc(min_bandwidth=0.05)
    spread = np.array([[0.1, 0.0], [0.1, 2.0], [0.1, 0.0], [0.1, 2.0]])
    bw = s._bandwidths(spread)
    assert bw.tolist() == pytest.approx([0.05, 2 / 3])  # no spread: the minimum; a wide one: (k-1)/k
    assert xc(min_bandwidth=0.9)._bandwidths(spread).tolist() == pytest.approx([0.9, 0.9])


def test_one_observation_gives_the_widest_bandwidths():
    s = xc()
    assert s._bandwidths(np.array([[0.4, 1.0]])).tolist() == pytest.approx([1.0, 2 / 3])


def test_a_numeric_column_never_gets_more_than_the_unit_interval():
    s = xc()
    data = np.array([[0.0, 0.0], [1.0, 0.0]])
    assert s._bandwidths(data)[0] == pytest.approx(reference_bandwidth([0.0, 1.0]))
    assert s._bandwidths(data)[0] < 1.0


# -- the density ---------------------------------------------------------------------------------
def test_the_density_is_the_mean_of_gaussian_times_aitchison_aitken_kernels():
    s = xc()
    data = np.array([[0.2, 0.0], [0.6, 2.0]])
    bw = np.array([0.1, 0.3])
    X = np.array([[0.3, 0.0], [0.6, 1.0]])

    def kernel(x, row):
        gauss = math.exp(-0.5 * ((x[0] - row[0]) / 0.1) ** 2) / (0.1 * math.sqrt(2 * math.pi))
        cat = 1 - 0.3 if x[1] == row[1] else 0.3 / 2
        return gauss * cat

    expected = [math.log(np.mean([kernel(x, row) for row in data])) for x in X]
    assert s._log_density(X, data, bw) == pytest.approx(expected)


def test_a_categorical_kernel_never_gives_log_zero():
    s = xc()
    data = np.array([[0.5, 1.0]])
    out = s._log_density(np.array([[0.5, 1.0], [0.5, 2.0]]), data, np.array([0.2, 1.0]))
    assert np.isfinite(out).all()
    assert out[0] - out[1] == pytest.approx(math.log(1e-12) - math.log(0.5))


# -- candidates ----------------------------------------------------------------------------------
def test_candidates_come_from_the_good_centres_with_widened_numeric_bandwidths():
    s = xc(bandwidth_factor=3.0)
    good = np.array([[0.5, 1.0]])
    out = s._sample(good, np.array([0.02, 1e-3]), 4000)
    assert out.shape == (4000, 2)
    assert out[:, 0].std() == pytest.approx(0.06, rel=0.1)  # 0.02 x 3
    assert (out[:, 1] == 1.0).mean() > 0.99  # a tiny categorical bandwidth keeps the centre's choice


def test_a_categorical_is_redrawn_uniformly_with_probability_its_bandwidth():
    s = xc()
    out = s._sample(np.array([[0.5, 0.0]]), np.array([0.1, 0.6]), 6000)
    # redrawn with probability 0.6, uniformly among 3: another choice 0.6 x 2/3 of the time
    assert (out[:, 1] != 0.0).mean() == pytest.approx(0.4, abs=0.03)
    assert set(out[:, 1].tolist()) == {0.0, 1.0, 2.0}


def test_several_objectives_keep_a_uniform_kernel_on_categoricals():
    p = HpProblem(objectives={"a": "minimize", "b": "minimize"})
    p.add_dim("c", ["a", "b", "c"], default="a")
    s = KdeSearcher(p, 0)
    good = np.array([[0.0], [0.0], [0.0]])
    out = s._sample(good, np.array([1e-3]), 6000)
    # at least 1 / (3 good + 1) = 0.25 redrawn: another choice 0.25 x 2/3 of the time
    assert (out[:, 0] != 0.0).mean() == pytest.approx(0.25 * 2 / 3, abs=0.03)


def test_candidates_keep_inactive_entries_for_the_encoding_to_restart():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("opt", ["sgd", "adam"], default="sgd")
    p.add_dim("m", (0.0, 1.0), default=0.5, when={"opt": "sgd"})
    s = KdeSearcher(p, 0)
    out = s._sample(np.array([[1.0, INACTIVE]]), np.array([0.3, 0.2]), 50)
    assert (out[:, 1] == INACTIVE).all()


def test_the_truncated_normal_stays_in_the_unit_interval_with_the_right_centre():
    rng = np.random.default_rng(0)
    mean = np.full(20000, 0.5)
    x = _truncated_normal(mean, np.full(20000, 0.1), rng)
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x.mean() == pytest.approx(0.5, abs=0.005) and x.std() == pytest.approx(0.1, rel=0.05)
    edge = _truncated_normal(np.zeros(20000), np.full(20000, 0.1), rng)
    # a half-normal: mean 0.1 x sqrt(2 / pi)
    assert edge.min() >= 0.0 and edge.mean() == pytest.approx(0.1 * math.sqrt(2 / math.pi), rel=0.05)
    far = _truncated_normal(np.array([5.0]), np.array([1e-3]), rng)  # all mass outside: clipped
    assert 0.0 <= far[0] <= 1.0


# -- proposals -----------------------------------------------------------------------------------
def test_proposals_are_random_until_a_budget_has_d_plus_two_results():
    s = xc()
    assert s.results_needed() == 4
    s._starts = []
    drawn = s.suggest(1)
    for i in range(3):
        s.observe({"x": 0.1 * i, "c": "a"}, None, 0.1 * i)
    same = xc()
    same._starts = []
    assert same.suggest(1) == drawn
    assert s.suggest(1) == same.suggest(1)  # three results: still random, the same draws


def test_the_model_fits_the_largest_budget_with_enough_results():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    s = KdeSearcher(p, 0, multi_fidelity=True, random_fraction=0.0)
    rng = np.random.default_rng(0)
    for budget, centre, n in [(1, 0.1, 12), (3, 0.9, 12), (9, 0.5, 2)]:
        for _ in range(n):
            x = float(rng.random())
            s.observe({"x": x}, budget, abs(x - centre))
    props = [c["x"] for c in s.suggest(8, full_budget=True)]
    assert np.median(np.abs(np.array(props) - 0.9)) < 0.15  # budget 3 (budget 9 has 2 < d + 2 = 3)


def test_a_proposal_follows_the_good_region():
    s = xc(random_fraction=0.0, n_samples=64)
    rng = np.random.default_rng(1)
    for _ in range(30):
        x = float(rng.random())
        c = ["a", "b", "c"][int(rng.integers(3))]
        loss = abs(x - 0.2) + (0.0 if c == "b" else 0.5)
        s.observe({"x": x, "c": c}, None, loss)
    props = s.suggest(10)
    assert sum(p["c"] == "b" for p in props) >= 8
    assert np.median([abs(p["x"] - 0.2) for p in props]) < 0.15


def test_with_d_plus_two_results_the_model_proposes():
    import copy

    s = xc(random_fraction=0.0)
    s._starts = []
    for i, loss in enumerate([0.4, 0.1, 0.3, 0.2]):
        s.observe({"x": 0.2 * i + 0.1, "c": "abc"[i % 3]}, None, loss)
    rng = copy.deepcopy(s.rng)
    assert s.suggest(1)[0] != s.problem.sample(rng)  # 4 = d + 2 results: not a random draw


def test_with_every_dimension_pinned_there_is_nothing_to_model():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    s = KdeSearcher(p.fix({"x": 0.25}), 0)
    assert s.results_needed() is None
    for _ in range(3):
        s.observe({"x": 0.25}, None, 0.5)
    assert s.suggest() == [{"x": 0.25}]


def test_the_model_proposes_neither_pending_nor_asked_configurations():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("k", [1, 2, 3, 4, 5, 6, 7, 8], default=8)
    s = KdeSearcher(p, 0, random_fraction=0.0)
    s._starts = []
    for k in range(1, 9):
        s.observe({"k": k}, None, float(k))  # observed, never asked: the model may propose them
    first, second = s.suggest(2)
    assert first == {"k": 1}  # the best region
    assert second != first  # the first is pending
    s.observe(first, None, 1.0)
    s.observe(second, None, float(second["k"]))
    third = s.suggest(1)[0]
    assert third not in (first, second)  # no longer pending, but asked
    for _ in range(5):
        s.suggest(1)  # every value asked: random draws, never an error


def test_a_full_budget_start_comes_from_the_model_and_a_plain_suggest_is_one_configuration():
    import copy

    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    s = KdeSearcher(p, 0, multi_fidelity=True, random_fraction=1.0)
    s._starts = []
    for i in range(4):
        s.observe({"x": i / 4}, 9, float(i))
    rng = copy.deepcopy(s.rng)
    rng.random()  # the draw deciding random or not
    assert s.suggest(1)[0] == p.sample(rng)  # a random draw (fraction 1)
    rng = copy.deepcopy(s.rng)
    out = s.suggest(1, full_budget=True)
    assert out != [p.sample(rng)] and s.full_budget is True
    assert len(s.suggest()) == 1 and s.full_budget is False


def test_a_warm_start_gives_the_model_its_observations():
    from hpsearch.search.base import Observation

    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    s = KdeSearcher(p, 0, random_fraction=0.0, warm_incumbents=0)
    s._starts = []
    assert s.warm_start([Observation({"x": x}, None, abs(x - 0.2)) for x in np.linspace(0, 1, 11)]) == 11
    props = [c["x"] for c in s.suggest(4)]  # the model at once, near the earlier runs' best
    assert np.median(np.abs(np.array(props) - 0.2)) < 0.15, props


def test_the_ratio_prefers_the_good_points_far_from_the_bad_ones():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    s = KdeSearcher(p, 0, random_fraction=0.0, top_fraction=0.5, n_samples=200)
    s._starts = []
    for x in (0.05, 0.3, 0.7, 0.95):
        s.observe({"x": x}, None, 0.0)
    for x in (0.62, 0.66, 0.7, 0.74, 0.78):
        s.observe({"x": x}, None, 1.0)
    # l(x) / g(x) is largest at good points far from the bad cluster, not at the good point inside it
    props = [c["x"] for c in s.suggest(4)]
    assert all(abs(x - 0.7) > 0.2 for x in props), props


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_prior_pulls_model_proposals_towards_the_defaults(seed):
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("z", (0.0, 1.0), default=0.5)

    def distances(prior):
        s = KdeSearcher(p, seed, random_fraction=0.0, prior=prior)
        s._starts = []
        rng = np.random.default_rng(seed)
        for _ in range(8):  # evidence that agrees with the prior
            x, z = float(rng.random()), float(rng.random())
            s.observe({"x": x, "z": z}, None, math.hypot(x - 0.5, z - 0.5))
        return [math.hypot(c["x"] - 0.5, c["z"] - 0.5) for c in s.suggest(6)]

    assert np.mean(distances("default")) < np.mean(distances("none"))


# -- more: BOHB's sizes, ties, far candidates, budgets, conditional spaces and the prior's draws ----------
def test_the_bad_set_holds_max_d_plus_one_or_the_floor_of_the_rest_as_in_bohb():
    def split(top_fraction, losses):
        s = xc(top_fraction=top_fraction)
        for i, loss in enumerate(losses):
            s.observe({"x": i / 100, "c": "a"}, None, loss)
        return [[round(v * 100) for v in part[:, 0]] for part in s._split(None)]

    # 9 results, half good: floor(4.5) = 4 good and 4 bad; the worst (a failure) is in neither
    assert split(0.5, [0.1 * i for i in range(8)] + [None]) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    # 7 results, top 0.7: floor(4.9) = 4 good; floor(2.1) = 2 < d + 1 = 3 bad: the 3 left
    assert split(0.7, [0.1 * i for i in range(7)]) == [[0, 1, 2, 3], [4, 5, 6]]


def test_equal_losses_keep_the_order_they_were_observed_in():
    s = xc(top_fraction=0.15)
    for i in range(60):
        s.observe({"x": i / 100, "c": "a"}, None, 1.0)
    good, bad = s._split(None)
    assert [round(v * 100) for v in good[:, 0]] == list(range(9))  # 0.15 x 60: the first nine observed
    assert [round(v * 100) for v in bad[:, 0]] == list(range(9, 60))


def test_a_candidate_far_from_every_observation_keeps_a_finite_density():
    s = xc()
    data = np.array([[0.0, 0.0], [0.01, 0.0]])
    out = s._log_density(np.array([[1.0, 0.0], [0.0, 0.0]]), data, np.array([0.01, 0.1]))
    assert np.isfinite(out).all() and out[0] < -4000 < out[1]


def test_kde_explores_at_random_only_under_a_multi_fidelity_scheduler_by_default():
    assert xc().random_fraction == 0.0
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    assert KdeSearcher(p, 0, multi_fidelity=True).random_fraction == pytest.approx(1 / 3)


def test_each_budget_keeps_its_own_observations():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    s = KdeSearcher(p, 0, multi_fidelity=True, random_fraction=0.0)
    s._starts = []
    rng = np.random.default_rng(0)
    for budget, centre, scale in [(1, 0.1, 0.01), (3, 0.9, 1.0)]:  # budget 1's losses are all smaller
        for _ in range(12):
            x = float(rng.random())
            s.observe({"x": x}, budget, scale * abs(x - centre))
    props = [c["x"] for c in s.suggest(8, full_budget=True)]
    assert all(abs(x - 0.9) < 0.3 for x in props), props  # budget 3's good region only


def test_conditional_spaces_give_consistent_model_proposals():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("opt", ["sgd", "adam"], default="sgd")
    p.add_dim("m", (0.0, 1.0), default=0.5, when={"opt": "sgd"})
    p.add_dim("b", (0.0, 1.0), default=0.5, when={"opt": "adam"})
    s = KdeSearcher(p, 0, random_fraction=0.0)
    rng = np.random.default_rng(0)
    for _ in range(12):
        c = p.sample(rng)
        s.observe(c, None, c.get("m", 1.0))
    for c in s.suggest(6):
        assert p.check(c) == c


def test_with_the_prior_random_draws_and_the_last_resort_draws_avoid_nothing_they_must_not():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("k", [1, 2, 3], default=2)
    p.add_dim("x", (0.0, 1.0), default=0.5)
    s = KdeSearcher(p, 0, prior="default", random_fraction=0.0)
    first = s.suggest(10)  # fewer than d + 2 results: the prior's mixture
    assert all(p.check(c) == c for c in first)
    tiny = HpProblem(objective="y", direction="minimize")
    tiny.add_dim("k", [1, 2, 3], default=2)
    t = KdeSearcher(tiny, 0, prior="default", random_fraction=0.0)
    for c in t.suggest(3):
        t.observe(c, None, float(c["k"]))
    assert all(c["k"] in (1, 2, 3) for c in t.suggest(8))  # every value asked: last-resort draws


def test_the_model_looks_at_every_candidate_for_one_not_asked():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("k", [1, 2, 3, 4, 5, 6, 7, 8], default=1)
    s = KdeSearcher(p, 0, random_fraction=0.0, bandwidth_factor=20.0, n_samples=64)
    s._starts = []
    for k in range(1, 8):
        s.enqueue({"k": k})
    for c in s.suggest(7):
        s.observe(c, None, float(c["k"]))
    assert s.suggest(1) == [{"k": 8}]  # the one value left, whatever its rank among the candidates
