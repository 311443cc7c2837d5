"""The bayesian searcher's rules on hand-computed or reference cases: the acquisition functions, the GP
posterior (scikit-learn's, computed faster), the refit schedule of its hyperparameters, failures told as
the worst loss, and proposals that do not depend on the objective's units."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from hpsearch import HpProblem
from hpsearch.search.searchers import bayesian
from hpsearch.search.searchers.bayesian import _GP, BayesianSearcher, _acquisition

# -- acquisitions ----------------------------------------------------------------------------
MU = np.array([-1.0, 0.0, 0.3, 2.0])
SD = np.array([0.5, 1.0, 0.1, 2.0])


def test_lcb_is_the_mean_less_kappa_standard_deviations():
    assert _acquisition("LCB", MU, SD, best=0.0, xi=0.5, kappa=1.5) == pytest.approx(MU - 1.5 * SD)


def test_pi_is_the_negated_probability_of_improving_on_best_less_xi():
    z = (0.2 - 0.1 - MU) / SD
    assert _acquisition("PI", MU, SD, best=0.2, xi=0.1, kappa=9.0) == pytest.approx(-norm.cdf(z))


def test_ei_is_the_negated_expected_improvement():
    best, xi = 0.2, 0.1
    z = (best - xi - MU) / SD
    ei = (best - xi - MU) * norm.cdf(z) + SD * norm.pdf(z)
    assert _acquisition("EI", MU, SD, best=best, xi=xi, kappa=9.0) == pytest.approx(-ei)
    assert (ei >= 0).all()


# -- the Gaussian process ----------------------------------------------------------------------
def data(n: int = 12, d: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = np.sin(3 * X[:, 0]) + X[:, -1] ** 2
    return X, (y - y.mean()) / y.std()


def test_the_posterior_is_scikit_learns_with_the_fitted_kernel():
    from sklearn.gaussian_process import GaussianProcessRegressor

    X, y = data()
    gp = _GP(2)
    gp.fit_hyper(X, y, seed=0)
    gp.condition(X, y)
    Xc = np.random.default_rng(1).random((30, 2))
    mu, sd = gp.predict(Xc)
    ref = GaussianProcessRegressor(kernel=gp.kernel, optimizer=None, alpha=1e-10).fit(X, y)
    mu_ref, sd_ref = ref.predict(Xc, return_std=True)
    noise = gp.kernel.k2.noise_level
    assert mu == pytest.approx(mu_ref, abs=1e-6)
    # scikit-learn's standard deviation includes the white noise; the searcher's is the latent function's
    assert sd ** 2 == pytest.approx(np.maximum(sd_ref ** 2 - noise, 1e-12 ** 2), abs=1e-6)
    at_data, sd_data = gp.predict(X)
    assert at_data == pytest.approx(y, abs=0.2) and (sd_data < sd.mean()).all()


def test_the_kernel_hyperparameters_are_fitted_by_maximum_likelihood():
    X, y = data(20)
    gp = _GP(2)
    before = gp.kernel.theta.copy()
    gp.fit_hyper(X, y, seed=0)
    assert not np.allclose(gp.kernel.theta, before)
    assert gp.kernel.k1.k2.length_scale.shape == (2,)  # one length scale per column


def test_a_singular_kernel_matrix_is_conditioned_with_more_jitter():
    X = np.array([[0.5, 0.5], [0.5, 0.5], [0.2, 0.8]])
    y = np.array([1.0, 1.0, -1.0])
    gp = _GP(2)
    gp.kernel = gp.kernel.clone_with_theta(np.log([1.0, 1.0, 1.0, 1e-300]))
    gp.condition(X, y)
    mu, sd = gp.predict(X)
    assert np.isfinite(mu).all() and np.isfinite(sd).all()
    assert mu[0] == pytest.approx(1.0, abs=0.1)


def test_hyperparameters_are_refitted_after_each_observation_to_ten_then_every_ten_percent(monkeypatch):
    calls = []
    monkeypatch.setattr(bayesian, "_lbfgs", lambda obj, theta, bounds: calls.append(1) or (theta, obj(theta)[0]))
    gp = _GP(1)
    fits = []
    X, y = data(40, 1)
    for n in range(1, 41):
        before = len(calls)
        gp.fit_hyper(X[:n], y[:n], seed=n)
        if len(calls) > before:
            fits.append((n, len(calls) - before))
    # 3 starts (2 random restarts) on the first fit and whenever the data doubled since the last such fit
    assert fits == [(1, 3), (2, 3), (3, 1), (4, 3), (5, 1), (6, 1), (7, 1), (8, 3), (9, 1), (10, 1),
                    (11, 1), (12, 1), (13, 1), (14, 1), (15, 1), (16, 3), (17, 1), (18, 1), (19, 1), (20, 1),
                    (22, 1), (24, 1), (26, 1), (28, 1), (30, 1), (33, 3), (36, 1), (39, 1)]


def test_the_refit_schedule_counts_every_observation_when_fitted_on_a_subset(monkeypatch):
    calls = []
    monkeypatch.setattr(bayesian, "_lbfgs", lambda obj, theta, bounds: calls.append(1) or (theta, obj(theta)[0]))
    gp = _GP(1)
    X, y = data(10, 1)
    gp.fit_hyper(X, y, seed=0, n=100)
    assert len(calls) == 3
    gp.fit_hyper(X, y, seed=0, n=109)  # due at 110
    assert len(calls) == 3
    gp.fit_hyper(X, y, seed=0, n=110)
    assert len(calls) == 4


# -- the searcher ---------------------------------------------------------------------------------
def problem() -> HpProblem:
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("z", (0.0, 1.0), default=0.5)
    return p


OBSERVED = [({"x": 0.1, "z": 0.2}, 0.9), ({"x": 0.8, "z": 0.3}, 0.2), ({"x": 0.4, "z": 0.9}, 0.5),
            ({"x": 0.6, "z": 0.6}, 0.4), ({"x": 0.3, "z": 0.1}, 0.7)]


def proposals(losses, **options) -> list[dict]:
    s = BayesianSearcher(problem(), 4, initial_points=0, **options)
    for (config, _), loss in zip(OBSERVED, losses):
        s.observe(config, None, loss)
    s._starts = []
    return s.suggest(2) + s.suggest(1)


@pytest.mark.parametrize("acq_func", ["gp_hedge", "EI", "PI", "LCB"])
def test_proposals_do_not_depend_on_the_objectives_units(acq_func):
    losses = [v for _, v in OBSERVED]
    first = proposals(losses, acq_func=acq_func, xi=0.01)
    scaled = proposals([1000 * v - 7 for v in losses], acq_func=acq_func, xi=10.0)  # xi in the same units
    assert [pytest.approx(c, abs=1e-6) for c in first] == scaled


def test_a_failure_is_modelled_as_the_worst_loss_seen():
    losses = [v for _, v in OBSERVED]
    failed = losses[:]
    failed[3] = None
    worst = losses[:]
    worst[3] = max(v for v in losses if v is not None and v != losses[3])
    assert proposals(failed, acq_func="EI") == proposals(worst, acq_func="EI")
    assert proposals(failed, acq_func="EI") != proposals(losses, acq_func="EI")


def test_equal_losses_do_not_break_the_model():
    out = proposals([0.5] * 5, acq_func="EI")
    assert len(out) == 3 and all(problem().check(c) == c for c in out)


def test_without_free_dimensions_every_proposal_is_a_draw_and_no_model_is_needed():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    s = BayesianSearcher(p.fix({"x": 0.25}), 0, multi_fidelity=True)
    assert s.results_needed() is None
    assert s.suggest(3) == [{"x": 0.25}] * 3
    assert BayesianSearcher(p, 0, multi_fidelity=True).results_needed() == 3
    assert BayesianSearcher(p, 0).results_needed() is None


@pytest.mark.parametrize("estimator", ["RF", "ET", "GBRT"])
def test_tree_surrogates_predict_a_positive_spread(estimator):
    X, y = data(30)
    trees = bayesian._Trees(estimator)
    trees.fit_hyper(X, y, seed=3)
    trees.condition(X, y)
    mu, sd = trees.predict(np.random.default_rng(2).random((20, 2)))
    assert mu.shape == sd.shape == (20,)
    assert (sd >= 1e-12).all() and np.isfinite(mu).all()
    assert np.corrcoef(trees.predict(X)[0], y)[0, 1] > 0.5


# -- the tree surrogates are scikit-optimize's --------------------------------------------------------
def test_gbrt_predicts_its_median_and_half_its_central_68_percent_band():
    from skopt.utils import cook_estimator

    X, y = data(30)
    trees = bayesian._Trees("GBRT")
    trees.fit_hyper(X, y, seed=2**31 + 5)  # seeds are taken modulo 2**31
    trees.condition(X, y)
    Xc = np.random.default_rng(2).random((20, 2))
    ref = cook_estimator("GBRT", random_state=5).fit(X, y)
    q = ref.predict(Xc, return_quantiles=True)  # 0.16, 0.5, 0.84
    mu, sd = trees.predict(Xc)
    assert mu == pytest.approx(q[:, 1])
    assert sd == pytest.approx(np.maximum((q[:, 2] - q[:, 0]) / 2, 1e-12))


@pytest.mark.parametrize("estimator", ["RF", "ET"])
def test_forests_predict_their_mean_and_spread(estimator):
    from skopt.utils import cook_estimator

    X, y = data(30)
    trees = bayesian._Trees(estimator)
    trees.fit_hyper(X, y, seed=2**31 + 5)
    trees.condition(X, y)
    Xc = np.random.default_rng(2).random((20, 2))
    ref = cook_estimator(estimator, random_state=5).fit(X, y)
    mu_ref, sd_ref = ref.predict(Xc, return_std=True)
    mu, sd = trees.predict(Xc)
    assert mu == pytest.approx(mu_ref) and sd == pytest.approx(np.maximum(sd_ref, 1e-12))
    assert sd.min() < 0.9  # the floor is tiny, not a unit spread


# -- warm starts and the initial random draws -------------------------------------------------------
def test_earlier_evaluations_too_few_for_the_model_stand_in_for_as_many_initial_draws():
    import copy

    from hpsearch.search.base import Observation

    s = BayesianSearcher(problem(), 0, initial_points=3, warm_incumbents=0)
    s._starts = []
    assert s.warm_start([Observation({"x": 0.3, "z": 0.3}, None, 0.5)]) == 1  # one: the model needs two
    kinds = []
    for i in range(3):
        rng = copy.deepcopy(s.rng)
        (c,) = s.suggest(1)
        kinds.append("random" if c == problem().sample(rng) else "model")
        s.observe(c, None, 0.1 * i)
    assert kinds == ["random", "random", "model"]  # 3 - 1 initial draws left, then the model


def test_a_warm_start_that_leaves_no_initial_draw_lets_the_model_start_once_it_can_fit():
    import copy

    from hpsearch.search.base import Observation

    s = BayesianSearcher(problem(), 0, initial_points=1, warm_incumbents=0)
    s._starts = []
    s.warm_start([Observation({"x": 0.3, "z": 0.3}, None, 0.5)])
    s.observe({"x": 0.7, "z": 0.6}, None, 0.25)  # a second result: the model can fit
    rng = copy.deepcopy(s.rng)
    assert s.suggest(1)[0] != problem().sample(rng)  # no initial draw left over


# -- which acquisition, the prior, several objectives ---------------------------------------------------
def nearest_observation(c) -> float:
    return min(math.hypot(c["x"] - o["x"], c["z"] - o["z"]) for o, _ in OBSERVED)


def test_lcb_explores_more_the_larger_kappa():
    greedy = proposals([v for _, v in OBSERVED], acq_func="LCB", kappa=0.0)
    bold = proposals([v for _, v in OBSERVED], acq_func="LCB", kappa=100.0)
    assert np.mean([nearest_observation(c) for c in bold]) > np.mean([nearest_observation(c) for c in greedy])


@pytest.mark.parametrize("acq_func", ["EI", "PI", "LCB", "gp_hedge"])
def test_the_prior_pulls_model_proposals_towards_the_defaults(acq_func):
    def distances(prior):
        s = BayesianSearcher(problem(), 2, initial_points=0, prior=prior, acq_func=acq_func)
        s._starts = []
        rng = np.random.default_rng(2)
        for _ in range(6):  # evidence that agrees with the prior
            x, z = float(rng.random()), float(rng.random())
            s.observe({"x": x, "z": z}, None, math.hypot(x - 0.5, z - 0.5))
        return [math.hypot(c["x"] - 0.5, c["z"] - 0.5) for c in s.suggest(4)]

    assert np.mean(distances("default")) < np.mean(distances("none"))


def test_several_objectives_give_valid_deterministic_model_proposals():
    p = HpProblem(objectives={"a": "minimize", "b": "minimize"})
    p.add_dim("x", (0.0, 1.0), default=0.5)

    def run():
        s = BayesianSearcher(p, 0, initial_points=0)
        for x in (0.1, 0.3, 0.6, 0.9):
            s.observe({"x": x}, None, (x, 1 - x))
        s.observe({"x": 0.5}, None, None)
        return s.suggest(3)

    first = run()
    assert first == run() and all(p.check(c) == c for c in first)


# -- budgets, asked configurations, warm starts, defaults ------------------------------------------------
def test_under_multi_fidelity_the_model_fits_the_largest_budget_with_enough_results():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    s = BayesianSearcher(p, 0, multi_fidelity=True, initial_points=0, random_fraction=0.0, acq_func="LCB",
                         kappa=0.0)
    s._starts = []
    rng = np.random.default_rng(0)
    for budget, centre, scale in [(1, 0.1, 0.01), (3, 0.9, 1.0)]:  # budget 1's losses are all smaller
        for _ in range(8):
            x = float(rng.random())
            s.observe({"x": x}, budget, scale * (x - centre) ** 2)
    (c,) = s.suggest(1, full_budget=True)
    assert abs(c["x"] - 0.9) < 0.15, c  # the model of budget 3, where the mean is lowest


def test_a_warm_start_the_model_can_fit_on_leaves_no_initial_draw():
    import copy

    from hpsearch.search.base import Observation

    s = BayesianSearcher(problem(), 0, initial_points=10, warm_incumbents=0)
    s._starts = []
    s.warm_start([Observation(config, None, loss) for config, loss in OBSERVED])
    rng = copy.deepcopy(s.rng)
    assert s.suggest(1)[0] != problem().sample(rng)  # the model at once


def test_a_plain_suggest_is_one_model_proposal_and_full_budget_starts_come_from_the_model():
    import copy

    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    s = BayesianSearcher(p, 0, multi_fidelity=True, initial_points=0, random_fraction=1.0)
    s._starts = []
    for i in range(4):
        s.observe({"x": i / 4}, 9, float(i))
    rng = copy.deepcopy(s.rng)
    rng.random()  # the draw deciding random or not
    assert s.suggest() == [p.sample(rng)]  # one configuration, drawn at random (fraction 1)
    rng = copy.deepcopy(s.rng)
    assert s.suggest(1, full_budget=True) != [p.sample(rng)] and s.full_budget is True
