"""The contract every searcher passes (run for each registered one by ``test_contracts.py``).

A searcher is driven directly (no scheduler): starting points first and once,
valid and typed configurations, batch asks spread over distinct
configurations, determinism for a seed and a sequence of observations,
failures and several budgets observed without harm, pins respected.
"""
from __future__ import annotations

import pytest

from hpsearch import Categorical, HpProblem, Ordinal
from hpsearch.problem.loader import load_problem
from hpsearch.search import searcher_class

from ..conftest import PROBLEMS

MIXED = PROBLEMS / "mixed"
#: options that keep each searcher's model phase reachable in a few observations.
SEARCHER_OPTIONS = {"bayesian": {"initial_points": 2}}


def mixed_multi_objective() -> HpProblem:
    """The mixed problem's space with two objectives: its score (maximised) and a size (minimised)."""
    p = HpProblem(objectives={"score": "maximize", "size": "minimize"}, kind="synthetic")
    p.add_dim("lr", (1e-4, 1e-1, "log-uniform"), default=1e-2)
    p.add_dim("x", (-5.0, 5.0), default=4.0)
    p.add_dim("units", (8, 256, "log-uniform"), default=32)
    p.add_dim("layers", (1, 5), default=1)
    p.add_dim("batch", [16, 32, 64, 128], default=32)
    p.add_dim("act", ["relu", "tanh", "sigmoid"], default="sigmoid")
    p.add_dim("opt", Categorical(["adam", "sgd"], weights=[3, 1]), default="sgd")
    p.add_dim("steps", Ordinal(1, 27), default=3, resource=True)
    p.add_starting_point(lr=0.05, x=-4.0, units=200, layers=5, batch=128, act="tanh", opt="adam")
    return p


def mo_losses(lp, config: dict) -> tuple[float, float]:
    """Both objectives as losses (``to_losses`` form): the mixed score, and units x layers (a size)."""
    return (-lp.run(dict(config)), config["units"] * config["layers"] / 1280)


def make(name: str, seed: int = 0, problem=None, multi_fidelity: bool = False):
    lp = load_problem(MIXED)
    problem = problem or lp.problem
    cls = searcher_class(name)
    return cls(problem, seed, multi_fidelity=multi_fidelity, **SEARCHER_OPTIONS.get(name, {})), lp


def feed(searcher, lp, rounds: int, batch: int = 1, fail_every: int = 0, budgets=(None,),
         loss=None) -> list[dict]:
    """Ask ``batch`` at a time and observe each at every budget; return every configuration asked.

    ``loss(config)``: what is observed (default: the mixed problem's score as a loss).
    """
    out = []
    loss = loss or (lambda c: -lp.run(dict(c)))
    for _ in range(rounds):
        got = searcher.suggest(batch)
        assert len(got) == batch
        for config in got:
            for b in budgets:
                failed = fail_every and len(out) % fail_every == 0
                searcher.observe(config, b, None if failed else loss(config))
            out.append(config)
    return out


class SearcherContract:
    name: str = ""

    def test_starting_points_come_first_and_once(self):
        s, lp = make(self.name, seed=1)
        starts = lp.problem.starting_points
        got = feed(s, lp, rounds=len(starts) + 8)
        assert got[:len(starts)] == starts
        assert not any(c in starts for c in got[len(starts):])

    def test_configurations_are_valid_and_typed(self):
        s, lp = make(self.name, seed=2)
        for config in feed(s, lp, rounds=6, batch=2):
            checked = lp.problem.check(config)
            assert checked == config
            assert [type(v) for v in config.values()] == [type(v) for v in checked.values()]

    def test_a_batch_holds_distinct_configurations_and_pending_ones_are_tracked(self):
        s, lp = make(self.name, seed=3)
        feed(s, lp, rounds=12)
        batch = s.suggest(4)
        assert len({repr(sorted(c.items())) for c in batch}) == 4
        assert len(s.pending) == 4
        for c in batch:
            s.observe(c, None, 0.0)
        assert not s.pending

    def test_same_seed_and_observations_give_the_same_sequence(self):
        runs = [feed(make(self.name, seed=seed)[0], load_problem(MIXED), rounds=14, batch=2)
                for seed in (7, 7, 8)]
        assert runs[0] == runs[1]
        assert runs[0] != runs[2]

    def test_multi_objective_losses_are_learned_deterministically_with_failures(self):
        lp = load_problem(MIXED)
        problem = mixed_multi_objective()

        def run(seed, flip=False):
            s = searcher_class(self.name)(problem, seed, **SEARCHER_OPTIONS.get(self.name, {}))
            return feed(s, lp, rounds=16, batch=2, fail_every=5,
                        loss=lambda c: (mo_losses(lp, c)[0], -mo_losses(lp, c)[1] if flip else mo_losses(lp, c)[1]))

        first = run(7)
        assert all(problem.check(c) == c for c in first)
        assert run(7) == first
        assert run(8) != first
        if searcher_class(self.name).model_based:  # the second objective steers the model
            assert run(7, flip=True) != first

    def test_failures_are_observed_without_harm(self):
        s, lp = make(self.name, seed=4)
        got = feed(s, lp, rounds=16, fail_every=2)
        assert len(got) == 16
        only_failures, _ = make(self.name, seed=4)
        feed(only_failures, lp, rounds=6, fail_every=1)
        assert lp.problem.check(only_failures.suggest(1)[0])

    def test_several_budgets_are_observed(self):
        s, lp = make(self.name, seed=5, multi_fidelity=True)
        got = feed(s, lp, rounds=24, budgets=(1, 3, 9))
        assert all(lp.problem.check(c) == c for c in got)

    def test_pinned_dimensions_are_respected(self):
        lp = load_problem(MIXED)
        s, _ = make(self.name, seed=6, problem=lp.problem.fix({"act": "tanh", "x": "0.5"}))
        for config in feed(s, lp, rounds=14):
            assert config["act"] == "tanh" and config["x"] == 0.5

    def test_unknown_option_names_the_searcher(self):
        from hpsearch.search import OptionError

        lp = load_problem(MIXED)
        with pytest.raises(OptionError, match=f"--no-such: does not apply to --searcher {self.name}"):
            searcher_class(self.name)(lp.problem, 0, no_such=1)

    def test_random_draws_spare_configurations_that_start_at_the_full_budget(self, monkeypatch):
        lp = load_problem(MIXED)
        model_based = searcher_class(self.name).model_based
        options = {"random_fraction": 1.0} if model_based else {}
        s = searcher_class(self.name)(lp.problem, 9, multi_fidelity=True, **options,
                                      **SEARCHER_OPTIONS.get(self.name, {}))
        feed(s, lp, rounds=20, budgets=(1, 3))  # past the starting points, the model is ready
        draws = []
        sample = s.problem.sample
        monkeypatch.setattr(s.problem, "sample", lambda rng: draws.append(1) or sample(rng))
        s.suggest(3, full_budget=True)
        # a model searcher's own choices, although every proposal may be random; random search draws anyway
        assert draws == ([] if model_based else [1, 1, 1])
        s.suggest(3)
        assert len(draws) == (3 if model_based else 6)
