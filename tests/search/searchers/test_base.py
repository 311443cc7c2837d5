"""The searcher rules every searcher shares: what comes first, pending work, random draws of model
searchers, warm starts, and the helpers that pick the model's budget and the incumbents."""
import math

import numpy as np
import pytest

from hpsearch import HpProblem, SpaceError
from hpsearch.search import OptionError
from hpsearch.search.base import Observation
from hpsearch.search.encoding import config_key
from hpsearch.search.searchers.base import (
    NOT_READY,
    RANDOM_FRACTION,
    RANDOM_FRACTION_OPTION,
    WARM_INCUMBENTS_OPTION,
    Searcher,
    Taken,
    best_of,
    model_budget,
)
from hpsearch.search.searchers.random import RandomSearcher


def problem() -> HpProblem:
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0, 9), default=4)
    p.add_dim("act", ["relu", "tanh"], default="relu")
    p.add_starting_point(x=7, act="tanh")
    return p


class Counting(Searcher):
    """Proposes x = 0, 1, 2, ... and records what it learns."""

    name = "counting"
    model_based = True
    OPTIONS = (RANDOM_FRACTION_OPTION, WARM_INCUMBENTS_OPTION)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.k = 0
        self.learned = []
        self.warmed = None
        self.begun = 0

    def _begin(self):
        self.begun += 1

    def _propose(self):
        self.k += 1
        return {"x": self.k - 1, "act": "relu"}

    def _learn(self, config, budget, loss):
        self.learned.append((config, budget, loss))

    def _warmed(self, configs):
        self.warmed = configs


# -- suggest ------------------------------------------------------------------------------
def test_enqueued_then_starting_points_then_the_searchers_own_choices():
    s = Counting(problem(), 0)
    assert s.enqueue({"x": 2.0}) == {"x": 2, "act": "relu"}
    assert s.enqueue({"act": "tanh"}) == {"x": 4, "act": "tanh"}
    out = s.suggest(5)
    assert out == [{"x": 2, "act": "relu"}, {"x": 4, "act": "tanh"}, {"x": 4, "act": "relu"},
                   {"x": 7, "act": "tanh"}, {"x": 0, "act": "relu"}]
    assert s.suggest(1) == [{"x": 1, "act": "relu"}]  # the starting points come once
    assert s.begun == 2


def test_enqueue_refuses_unknown_names_and_values_with_one_line():
    s = Counting(problem(), 0)
    with pytest.raises(SpaceError, match=r"^enqueue: no dimension 'y' \(dimensions: x, act\)$"):
        s.enqueue({"x": 1, "y": 2})
    with pytest.raises(SpaceError, match=r"^enqueue: .*x.*expected an integer in \[0, 9\], got 12$"):
        s.enqueue({"x": 12})
    assert s.suggest(1) == [{"x": 4, "act": "relu"}]  # nothing was queued


def test_every_suggestion_is_pending_until_it_is_observed_at_any_budget():
    s = Counting(problem(), 0)
    a, b = s.suggest(2)
    assert list(s.pending.values()) == [a, b]
    s.observe(a, 3, 0.5)
    assert list(s.pending.values()) == [b]
    s.observe({"x": 9, "act": "relu"}, None, None)  # never suggested: nothing to forget
    assert list(s.pending.values()) == [b]
    assert s.learned == [(a, 3, 0.5), ({"x": 9, "act": "relu"}, None, None)]


def test_a_suggestion_is_checked_against_the_space():
    class Bad(Counting):
        def _propose(self):
            return {"x": 10, "act": "relu"}

    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0, 9), default=4)
    p.add_dim("act", ["relu", "tanh"], default="relu")
    s = Bad(p, 0)
    s.suggest(1)
    with pytest.raises(SpaceError, match="expected an integer in \\[0, 9\\], got 10"):
        s.suggest(1)


def test_a_named_stream_draws_the_same_whatever_was_drawn_before():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("u", (0.0, 1.0), default=0.5)
    one, two = RandomSearcher(p, 5), RandomSearcher(p, 5)
    one.suggest(1)
    two.suggest(1)
    two.suggest(3)  # the main stream moves on
    assert one.suggest(2, stream=(1, 2)) == two.suggest(2, stream=(1, 2))
    assert one.suggest(1, stream=(1, 2)) == two.suggest(1, stream=(1, 2))  # each stream continues
    assert one.suggest(1, stream=(1, 3)) != one.suggest(1, stream=(1, 4))
    three = RandomSearcher(p, 5)
    three.suggest(1)
    assert three.suggest(1) == RandomSearcher(p, 5).suggest(2)[1:]
    a, b = RandomSearcher(p, None), RandomSearcher(p, 0)
    a.suggest(1), b.suggest(1)
    assert a.suggest(1, stream=(2,)) == b.suggest(1, stream=(2,))  # no seed: stream seeded as seed 0


# -- random draws of model searchers ----------------------------------------------------------
def test_the_random_fraction_defaults_to_a_third_under_multi_fidelity_and_none_under_fifo():
    assert RANDOM_FRACTION == pytest.approx(1 / 3)
    assert Counting(problem(), 0).random_fraction == 0.0
    assert Counting(problem(), 0, multi_fidelity=True).random_fraction == pytest.approx(1 / 3)
    assert Counting(problem(), 0, multi_fidelity=True, random_fraction=0.0).random_fraction == 0.0
    assert Counting(problem(), 0, random_fraction=0.5).random_fraction == 0.5
    assert RandomSearcher(problem(), 0, multi_fidelity=True).random_fraction == 0.0  # not its option


def test_draw_at_random_follows_the_fraction_and_spares_full_budget_starts():
    draws = [Counting(problem(), seed, random_fraction=0.25) for seed in range(400)]
    share = sum(s.draw_at_random() for s in draws) / len(draws)
    assert share == pytest.approx(0.25, abs=0.06)
    s = Counting(problem(), 0, random_fraction=1.0)
    assert s.draw_at_random() is True
    assert not Counting(problem(), 0, random_fraction=0.0).draw_at_random()
    mf = Counting(problem(), 0, multi_fidelity=True, random_fraction=1.0)
    mf.suggest(3, full_budget=True)
    assert mf.full_budget is True and mf.draw_at_random() is False
    mf.suggest(1)
    assert mf.full_budget is False and mf.draw_at_random() is True
    fifo = Counting(problem(), 0, random_fraction=1.0)
    fifo.suggest(1, full_budget=True)  # under fifo everything is at the full budget: the flag is moot
    assert fifo.full_budget is False


def test_a_random_draw_without_the_prior_is_the_spaces_sampler():
    s = Counting(problem(), 0)
    assert s.prior is None
    assert s.random_draw(np.random.default_rng(3)) == problem().sample(np.random.default_rng(3))


def test_the_prior_is_refused_for_several_objectives():
    p = HpProblem(objectives={"a": "minimize", "b": "minimize"})
    p.add_dim("x", (0.0, 1.0), default=0.5)
    with pytest.raises(OptionError) as info:
        RandomSearcher(p, 0, prior="default")
    assert str(info.value) == ("--searcher random: --prior default is for one objective (its evidence ranks "
                               "single losses); a multi-objective problem takes --prior none")
    assert RandomSearcher(p, 0, prior="none").prior is None
    assert RandomSearcher(problem(), 0, prior="default").prior is not None
    assert RandomSearcher(problem(), 0).prior is None


# -- warm start ------------------------------------------------------------------------------
def test_a_model_searcher_learns_earlier_evaluations_and_proposes_their_best_first():
    s = Counting(problem(), 0, warm_incumbents=2)
    earlier = [Observation({"x": 1, "act": "relu"}, None, 0.9), Observation({"x": 7, "act": "tanh"}, None, 0.1),
               Observation({"x": 3, "act": "relu"}, None, 0.5), Observation({"x": 5, "act": "relu"}, None, None)]
    assert s.warm_start(earlier) == 4
    assert [c["x"] for c, _b, _l in s.learned] == [1, 7, 3, 5]
    assert s.warmed == [o.config for o in earlier]
    # the two best again, then the defaults (the other starting point was evaluated), then the model
    assert [c["x"] for c in s.suggest(4)] == [7, 3, 4, 0]


def test_warm_incumbents_zero_evaluates_none_again_and_random_search_ignores_a_warm_start():
    s = Counting(problem(), 0, warm_incumbents=0)
    s.warm_start([Observation({"x": 1, "act": "relu"}, None, 0.9)])
    assert s.incumbents == []
    r = RandomSearcher(problem(), 0)
    assert r.warm_start([Observation({"x": 4, "act": "relu"}, None, 0.9)]) == 0
    assert r.suggest(2) == [{"x": 4, "act": "relu"}, {"x": 7, "act": "tanh"}]


def test_warm_start_refuses_a_configuration_outside_the_space():
    s = Counting(problem(), 0)
    with pytest.raises(SpaceError):
        s.warm_start([Observation({"x": 11, "act": "relu"}, None, 0.9)])


def test_best_of_takes_the_largest_budget_with_a_finite_loss_best_first_without_repeats():
    obs = [({"x": 1}, 3, 0.1), ({"x": 2}, 9, 0.7), ({"x": 3}, 9, 0.2), ({"x": 3}, 9, 0.3),
           ({"x": 4}, 27, None), ({"x": 5}, 27, math.nan), ({"x": 6}, 27, math.inf), ({"x": 7}, 9, 0.7)]
    assert best_of(obs, 5) == [{"x": 3}, {"x": 2}, {"x": 7}]
    assert best_of(obs, 1) == [{"x": 3}]
    assert best_of(obs, 2) == [{"x": 3}, {"x": 2}]  # ties: the earlier first
    assert best_of(obs, 0) == [] and best_of(obs, -1) == []
    assert best_of([({"x": 4}, 27, None)], 3) == []
    assert best_of([({"x": 1}, None, 0.5), ({"x": 2}, 3, 0.1)], 1) == [{"x": 1}]  # None: the full budget
    assert best_of([({"x": 1}, 2.5, 0.5), ({"x": 2}, 10, 0.9)], 1) == [{"x": 2}]  # numbers, not text


def test_model_budget_is_the_largest_budget_with_enough_successes():
    obs = {1: ([0] * 5, [0.1] * 5), 3: ([0] * 3, [0.2, None, 0.3]), 9: ([0], [0.5])}
    assert model_budget(obs, 2) == 3
    assert model_budget(obs, 3) == 1
    assert model_budget(obs, 1) == 9
    assert model_budget(obs, 6) is NOT_READY
    assert model_budget({}, 1) is NOT_READY
    assert model_budget({None: ([0, 0], [1.0, 2.0]), 100: ([0, 0], [1.0, 2.0])}, 2) is None
    assert model_budget({2.5: ([0], [1.0]), 10: ([0], [1.0])}, 1) == 10


def test_taken_is_in_any_of_its_sets():
    t = Taken({"a"}, {"b": 1})
    assert "a" in t and "b" in t and "c" not in t
    assert "a" not in Taken()


def test_a_searcher_refuses_an_option_it_does_not_take_naming_itself():
    with pytest.raises(OptionError, match=r"^--eta: does not apply to --searcher random \(its options: --prior\)$"):
        RandomSearcher(problem(), 0, eta=3)


def test_a_plain_suggest_is_one_configuration():
    assert Counting(problem(), 0).suggest() == [{"x": 4, "act": "relu"}]


def test_each_named_stream_is_its_own_whatever_other_streams_drew():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("u", (0.0, 1.0), default=0.5)
    a, b = RandomSearcher(p, 5), RandomSearcher(p, 5)
    a.suggest(1), b.suggest(1)
    b.suggest(2, stream=(1, 2))
    assert a.suggest(1, stream=(1, 3)) == b.suggest(1, stream=(1, 3))
    unseeded = RandomSearcher(p, None)
    unseeded.suggest(1)
    assert unseeded.suggest(1, stream=(2,)) == [p.sample(np.random.default_rng([0, 2]))]  # seeded as 0


def test_no_random_fraction_spends_no_random_draw():
    import copy

    s = Counting(problem(), 0, random_fraction=0.0)
    rng = copy.deepcopy(s.rng)
    assert s.draw_at_random() is False
    assert s.rng.random() == rng.random()


def test_warm_start_files_each_evaluation_under_its_budget():
    s = Counting(problem(), 0)
    s.warm_start([Observation({"x": 1, "act": "relu"}, 3, 0.5), Observation({"x": 2, "act": "relu"}, 9, 0.25)])
    assert [(c["x"], b, loss) for c, b, loss in s.learned] == [(1, 3, 0.5), (2, 9, 0.25)]


class WithPrior(Counting):
    from hpsearch.search.searchers.base import PRIOR_OPTION

    OPTIONS = (RANDOM_FRACTION_OPTION, WARM_INCUMBENTS_OPTION, PRIOR_OPTION)


def test_the_prior_sees_every_observation_and_earlier_evaluation_under_its_budget():
    s = WithPrior(problem(), 0, prior="default")
    s.warm_start([Observation({"x": 1, "act": "relu"}, 3, 0.5)])
    s.observe({"x": 9, "act": "tanh"}, 9, None)
    s.observe({"x": 0, "act": "relu"}, 9, 0.125)
    seen = {b: ([list(r) for r in rows], losses) for b, (rows, losses) in s.prior.observations.items()}
    enc = s.prior.enc
    assert seen == {3: ([list(enc.encode({"x": 1, "act": "relu"}))], [0.5]),
                    9: ([list(enc.encode({"x": 9, "act": "tanh"})), list(enc.encode({"x": 0, "act": "relu"}))],
                        [None, 0.125])}


def test_with_the_prior_on_random_draws_come_from_its_mixture_and_avoid_taken_configurations():
    s = WithPrior(problem(), 0, prior="default")
    draws = [s.random_draw(np.random.default_rng(i), {config_key({"x": 4, "act": "relu"})}) for i in range(40)]
    assert all(problem().check(d) == d for d in draws)
    near = sum(abs(d["x"] - 4) <= 2 for d in draws) / len(draws)
    assert near > 0.6  # the defaults' neighbourhood (the uniform share alone gives 5 / 10)
