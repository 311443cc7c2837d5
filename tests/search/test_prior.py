"""The space's prior as the searchers use it (``--prior default|none``): densities, decay, draws, replay."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hpsearch import Categorical, Continuous, HpProblem, Ordinal
from hpsearch.problem.loader import load_problem
from hpsearch.search import OptionError, make_scheduler, searcher_class
from hpsearch.search.base import Told
from hpsearch.search.encoding import EncodedSpace
from hpsearch.search.prior import BETA, DEFAULT_MASS, EVIDENCE, UNIFORM_SHARE, WIDTH, Prior, PriorUse

from ..conftest import run_full_and_resumed
from .contract_scheduler import rows
from .contract_searcher import MIXED


def one_dim(spec, default=None, **kw) -> tuple[Prior, EncodedSpace]:
    p = HpProblem()
    p.add_dim("a", spec, default=default, **kw)
    enc = EncodedSpace(p)
    return Prior(enc), enc


def density_on_grid(prior: Prior, enc: EncodedSpace, n: int = 2001) -> tuple[np.ndarray, np.ndarray]:
    u = np.linspace(0.0, 1.0, n)
    return u, np.exp(prior.log_density(u[:, None]))


# -- the density of each kind of dimension -----------------------------------------------------
def test_a_uniform_range_peaks_at_its_default_and_integrates_to_one():
    prior, enc = one_dim((0.0, 10.0), default=2.0)
    u, dens = density_on_grid(prior, enc)
    assert u[np.argmax(dens)] == pytest.approx(0.2, abs=1e-3)
    assert np.trapezoid(dens, u) == pytest.approx(1.0, abs=1e-3)  # relative to uniform on the cube
    # a normal of sd WIDTH (in encoded units) truncated to [0, 1]: the ratio of two points says so
    ratio = prior.log_density(np.array([[0.2]]))[0] - prior.log_density(np.array([[0.2 + WIDTH]]))[0]
    assert ratio == pytest.approx(0.5)


def test_a_log_uniform_range_is_centred_on_its_default_on_the_log_scale():
    prior, enc = one_dim((1e-4, 1.0, "log-uniform"), default=1e-3)
    u, dens = density_on_grid(prior, enc)
    assert u[np.argmax(dens)] == pytest.approx(0.25, abs=1e-3)  # log10: -3 of [-4, 0]


def test_a_declared_normal_prior_wins_over_the_default():
    prior, enc = one_dim(Continuous(0.0, 10.0, prior="normal", mu=7.0, sigma=1.0), default=2.0)
    u, dens = density_on_grid(prior, enc)
    assert u[np.argmax(dens)] == pytest.approx(0.7, abs=1e-3)
    ratio = prior.log_density(np.array([[0.7]]))[0] - prior.log_density(np.array([[0.8]]))[0]
    assert ratio == pytest.approx(0.5)  # sd 1 in a range of 10: 0.1 in encoded units
    assert np.trapezoid(dens, u) == pytest.approx(1.0, abs=1e-3)


def test_a_log_normal_prior_uses_its_mu_and_sigma_in_log_units():
    prior, enc = one_dim(Continuous(1e-4, 1.0, prior="log-normal", mu=math.log(1e-2), sigma=1.0))
    u, _ = density_on_grid(prior, enc)
    assert u[np.argmax(np.exp(prior.log_density(u[:, None])))] == pytest.approx(0.5, abs=1e-3)


def test_an_ordinal_list_puts_most_mass_on_its_default_and_sums_to_one():
    prior, enc = one_dim(Ordinal(values=[16, 32, 64, 128, 256]), default=64)
    pos = np.arange(5)[:, None] / 4
    p = np.exp(prior.log_density(pos)) / 5  # relative to uniform: times 1/5 is the probability
    assert p.sum() == pytest.approx(1.0)
    assert int(np.argmax(p)) == 2 and p[0] == pytest.approx(p[4])


def test_a_categorical_favours_its_default_unless_weights_are_declared():
    prior, enc = one_dim(["a", "b", "c", "d"], default="c")
    probs = np.exp(prior.log_density(np.eye(4))) / 4
    assert probs == pytest.approx([(1 - DEFAULT_MASS) / 4] * 2 + [DEFAULT_MASS + (1 - DEFAULT_MASS) / 4]
                                  + [(1 - DEFAULT_MASS) / 4])
    weighted, _ = one_dim(Categorical(["a", "b"], weights=[3, 1]), default="b")
    assert np.exp(weighted.log_density(np.eye(2))) / 2 == pytest.approx([0.75, 0.25])


def test_an_inactive_dimension_adds_nothing():
    prior, enc = one_dim((0.0, 1.0), default=0.5)
    assert prior.log_density(np.array([[enc.inactive]]))[0] == 0.0


def test_draws_follow_the_density():
    lp = load_problem(MIXED)
    use = PriorUse(lp.problem)
    X = use.prior.draw(4000, np.random.default_rng(0))
    configs = [use.enc.decode(x) for x in X[:2000]]
    acts = [c["act"] for c in configs]
    assert abs(acts.count("sigmoid") / len(acts) - (DEFAULT_MASS + (1 - DEFAULT_MASS) / 3)) < 0.03
    xs = np.array([c["x"] for c in configs])  # default 4.0 in [-5, 5]: sd 2.5, truncated above at 5
    assert abs(np.median(xs) - 3.0) < 0.4 and xs.max() <= 5.0


# -- the decay, and the evidence that overrules a prior -----------------------------------------
def test_the_acquisition_weight_fades_as_beta_over_n():
    lp = load_problem(MIXED)
    use = PriorUse(lp.problem)
    X = use.prior.draw(5, np.random.default_rng(1))
    log_prior = use.log_density(X)
    assert use.log_weight(X, 10) == pytest.approx(log_prior * BETA / 10)
    assert use.log_weight(X, 40) == pytest.approx(log_prior * BETA / 40)


def test_evidence_against_the_prior_moves_random_draws_to_the_incumbent():
    p = HpProblem()
    for i in range(3):
        p.add_dim(f"x{i}", (0.0, 1.0), default=1.0)  # the prior says: the corner
    use = PriorUse(p)
    uniform, prior, local, incumbent = use.prior.mix(use.observations)
    assert (uniform, prior, local, incumbent) == (UNIFORM_SHARE, 1 - UNIFORM_SHARE, 0.0, None)
    assert use.trust() == 1.0
    rng = np.random.default_rng(0)
    for _ in range(3 * EVIDENCE):  # the best configurations sit at the other corner
        config = {f"x{i}": float(v) for i, v in enumerate(rng.random(3) * 0.3)}
        use.observe(config, None, sum(config.values()))
    _u, prior, local, incumbent = use.prior.mix(use.observations)
    assert local > 0.99 * (1 - UNIFORM_SHARE) and prior < 0.01
    assert use.trust() < 0.01
    draws = [use.random_draw(rng) for _ in range(200)]
    near = sum(all(c[f"x{i}"] < 0.6 for i in range(3)) for c in draws)
    assert near > 0.6 * 200  # local draws and a share of uniform ones; the corner is left


def test_evidence_for_the_prior_keeps_its_weight_in_the_acquisition():
    p = HpProblem()
    for i in range(3):
        p.add_dim(f"x{i}", (0.0, 1.0), default=0.2)
    use = PriorUse(p)
    rng = np.random.default_rng(0)
    for _ in range(3 * EVIDENCE):  # the best configurations sit where the prior says
        config = {f"x{i}": float(v) for i, v in enumerate(rng.random(3))}
        use.observe(config, None, sum(abs(v - 0.2) for v in config.values()))
    assert use.trust() > 0.9
    X = use.prior.draw(4, rng)
    assert use.log_weight(X, 30) == pytest.approx(use.log_density(X) * use.trust() * BETA / 30)


# -- the searchers with the prior on ------------------------------------------------------------
@pytest.mark.parametrize("name", ["random", "kde", "bayesian"])
def test_prior_draws_stay_near_the_defaults_and_none_changes_nothing(name):
    lp = load_problem(MIXED)
    opts = {"initial_points": 50} if name == "bayesian" else {}
    on = searcher_class(name)(lp.problem, 3, prior="default", **opts)
    off = searcher_class(name)(lp.problem, 3, prior="none", **opts)
    plain = searcher_class(name)(lp.problem, 3, **opts)
    xs_on = [c["x"] for c in on.suggest(200)[2:]]
    got_off = off.suggest(200)
    assert got_off == plain.suggest(200)  # 'none' is the searcher as it was
    xs_off = [c["x"] for c in got_off[2:]]
    near = [sum(abs(x - 4.0) < 1.5 for x in xs) for xs in (xs_on, xs_off)]
    assert near[0] > 1.5 * near[1]


@pytest.mark.parametrize("algo,searcher", [("random", None), ("bayesian", None), ("bayesian", "kde"),
                                           ("hyperband", None), ("bohb", "kde")])
def test_same_seed_same_suggestions_with_the_prior(algo, searcher):
    lp = load_problem(MIXED)

    def run(seed):
        opts = {"prior": "default"}
        if algo == "bayesian" and searcher is None:
            opts["initial_points"] = 2
        if algo in ("hyperband", "bohb"):
            opts["max_resource"] = 9
        s = make_scheduler(algo, lp.problem, seed, opts, searcher=searcher)
        out = []
        for _ in range(6):
            got = s.ask(3)
            assert isinstance(got, list)
            for sug in got:
                loss = -lp.run(dict(sug.config))
                s.tell(Told(trial_id=len(out), suggestion=sug, status="done", loss=loss, objective=-loss))
                out.append(repr(sorted(sug.config.items())))
        return out

    assert run(4) == run(4)
    assert run(4) != run(5)


@pytest.mark.parametrize("algo,searcher", [("bohb", None), ("hyperband", None), ("bayesian", "kde")])
def test_resume_equals_uninterrupted_with_the_prior_on(tmp_path, algo, searcher):
    opts = {"prior": "default"} if algo == "bayesian" else {"prior": "default", "max_resource": 9}
    common = dict(problem=str(MIXED), algo=algo, searcher=searcher, seed=7, evaluator="serial",
                  algo_options=opts)
    full, resumed = run_full_and_resumed(tmp_path, common, k=8, n=18)
    assert resumed.n_replayed == 8
    assert rows(tmp_path / "part") == rows(tmp_path / "full")


def test_an_unknown_prior_is_one_line_naming_the_choices():
    lp = load_problem(MIXED)
    with pytest.raises(OptionError, match=r"--prior: expected one of default, none, got 'bad'"):
        make_scheduler("random", lp.problem, 0, {"prior": "bad"})


def test_a_multi_objective_problem_refuses_the_prior_in_one_line(runner):
    from hpsearch.cli import cli

    out = runner.invoke(cli, ["run", "-p", "zdtshift", "--algo", "random", "--prior", "default", "--max-evals", "2",
                              "--evaluator", "serial", "--run-dir", "unused"])
    assert out.exit_code == 2
    assert out.output.strip().splitlines() == [
        "Error: --searcher random: --prior default is for one objective (its evidence ranks single losses); "
        "a multi-objective problem takes --prior none"]
