"""Model searchers that learn from every budget (``--fidelities all``): each budget's weight (its rank
agreement with the largest budget), the pooled model where no single budget has d + 2 results, and runs
that store the choice and resume with it."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hpsearch import HpProblem
from hpsearch.run.runner import RunConfig, resume_run, start_run
from hpsearch.search import PRESETS, OptionError, make_scheduler, searcher_class
from hpsearch.search.searchers.fidelities import MIN_PAIRS, budget_scores, budget_weights
from hpsearch.store import RunStore

from .contract_scheduler import MIXED, rows


# -- the weights, by hand ------------------------------------------------------------------------
def test_a_budget_weighs_its_kendall_agreement_with_the_largest_budget():
    # budget 1 swaps the last two of six: 14 concordant pairs, 1 discordant, tau = 13 / 15
    losses = {1: [0.1, 0.2, 0.3, 0.4, 0.6, 0.5], 9: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}
    keys = {1: list("abcdef"), 9: list("abcdef")}
    weights = budget_weights(losses, keys)
    assert weights[1] == pytest.approx(13 / 15)
    assert weights[9] == 1.0


def test_a_reversed_budget_weighs_nothing_and_one_without_enough_pairs_weighs_one():
    losses = {1: [5.0, 4.0, 3.0, 2.0, 1.0], 3: [1.0, 3.0, 2.0, 0.0], 9: [1.0, 2.0, 3.0, 4.0, 5.0]}
    keys = {1: list("abcde"), 3: ["c", "b", "a", "z"], 9: list("abcde")}
    weights = budget_weights(losses, keys)
    assert weights[1] == 0.0  # tau = -1, clipped at 0
    assert weights[3] == 1.0  # three configurations in common with budget 9: no evidence yet
    assert MIN_PAIRS == 5


def test_failures_and_configurations_not_at_the_largest_budget_are_not_pairs():
    # reversed at budget 1; five pairs would give weight 0, but c failed and x, y never reached budget 9
    losses = {1: [5.0, 4.0, None, 2.0, 1.0, 0.0, 9.0], 9: [1.0, 2.0, 3.0, 4.0, 5.0]}
    keys = {1: list("abcdexy"), 9: list("abcde")}
    assert budget_weights(losses, keys)[1] == 1.0
    losses[1][2] = 3.0  # c succeeds: five pairs, all reversed
    assert budget_weights(losses, keys)[1] == 0.0


def test_scores_are_normal_scores_of_ranks_within_a_budget_failures_last():
    # ranks: 1.0 and 1.0 tie at 1.5, 2.0 is 3rd, the failure 4th; Phi^-1((r - 1/2) / 4)
    got = budget_scores([2.0, 1.0, None, 1.0])
    assert got == pytest.approx([0.318639, -0.674490, 1.150349, -0.674490], abs=1e-6)
    # the scale of a budget's losses does not matter
    assert budget_scores([10.0, 30.0, 20.0]) == pytest.approx(budget_scores([0.1, 0.3, 0.2]))


# -- the pooled model ------------------------------------------------------------------------------
def _square() -> HpProblem:
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("y", (0.0, 1.0), default=0.5)
    return p


def _bowl(c: dict) -> float:
    return (c["x"] - 0.85) ** 2 + (c["y"] - 0.85) ** 2


#: model-only options: no initial or random draws, so a proposal is the model's when it has one.
MODEL_ONLY = {"bayesian": {"initial_points": 0, "random_fraction": 0.0}, "kde": {"random_fraction": 0.0}}


def _observed(name: str, fidelities: str, seed: int):
    """A searcher that has seen three results at budget 1, three at 3 and one at 9, five configurations
    (d + 2 = 4: no budget has enough for BOHB's model, all of them together do)."""
    p = _square()
    s = searcher_class(name)(p, seed, multi_fidelity=True, fidelities=fidelities, **MODEL_ONLY[name])
    assert s.suggest(1) == [{"x": 0.5, "y": 0.5}]  # the default comes first, observed below
    seen = {1: [(0.5, 0.5), (0.1, 0.2), (0.8, 0.7)], 3: [(0.8, 0.7), (0.9, 0.95), (0.2, 0.6)],
            9: [(0.8, 0.7)]}
    for budget, points in seen.items():
        for x, y in points:
            c = {"x": x, "y": y}
            s.observe(c, budget, _bowl(c) * (1 + 1 / budget))
    return s, p


@pytest.mark.parametrize("name", ["bayesian", "kde"])
def test_with_every_fidelity_the_model_proposes_where_no_single_budget_has_enough(name):
    near_largest, near_all = [], []
    for seed in range(10):
        largest, p = _observed(name, "largest", seed)
        got = largest.suggest(1)[0]
        # BOHB's rule: no budget has d + 2 results, so the proposal is the problem's own random draw
        assert got == p.sample(np.random.default_rng(seed))
        pooled, _ = _observed(name, "all", seed)
        mine = pooled.suggest(1)[0]
        assert mine != got
        near_largest.append(_bowl(got))
        near_all.append(_bowl(mine))
    # the model goes where the results are good; random draws land anywhere
    assert np.median(near_all) < 0.6 * np.median(near_largest)


def test_a_budget_that_disagrees_with_the_largest_is_left_out_of_the_model():
    s = searcher_class("bayesian")(_square(), 0, multi_fidelity=True, fidelities="all", initial_points=0)
    points = [(0.1 * i, 0.1 * i) for i in range(1, 7)]
    for i, (x, y) in enumerate(points):
        s.observe({"x": x, "y": y}, 9, float(i))
        s.observe({"x": x, "y": y}, 1, float(-i))  # reversed
    X, y, noise = s._pooled_data()
    assert len(X) == len(points)  # budget 1 weighs 0
    assert noise.tolist() == [0.0] * len(points)


def test_fidelities_is_refused_with_its_choices():
    with pytest.raises(OptionError, match="--fidelities: expected one of largest, all, got 'some'"):
        make_scheduler("bohb", load_mixed(), 0, {"fidelities": "some"})


def load_mixed():
    from hpsearch.problem.loader import load_problem

    return load_problem(MIXED).problem


# -- stored runs --------------------------------------------------------------------------------------
#: ten dimensions (d + 2 = 12) and R = 9: one Hyperband pass gives at most 9 results at one budget.
WIDE_PROBLEM = """
from hpsearch import HpProblem, Ordinal
Problem = HpProblem(objective="loss", direction="minimize")
for i in range(10):
    Problem.add_dim(f"x{i}", (0.0, 1.0), default=0.5)
Problem.add_dim("steps", Ordinal(1, 9), default=9, resource=True)
"""
WIDE_RUN = """
def run(config):
    return sum((config[f"x{i}"] - 0.3) ** 2 for i in range(10)) * (1 + 1 / config["steps"])
"""


@pytest.fixture
def wide(make_problem):
    return make_problem("wide", problem=WIDE_PROBLEM, model_run=WIDE_RUN)


def _common(folder, **options) -> dict:
    return dict(problem=str(folder), algo="bohb", algo_options={"initial_points": 2, **options}, seed=5,
                evaluator="serial")


@pytest.fixture
def bohb_pools(monkeypatch):
    """The bohb preset with --fidelities all as its default (whatever it is in this release)."""
    preset = PRESETS["bohb"]
    options = tuple(kv for kv in preset.options if kv[0] != "fidelities") + (("fidelities", "all"),)
    monkeypatch.setitem(PRESETS, "bohb", dataclasses.replace(preset, options=options))


def test_a_new_run_stores_a_fidelities_other_than_bohbs_rule(tmp_path, bohb_pools, wide):
    out = start_run(RunConfig(**_common(wide), max_evals=3, run_dir=str(tmp_path / "bohb")))
    out.store.close()
    out = start_run(RunConfig(**{**_common(wide), "algo": "asha", "searcher": "bayesian"}, max_evals=3,
                              run_dir=str(tmp_path / "asha")))
    out.store.close()
    with RunStore.open(tmp_path / "bohb", readonly=True) as store:
        assert store.settings["algo_options"]["fidelities"] == "all"  # the preset's: recorded
    with RunStore.open(tmp_path / "asha", readonly=True) as store:
        assert "fidelities" not in store.settings["algo_options"]  # BOHB's rule, as runs had before


def test_a_run_stored_before_the_option_resumes_as_it_ran(tmp_path, bohb_pools, wide):
    """A run whose settings do not name --fidelities (made before it existed) resumes with BOHB's rule,
    though the preset's default is now 'all': the resumed run equals an uninterrupted one with 'largest'."""
    n, k = 22, 9
    full = start_run(RunConfig(**_common(wide, fidelities="largest"), max_evals=n,
                               run_dir=str(tmp_path / "full")))
    full.store.close()
    part = start_run(RunConfig(**_common(wide, fidelities="largest"), max_evals=k,
                               run_dir=str(tmp_path / "part")))
    with part.store as store:  # as an older release stored it
        store.update_settings(algo_options={"initial_points": 2})
    resumed = resume_run(tmp_path / "part", max_evals=n)
    resumed.store.close()
    assert resumed.summary.n_replayed == k
    assert rows(tmp_path / "part") == rows(tmp_path / "full")
    with RunStore.open(tmp_path / "part", readonly=True) as store:
        assert "fidelities" not in store.settings["algo_options"]  # a resume writes nothing it did not change
    pooled = start_run(RunConfig(**_common(wide), max_evals=n, run_dir=str(tmp_path / "pooled")))
    pooled.store.close()
    assert rows(tmp_path / "pooled") != rows(tmp_path / "full")  # so the resume did not take the default


def test_every_fidelity_run_resumes_exactly(tmp_path, wide):
    n, k = 22, 9
    common = _common(wide, fidelities="all")
    full = start_run(RunConfig(**common, max_evals=n, run_dir=str(tmp_path / "full")))
    full.store.close()
    part = start_run(RunConfig(**common, max_evals=k, run_dir=str(tmp_path / "part")))
    part.store.close()
    resumed = resume_run(tmp_path / "part", max_evals=n)
    resumed.store.close()
    assert rows(tmp_path / "part") == rows(tmp_path / "full")


def test_the_note_that_the_model_never_chooses_is_only_given_under_bohbs_rule(wide):
    from hpsearch.problem.loader import load_problem

    problem = load_problem(str(wide)).problem
    largest = make_scheduler("bohb", problem, 0, {"fidelities": "largest"})
    assert "the model never chooses" in largest.schedule_note()
    assert make_scheduler("bohb", problem, 0, {"fidelities": "all"}).schedule_note() is None
