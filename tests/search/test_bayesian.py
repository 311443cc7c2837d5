"""Bayesian search: mixed spaces, direction, failures, batches, options."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpsearch import Categorical, Continuous, HpProblem, Ordinal
from hpsearch.cli import cli
from hpsearch.problem.loader import load_problem
from hpsearch.run.runner import RunConfig, start_run
from hpsearch.search import Told, make_scheduler
from hpsearch.search.encoding import EncodedSpace as _Encoder

from ..conftest import run_full_and_resumed
from .contract_scheduler import drive, rows
from .contract_searcher import MIXED


# -- mixed spaces ------------------------------------------------------------------------
@st.composite
def problems(draw) -> HpProblem:
    p = HpProblem(objective="y", direction=draw(st.sampled_from(["maximize", "minimize"])))
    n = draw(st.integers(1, 5))
    for i in range(n):
        kind = draw(st.sampled_from(["real", "log", "int", "logint", "list", "cat", "weighted"]))
        if kind == "real":
            low = draw(st.floats(-100, 100))
            spec = Continuous(low, low + draw(st.floats(1e-3, 100)))
        elif kind == "log":
            low = draw(st.floats(1e-6, 10))
            spec = Continuous(low, low * draw(st.floats(1.5, 1e4)), prior="log-uniform")
        elif kind == "int":
            low = draw(st.integers(-50, 50))
            spec = Ordinal(low, low + draw(st.integers(1, 40)))
        elif kind == "logint":
            low = draw(st.integers(1, 20))
            spec = Ordinal(low, low + draw(st.integers(1, 2000)), prior="log-uniform")
        elif kind == "list":
            spec = Ordinal(values=draw(st.lists(st.one_of(st.integers(-99, 99), st.floats(-9, 9)),
                                                min_size=1, max_size=6, unique=True)))
        else:
            choices = draw(st.lists(st.one_of(st.text("abc", min_size=1, max_size=3), st.booleans()),
                                    min_size=1, max_size=4, unique_by=repr))
            weights = [draw(st.floats(0.1, 5)) for _ in choices] if kind == "weighted" else None
            spec = Categorical(choices, weights=weights)
        p.add_dim(f"d{i}", spec)
    return p


def _fake_loss(config: dict) -> float:
    """A deterministic number per configuration (any number will do for these tests)."""
    return float(sum((hash(repr(v)) % 1000) / 100.0 for v in config.values()))


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, 2**31 - 1))
def test_mixed_space_suggestions_validate_and_keep_their_kinds(problem, seed):
    b = make_scheduler("bayesian", problem, seed, {"initial_points": 2})
    asked = []
    for n in [1, 1, 1, 2, 1, 3, 1, 1]:  # model asks alone and in batches
        got = b.ask(n)
        assert len(got) == n
        for s in got:
            checked = problem.check(s.config)
            assert checked == s.config
            assert [type(v) for v in s.config.values()] == [type(v) for v in checked.values()]
            asked.append(s)
        for s in got:
            failed = len(asked) % 4 == 0
            b.tell(Told(trial_id=len(asked), suggestion=s, status="failed" if failed else "done",
                        loss=None if failed else _fake_loss(s.config)))


def test_encoding_keeps_ordinal_list_order_and_round_trips():
    p = HpProblem()
    p.add_dim("b", [64, 8, 512, 16])  # a list in an order that is not sorted
    p.add_dim("u", (8, 256, "log-uniform"))
    p.add_dim("c", ["x", "y", "z"])
    p.add_dim("r", (1e-4, 1e-1, "log-uniform"))
    enc = _Encoder(p)
    base = p.defaults
    coords = [enc.encode({**base, "b": v})[0] for v in [64, 8, 512, 16]]
    assert coords == sorted(coords) and len(set(coords)) == 4  # declared order, not numeric order
    for v in [64, 8, 512, 16]:
        assert enc.decode(enc.encode({**base, "b": v}))["b"] == v
    for u in (8, 9, 100, 255, 256):
        assert enc.decode(enc.encode({**base, "u": u}))["u"] == u
    for c in "xyz":
        assert enc.decode(enc.encode({**base, "c": c}))["c"] == c
    assert math.isclose(enc.decode(enc.encode({**base, "r": 3e-3}))["r"], 3e-3, rel_tol=1e-12)
    # log-uniform ranges are searched on a log scale: the middle of the cube is the geometric mean
    mid = enc.decode(np.array([0.0, 0.5, 1, 0, 0, 0.5]))
    assert math.isclose(mid["r"], math.sqrt(1e-4 * 1e-1), rel_tol=1e-9)
    assert mid["u"] == round(math.sqrt(8 * 256))


def test_fixed_and_single_valued_dimensions_are_left_out_of_the_model():
    p = HpProblem()
    p.add_dim("a", (0.0, 1.0))
    p.add_dim("one", ["only"])
    p.add_dim("k", (1, 9))
    enc = _Encoder(p.fix({"k": "3"}))
    assert enc.n_cols == 1
    assert enc.decode(np.array([0.25])) == {"a": 0.25, "one": "only", "k": 3}


# -- order of suggestions ---------------------------------------------------------------
def test_starting_points_come_first_then_random_then_model():
    lp = load_problem(MIXED)
    b = make_scheduler("bayesian", lp.problem, 0, {"initial_points": 3})
    got = drive(b, lp.run, limit=8)
    assert [s.config for s in got[:2]] == lp.problem.starting_points
    # the random phase draws from the same seeded stream as random search, after the starts
    rnd = make_scheduler("random", lp.problem, 0, {})
    assert [s.config for s in got[:5]] == [s.config for s in rnd.ask(5)]
    assert [s.config_id for s in got] == list(range(8))
    assert all(s.budget == s.config["steps"] for s in got)  # the resource is searched like any dim


# -- direction and search quality --------------------------------------------------------
BRANIN = """
import math

def run(config):
    x1, x2 = config["x1"], config["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    value = (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
    return {SIGN}value
"""
SPACE = """
from hpsearch import HpProblem
Problem = HpProblem(objective="objective", direction="{DIRECTION}")
Problem.add_dim("x1", (-5.0, 10.0), default=2.5)
Problem.add_dim("x2", (0.0, 15.0), default=7.5)
"""


@pytest.mark.parametrize("direction,sign", [("minimize", ""), ("maximize", "-")])
def test_both_directions_find_the_optimum_region(make_problem, tmp_path, direction, sign):
    folder = make_problem(f"branin_{direction}", problem=SPACE.replace("{DIRECTION}", direction),
                          model_run=BRANIN.replace("{SIGN}", sign))
    best = {}
    for algo in ("bayesian", "random"):
        regrets = []
        for seed in (0, 1):
            out = start_run(RunConfig(problem=str(folder), algo=algo, seed=seed, max_evals=25,
                                      evaluator="serial", run_dir=str(tmp_path / f"{algo}{seed}")))
            out.store.close()
            regrets.append(abs(out.summary.best.objective) - 0.397887)
        best[algo] = max(regrets)
    # 25 evaluations: the model gets within 0.1 of Branin's minimum 0.398 on every seed; random
    # search does not (it also shows the sign is right: maximising +branin would run away).
    assert best["bayesian"] < 0.1, best
    assert best["random"] > best["bayesian"], best


# -- failures ----------------------------------------------------------------------------
FAILING = """
def run(config):
    if config["x"] > 0.5:
        raise ValueError("diverged")
    return -(config["x"] - 0.3) ** 2 - (config["y"] - 0.7) ** 2
"""


def test_failing_evaluations_mid_search_are_stored_and_avoided(make_problem, tmp_path):
    folder = make_problem("fails", problem="""
        from hpsearch import HpProblem
        Problem = HpProblem(objective="score")
        Problem.add_dim("x", (0.0, 1.0), default=0.9)
        Problem.add_dim("y", (0.0, 1.0), default=0.5)
    """, model_run=FAILING)
    out = start_run(RunConfig(problem=str(folder), algo="bayesian", seed=3, max_evals=25,
                              algo_options={"initial_points": 4}, evaluator="serial",
                              run_dir=str(tmp_path / "run")))
    rows = out.store.trials()
    out.store.close()
    s = out.summary
    assert s.n_done + s.n_failed == 25 and s.n_failed >= 1
    assert rows[0].status == "failed"  # the default x=0.9 fails first; the search goes on
    model_phase = rows[5:]
    assert sum(t.status == "failed" for t in model_phase) < len(model_phase) / 3
    assert s.best.objective > -0.01


def test_only_failures_so_far_keeps_sampling():
    lp = load_problem(MIXED)
    b = make_scheduler("bayesian", lp.problem, 0, {"initial_points": 1})
    for i in range(6):
        s = b.ask(1)[0]
        b.tell(Told(trial_id=i, suggestion=s, status="timeout", loss=None))
    assert lp.problem.check(b.ask(1)[0].config)


# -- parallel asks -----------------------------------------------------------------------
def test_batch_asks_are_spread_distinct_and_deterministic():
    lp = load_problem("branin")

    def run(seed):
        b = make_scheduler("bayesian", lp.problem, seed, {"initial_points": 3})
        pending, out, tid = [], [], 0
        for n in (4, 2, 4, 3, 4):
            got = b.ask(n)
            out.append([s.config for s in got])
            pending += got
            for s in pending[:2]:  # two finish (every fifth fails), the others stay in flight
                v = lp.run(s.config)
                if tid % 5 == 4:
                    b.tell(Told(trial_id=tid, suggestion=s, status="failed", loss=None))
                else:
                    b.tell(Told(trial_id=tid, suggestion=s, status="done", loss=v, objective=v))
                tid += 1
            pending = pending[2:]
        return out, pending

    a, pending = run(5)
    assert a == run(5)[0]
    flat = [tuple(c.values()) for batch in a for c in batch]
    assert len(set(flat)) == len(flat), "a batch or a pending point was proposed twice"
    # the constant liar spreads a model batch out (without it the 4 points nearly coincide)
    unit = np.array([[(c["x1"] + 5) / 15, c["x2"] / 15] for c in a[-1]])
    gaps = [np.linalg.norm(unit[i] - unit[j]) for i in range(4) for j in range(i)]
    assert min(gaps) > 0.02, gaps


# -- other surrogates and acquisitions --------------------------------------------------
@pytest.mark.parametrize("options", [
    {"base_estimator": "RF"}, {"base_estimator": "ET"}, {"base_estimator": "GBRT"},
    {"acq_func": "EI"}, {"acq_func": "PI"}, {"acq_func": "LCB", "kappa": 0.5},
])
def test_every_surrogate_and_acquisition_suggests_valid_points(options):
    lp = load_problem(MIXED)
    b = make_scheduler("bayesian", lp.problem, 1, {"initial_points": 1, **options})
    got = drive(b, lp.run, limit=6)
    assert len(got) == 6 and len({repr(s.config) for s in got}) == 6
    for s in got:
        assert lp.problem.check(s.config) == s.config


# -- options on the command line ---------------------------------------------------------
@pytest.mark.parametrize("args,message", [
    (["--initial-points", "-1"], "--initial-points must be an integer >= 0, got -1"),
    (["--kappa", "-2"], "--kappa must be a finite number >= 0, got -2.0"),
    (["--xi", "nan"], "--xi must be a finite number >= 0, got nan"),
    (["--eta", "3"], "--eta: does not apply to --algo bayesian"),
    (["--max-train", "1"], "--max-train must be an integer >= 2, got 1"),
])
def test_bad_options_exit_2_with_one_line(runner, in_tmp, args, message):
    res = runner.invoke(cli, ["run", "-p", "branin", "--algo", "bayesian", *args])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) <= 3


def test_skopt_alias_and_options_pass_through(runner, in_tmp):
    res = runner.invoke(cli, ["run", "-p", "branin", "--algo", "skopt", "--max-evals", "6", "--seed", "1",
                              "--evaluator", "serial", "--initial-points", "2", "--base-estimator", "et",
                              "--acq-func", "lcb", "--kappa", "3", "--run-dir", "r"])
    assert res.exit_code == 0, res.output
    from hpsearch.store import RunStore

    with RunStore.open("r", readonly=True) as store:
        assert store.settings["algo"] == "bayesian"
        assert store.settings["algo_options"]["base_estimator"].upper() == "ET"
        assert len(store.trials()) == 6


def test_multi_fidelity_model_needs_d_plus_2_results_counting_a_categorical_once():
    from hpsearch.search.searchers.bayesian import BayesianSearcher

    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("act", ["relu", "tanh", "elu", "selu", "gelu"], default="relu")  # five one-hot columns
    import copy

    def after(results: int) -> tuple[dict, dict]:
        """The next proposal after ``results`` results at budget 3, and what a random draw would be."""
        s = BayesianSearcher(p, 0, multi_fidelity=True, initial_points=0, random_fraction=0.0)
        for i, config in enumerate(s.suggest(results)):  # the default, then random draws
            s.observe(config, 3, float(i))
        rng = copy.deepcopy(s.rng)
        return s.suggest(1)[0], p.check(p.sample(rng))

    s = BayesianSearcher(p, 0, multi_fidelity=True, initial_points=0, random_fraction=0.0)
    assert s.results_needed() == 4  # d + 2 with d = 2 dimensions, not 1 + 5 encoded columns
    proposal, random_draw = after(3)
    assert proposal == random_draw  # too few results: still a random draw
    proposal, random_draw = after(4)
    assert proposal != random_draw  # 4 = d + 2 results: the model, fitted at budget 3, proposes


def test_a_warm_start_the_model_can_fit_on_replaces_every_initial_random_draw():
    import copy

    from hpsearch.search.base import Observation
    from hpsearch.search.searchers.bayesian import BayesianSearcher

    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("y", (0.0, 1.0), default=0.5)
    earlier = [Observation({"x": x, "y": 1 - x}, None, (x - 0.3) ** 2) for x in (0.1, 0.4, 0.7, 0.9)]
    s = BayesianSearcher(p, 0, initial_points=10, warm_incumbents=2)
    assert s.warm_start(earlier) == 4  # four evaluations: fewer than the ten initial points
    rng = copy.deepcopy(s.rng)
    first = s.suggest(4)
    # the two best, evaluated again, then the problem's defaults (a starting point the earlier run lacks)
    assert first[:3] == [{"x": 0.4, "y": 1 - 0.4}, {"x": 0.1, "y": 1 - 0.1}, p.defaults]
    # then the model (which fits on two results under fifo), not the remaining six initial random draws
    assert first[3] != p.check(p.sample(rng))


def test_a_warm_start_evaluates_more_earlier_best_only_while_the_objective_shows_noise():
    from hpsearch.search.base import Observation
    from hpsearch.search.searchers.bayesian import BayesianSearcher

    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    xs = (0.1, 0.2, 0.3, 0.4)
    earlier = [Observation({"x": x}, 9, x) for x in xs]
    ranked = [{"x": x} for x in xs]

    def searcher(observations):
        s = BayesianSearcher(p, 0, multi_fidelity=True)
        s.warm_start(observations, incumbents=1, more_if_noisy=2)
        return s

    # the earlier runs themselves evaluated one configuration twice with two values: noisy from the start
    s = searcher([*earlier, Observation({"x": 0.3}, 9, 0.35)])
    assert s.noisy and s.suggest(3) == ranked[:3]
    # a deterministic objective: the incumbent evaluated again gives its earlier value, the model goes on
    s = searcher(earlier)
    assert s.suggest(1) == ranked[:1] and not s.noisy
    s.observe(ranked[0], 9, 0.1)
    nxt = s.suggest(1)
    assert nxt[0] not in ranked and s.more_incumbents == []
    # another value for it: noisy, so the next best are evaluated again too
    s = searcher(earlier)
    s.suggest(1)
    s.observe(ranked[0], 9, 0.12)
    assert s.noisy and s.suggest(2) == ranked[1:3]


def test_the_kde_model_needs_two_more_results_than_free_dimensions_and_none_when_all_are_fixed():
    from hpsearch.search.presets import searcher_class

    kde = searcher_class("kde")
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("y", (1, 9), default=2)
    p.add_dim("c", ["a", "b"], default="a")
    assert kde(p, 0).results_needed() == 5
    assert kde(p.fix({"x": 0.2}), 0).results_needed() == 4
    assert kde(p.fix({"x": 0.2, "y": 3, "c": "b"}), 0).results_needed() is None  # nothing left to model


# -- many observations -------------------------------------------------------------------
def test_past_max_train_the_gp_is_fitted_on_a_bounded_set_that_keeps_the_best(monkeypatch):
    from hpsearch.search.base import Observation
    from hpsearch.search.searchers import bayesian
    from hpsearch.search.searchers.bayesian import BayesianSearcher

    lp = load_problem("branin")
    rng = np.random.default_rng(0)
    configs = [lp.problem.sample(rng) for _ in range(80)]
    earlier = [Observation(config=c, budget=None, loss=lp.run(c)) for c in configs]
    best = bayesian.EncodedSpace(lp.problem).encode(min(earlier, key=lambda o: o.loss).config)
    seen = []
    condition = bayesian._GP.condition
    monkeypatch.setattr(bayesian._GP, "condition", lambda gp, X, y: (seen.append(X), condition(gp, X, y))[1])

    def proposals() -> list[dict]:
        s = BayesianSearcher(lp.problem, 3, max_train=20)
        s.warm_start(earlier)
        out = s.suggest(4)  # a batch: the pending ones are lies added to the 20
        s.observe(out[0], None, lp.run(out[0]))
        return out + s.suggest(2)

    first = proposals()
    assert seen and max(len(X) for X in seen) <= 20 + 5  # 80 observations, at most 20 (+ pending) fitted
    assert all((X == best).all(axis=1).any() for X in seen)  # the incumbent is always among them
    assert proposals() == first  # the same seed and observations, the same proposals
    assert len({repr(c) for c in first}) == len(first)


@pytest.mark.parametrize("algo", ["bayesian", "asha+bayesian"])
def test_resume_past_max_train_equals_uninterrupted(tmp_path, algo):
    options = {"initial_points": 2, "max_train": 6}
    if algo != "bayesian":
        options.update(max_resource=9, eta=3, max_configs=30)
    common = dict(problem=str(MIXED), algo=algo.split("+")[0], searcher="bayesian", algo_options=options,
                  seed=4, evaluator="serial")
    full, resumed = run_full_and_resumed(tmp_path, common, k=11, n=24)
    assert resumed.n_replayed == 11
    assert rows(tmp_path / "part") == rows(tmp_path / "full")
    assert len(rows(tmp_path / "full")) == 24
