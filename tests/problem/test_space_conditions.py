"""Conditional spaces, forbidden combinations, normal priors and step grids.

Random trees drawn by hypothesis check the promise every searcher relies on:
a configuration holds exactly its active dimensions and is never forbidden.
"""
import math
import statistics

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hpsearch import Categorical, Continuous, HpProblem, Ordinal, SpaceError
from hpsearch.problem.loader import ProblemLoadError, load_problem
from hpsearch.search import DONE, WAIT, Told, make_scheduler

from ..conftest import PROBLEMS

CONDTREE = PROBLEMS / "condtree"


# -- random trees -------------------------------------------------------------------
@st.composite
def trees(draw, resource: bool = False) -> HpProblem:
    """A random conditional problem: 2-7 dimensions, conditions on earlier discrete ones, forbidden pairs."""
    p = HpProblem(objective="y", direction="minimize")
    discrete: list[tuple[str, list]] = []
    for i in range(draw(st.integers(2, 7))):
        name = f"d{i}"
        kind = draw(st.sampled_from(["cat", "range", "list", "real", "real_step", "normal"]))
        when = None
        if discrete and draw(st.booleans()):
            parents = draw(st.lists(st.sampled_from(discrete), min_size=1, max_size=2, unique_by=lambda t: t[0]))
            when = {}
            for pname, values in parents:
                allowed = draw(st.lists(st.sampled_from(values), min_size=1, unique=True))
                when[pname] = allowed if len(allowed) > 1 or draw(st.booleans()) else allowed[0]
        if kind == "cat":
            values = [f"c{j}" for j in range(draw(st.integers(1, 4)))]
            p.add_dim(name, values, when=when)
            discrete.append((name, values))
        elif kind == "range":
            hi = draw(st.integers(1, 5))
            p.add_dim(name, (0, hi), when=when)
            discrete.append((name, list(range(hi + 1))))
        elif kind == "list":
            values = [1, 2, 4, 8][:draw(st.integers(1, 4))]
            p.add_dim(name, values, when=when)
            discrete.append((name, values))
        elif kind == "real":
            p.add_dim(name, (1e-3, 1.0, "log-uniform"), when=when)
        elif kind == "real_step":
            p.add_dim(name, (0.0, 0.9), step=0.1, when=when)
        else:
            p.add_dim(name, (0.0, 1.0, "normal"), mu=0.3, sigma=0.2, when=when)
    for _ in range(draw(st.integers(0, 2)) if discrete else 0):
        picks = draw(st.lists(st.sampled_from(discrete), min_size=1, max_size=2, unique_by=lambda t: t[0]))
        p.add_forbidden(**{n: draw(st.sampled_from(vs)) for n, vs in picks})
    if resource:
        p.add_dim("budget", (1, 9), resource=True)
    try:
        p.validate()
    except SpaceError as exc:  # a random clause may forbid the defaults: a declaration error
        assert "default configuration is forbidden" in str(exc)
        assume(False)
    return p


def consistent(p: HpProblem, config: dict) -> None:
    """``config`` holds exactly its active dimensions, valid values, and no forbidden combination."""
    assert list(config) == p.active(config), config
    assert p.check(config) == config
    assert not p.is_forbidden(config), config
    for d in p.dims:  # the definition, independently of active(): present iff every parent allows it
        on = all(q in config and config[q] in allowed for q, allowed in d.parents.items())
        assert (d.name in config) == on, (d.name, config)


QUICK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(p=trees(), seed=st.integers(0, 2**16))
def test_sampled_configurations_are_active_consistent_and_never_forbidden(p, seed):
    rng = np.random.default_rng(seed)
    for point in p.starting_points:
        consistent(p, point)
    for _ in range(30):
        consistent(p, p.sample(rng))


# Most random trees sample configurations with every dimension active, which assume() filters out: the
# filtering is expected here (without the suppression, an unlucky draw fails the health check).
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(p=trees(), seed=st.integers(0, 2**16))
def test_check_rejects_inactive_values_and_drop_inactive_removes_them(p, seed):
    rng = np.random.default_rng(seed)
    config = p.sample(rng)
    inactive = [d for d in p.dims if d.name not in config]
    assume(inactive)
    d = inactive[0]
    bloated = {**config, d.name: d.default}
    with pytest.raises(SpaceError, match=f"dimension '{d.name}': inactive in this configuration"):
        p.check(bloated)
    assert p.check(bloated, drop_inactive=True) == config
    assert p.complete(bloated) == config


def drive(backend, problem, n):
    """Ask one at a time, tell a made-up loss at once; return the configurations asked."""
    out = []
    while len(out) < n:
        got = backend.ask(1)
        if got is DONE:
            break
        assert got is not WAIT
        s = got[0]
        loss = float(sum(hash(repr(v)) % 97 for v in s.config.values()) / 97.0)
        backend.tell(Told(trial_id=len(out), suggestion=s, status="done", loss=loss, objective=loss))
        out.append(s.config)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("algo, searcher, options", [
    ("random", None, {}),
    ("hyperband", None, {"max_resource": 9, "eta": 3}),
    ("asha", None, {"max_resource": 9, "eta": 3}),
    ("random", "kde", {}),  # fifo + kde
    ("bohb", None, {"max_resource": 9, "eta": 3}),
    ("bohb", "kde", {"max_resource": 9, "eta": 3}),
    ("asha", "kde", {"max_resource": 9, "eta": 3}),
], ids=["random", "hyperband", "asha", "kde", "bohb", "bohb+kde", "asha+kde"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=trees(resource=True), seed=st.integers(0, 2**16))
def test_every_algorithm_suggests_only_consistent_configurations(algo, searcher, options, p, seed):
    backend = make_scheduler(algo, p, seed, dict(options), searcher=searcher)
    for config in drive(backend, p, 30):
        consistent(p, config)


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["GP", "RF", "ET", "GBRT"])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=trees(), seed=st.integers(0, 2**16))
def test_bayesian_suggests_only_consistent_configurations(estimator, p, seed):
    backend = make_scheduler("bayesian", p, seed, {"base_estimator": estimator, "initial_points": 2})
    for config in drive(backend, p, 8):
        consistent(p, config)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=trees(), seed=st.integers(0, 2**16))
def test_kde_model_proposals_are_consistent(p, seed):
    """Every proposal of the fitted densities (no random fraction under fifo) is consistent."""
    backend = make_scheduler("random", p, seed, {}, searcher="kde")
    for config in drive(backend, p, 40):
        consistent(p, config)


# -- the explicit tree, sampling top-down, chains, --fix pruning ---------------------
def svm_space() -> HpProblem:
    p = HpProblem()
    p.add_dim("kernel", ["linear", "rbf", "poly"], default="rbf")
    p.add_dim("gamma", (1e-4, 10.0, "log-uniform"), default=0.1, when={"kernel": ["rbf", "poly"]})
    p.add_dim("degree", (2, 5), default=3, when={"kernel": "poly"})
    p.add_dim("coef0", (0.0, 1.0), default=0.0, when={"degree": [4, 5]})  # a child of a child
    p.add_dim("penalty", ["l1", "l2"], default="l2")
    p.add_dim("solver", ["lbfgs", "saga"], default="lbfgs")
    p.add_forbidden(penalty="l1", solver="lbfgs")
    return p


def test_conditions_and_chains_decide_which_dimensions_exist():
    p = svm_space()
    assert p.defaults == {"kernel": "rbf", "gamma": 0.1, "penalty": "l2", "solver": "lbfgs"}
    assert p.active({"kernel": "poly", "degree": 4}) == ["kernel", "gamma", "degree", "coef0", "penalty",
                                                        "solver"]
    assert p.active({"kernel": "poly", "degree": 3}) == ["kernel", "gamma", "degree", "penalty", "solver"]
    assert p.active({"kernel": "linear", "degree": 4}) == ["kernel", "penalty", "solver"]
    seen = {tuple(p.sample(np.random.default_rng(i))) for i in range(300)}
    assert ("kernel", "penalty", "solver") in seen
    assert ("kernel", "gamma", "degree", "coef0", "penalty", "solver") in seen
    assert all(not p.is_forbidden(p.sample(np.random.default_rng(i))) for i in range(300))
    assert p.is_forbidden({"penalty": "l1", "solver": "lbfgs"})
    with pytest.raises(SpaceError, match="forbidden by add_forbidden\\(penalty='l1', solver='lbfgs'\\)"):
        p.check({"kernel": "linear", "penalty": "l1", "solver": "lbfgs"})
    with pytest.raises(SpaceError, match="dimension 'gamma': missing from the configuration"):
        p.check({"kernel": "rbf", "penalty": "l1", "solver": "saga"})


def test_unconditional_sampling_is_unchanged():
    """The same seed gives the same draws as before conditions existed: one draw per dimension."""
    p = HpProblem()
    p.add_dim("a", (0.0, 1.0))
    p.add_dim("b", ["x", "y", "z"])
    u = np.random.default_rng(5).random(2)
    assert p.sample(np.random.default_rng(5)) == {"a": u[0], "b": ["x", "y", "z"][int(u[1] * 3)]}


def test_fix_on_a_parent_prunes_the_tree():
    p = svm_space()
    q = p.fix({"kernel": "linear"})
    assert [d.name for d in q.free_dims] == ["penalty", "solver"]
    assert not q.can_be_active("coef0")
    rng = np.random.default_rng(0)
    assert all(set(q.sample(rng)) == {"kernel", "penalty", "solver"} for _ in range(50))
    assert q.starting_points == [{"kernel": "linear", "penalty": "l2", "solver": "lbfgs"}]
    with pytest.raises(SpaceError) as err:
        p.fix({"kernel": "linear", "gamma": "0.5"})
    assert str(err.value) == ("--fix: dimension 'gamma' is never active with --fix kernel='linear' "
                              "(it needs kernel in ['rbf', 'poly'])")
    with pytest.raises(SpaceError, match="--fix: the pinned values are forbidden by add_forbidden"):
        p.fix({"penalty": "l1", "solver": "lbfgs"})
    # pinning a parent to a value that activates a child brings the child's default into the start
    assert p.fix({"kernel": "poly"}).starting_points[0] == {"kernel": "poly", "gamma": 0.1, "degree": 3,
                                                            "penalty": "l2", "solver": "lbfgs"}


def test_rejection_keeps_the_rare_allowed_values():
    p = HpProblem()
    p.add_dim("a", list("abcdefghij"), default="a")
    p.add_dim("x", (0.0, 1.0))
    p.add_forbidden(a=list("bcdefghij"))
    rng = np.random.default_rng(0)
    assert all(p.sample(rng)["a"] == "a" for _ in range(20))


def test_effectively_empty_space_after_fix():
    p = HpProblem()
    p.add_dim("a", ["a", "b"], default="a")
    p.add_dim("b", ["u", "v"], default="u")
    p.add_forbidden(a="b", b=["u", "v"])
    q = p.fix({"a": "b"})
    assert q.starting_points == []  # the defaults are forbidden under the pin: skipped
    with pytest.raises(SpaceError) as err:
        q.sample(np.random.default_rng(0))
    assert "the space is effectively empty: 1000 draws in a row were forbidden" in str(err.value)
    assert "--fix a='b'" in str(err.value) and "\n" not in str(err.value)


# -- declaration errors: one line naming the file and the dimension ----------------------
BAD = [
    ('Problem.add_dim("k", ["a", "b"])\nProblem.add_dim("g", (0.0, 1.0), when={"kernel": "a"})',
     "dimension 'g': when: unknown parent 'kernel' (dimensions: k, g)"),
    ('Problem.add_dim("a", ["x", "y"], default="x", when={"b": "u"})\n'
     'Problem.add_dim("b", ["u", "v"], default="u", when={"a": "x"})',
     "dimension 'a': when: a cycle of conditions (a -> b -> a)"),
    ('Problem.add_dim("k", ["a", "b"])\nProblem.add_dim("g", (0.0, 1.0), when={"k": ["a", "c"]})',
     "dimension 'g': when: 'k' can never take 'c' (its values: {'a', 'b'})"),
    ('Problem.add_dim("n", (1, 4))\nProblem.add_dim("g", (0.0, 1.0), when={"n": 7})',
     "dimension 'g': when: 'n' can never take 7 (its values: [1, 4])"),
    ('Problem.add_dim("x", (0.0, 1.0))\nProblem.add_dim("g", (0.0, 1.0), when={"x": 0.5})',
     "dimension 'g': when: parent 'x' is continuous; a condition needs a categorical or ordinal parent"),
    ('Problem.add_dim("p", ["l1", "l2"], default="l1")\nProblem.add_dim("s", ["lbfgs", "saga"], default="lbfgs")\n'
     'Problem.add_forbidden(p="l1", s="lbfgs")',
     "dimension 'p': the default configuration is forbidden by add_forbidden(p='l1', s='lbfgs')"),
    ('Problem.add_dim("k", ["a", "b"], default="a")\nProblem.add_dim("g", (0.0, 1.0), when={"k": "b"})\n'
     'Problem.add_starting_point(k="a", g=0.5)',
     "dimension 'g': starting point sets 0.5, but the dimension is inactive there (it needs k in ['b'])"),
    ('Problem.add_dim("p", ["l1", "l2"], default="l2")\nProblem.add_dim("s", ["lbfgs", "saga"])\n'
     'Problem.add_forbidden(p="l1", s="lbfgs")\nProblem.add_starting_point(p="l1")',
     "dimension 'p': starting point p='l1' is forbidden by add_forbidden(p='l1', s='lbfgs')"),
    ('Problem.add_dim("p", ["l1", "l2"])\nProblem.add_forbidden(q="l1")',
     "dimension 'q': add_forbidden names an undeclared dimension"),
    ('Problem.add_dim("p", ["l1", "l2"])\nProblem.add_forbidden(p="l3")',
     "dimension 'p': add_forbidden: expected one of ['l1', 'l2'], got 'l3'"),
    ('Problem.add_dim("k", ["a", "b"])\nProblem.add_dim("e", (1, 9), resource=True, when={"k": "a"})',
     "dimension 'e': the resource cannot be conditional (multi-fidelity algorithms set it for every "
     "configuration)"),
    ('Problem.add_dim("e", (1, 9), resource=True)\nProblem.add_dim("g", (0.0, 1.0), when={"e": 9})',
     "dimension 'g': when: parent 'e' is the resource, which multi-fidelity algorithms change; a condition "
     "cannot depend on it"),
    ('Problem.add_dim("e", (1, 9), resource=True)\nProblem.add_dim("k", ["a", "b"])\n'
     'Problem.add_forbidden(e=9, k="a")',
     "dimension 'e': add_forbidden: the resource cannot be forbidden by value (multi-fidelity algorithms set it)"),
    ('Problem.add_dim("lr", (1e-4, 1e-1, "log-normal"), mu=0.0)',
     "dimension 'lr': log-normal needs exp(mu) within [0.0001, 0.1], got mu=0 (exp(mu)=1)"),
    ('Problem.add_dim("x", (0.0, 1.0, "normal"), sigma=0)', "dimension 'x': normal needs sigma > 0, got sigma=0"),
    ('Problem.add_dim("x", (0.0, 1.0), mu=0.5)',
     "dimension 'x': mu and sigma apply to the normal and log-normal priors, got prior='uniform'"),
    ('Problem.add_dim("x", (0.0, 0.9), step=0.1, default=0.25)',
     "dimension 'x': default 0.25 is invalid: expected a value on the grid 0 + k*0.1 within [0, 0.9], got 0.25"),
    ('Problem.add_dim("n", (16, 512), step=0.5)', "dimension 'n': step must be a positive integer, got step=0.5"),
    ('Problem.add_dim("n", [1, 2, 3], step=1)',
     "dimension 'n': step applies to ranges (a tuple), not to a list of choices, got [1, 2, 3]"),
    ('Problem.add_dim("x", (0.0, 1.0), stpe=0.1)',
     "dimension 'x': unknown option 'stpe' (add_dim takes default, resource, when, mu, sigma, step)"),
]


@pytest.mark.parametrize("body, message", BAD, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD)])
def test_bad_declarations_are_one_line_naming_file_and_dimension(make_problem, body, message):
    folder = make_problem("bad", problem="from hpsearch import HpProblem\nProblem = HpProblem()\n" + body + "\n",
                          model_run="def run(config): return 0\n")
    with pytest.raises(ProblemLoadError) as err:
        load_problem(folder)
    text = str(err.value)
    assert "\n" not in text
    assert text.endswith(f"bad/problem.py: {message}"), text


def test_explicit_classes_take_the_same_spellings():
    p = HpProblem()
    p.add_dim("kernel", Categorical(["linear", "rbf"]), default="rbf")
    p.add_dim("gamma", Continuous(1e-4, 1.0, prior="log-normal", mu=math.log(1e-2), sigma=1.0,
                                  when={"kernel": "rbf"}), default=1e-2)
    p.add_dim("units", Ordinal(16, 512, step=16, when={"kernel": "rbf"}), default=64)
    assert p.to_dict()["dims"][1]["when"] == {"kernel": ["rbf"]}
    assert p.to_dict()["dims"][1]["mu"] == pytest.approx(math.log(1e-2))
    assert p.to_dict()["dims"][2]["step"] == 16
    with pytest.raises(SpaceError, match="dimension 'x': a condition is given twice"):
        p.add_dim("x", Continuous(0.0, 1.0, when={"kernel": "rbf"}), when={"kernel": "rbf"})
    with pytest.raises(SpaceError, match="give step to Continuous\\(...\\), not to add_dim"):
        p.add_dim("y", Continuous(0.0, 1.0), step=0.1)


# -- priors and steps --------------------------------------------------------------------
def test_normal_priors_are_truncated_to_the_bounds_and_centred_on_mu():
    rng = np.random.default_rng(0)
    d = Continuous(0.0, 1.0, prior="normal", mu=0.8, sigma=0.1)
    xs = [d.sample(rng) for _ in range(4000)]
    assert all(0.0 <= x <= 1.0 for x in xs)
    assert statistics.median(xs) == pytest.approx(0.8, abs=0.02)
    assert statistics.stdev(xs) == pytest.approx(0.1 * 0.87, abs=0.02)  # truncated above at 2 sigma
    ln = Continuous(1e-5, 1.0, prior="log-normal", mu=math.log(1e-3), sigma=1.0)
    ys = [ln.sample(rng) for _ in range(4000)]
    assert all(1e-5 <= y <= 1.0 for y in ys)
    assert statistics.median(np.log(ys)) == pytest.approx(math.log(1e-3), abs=0.1)
    n = Ordinal(1, 100, prior="normal", mu=20, sigma=5)
    ns = [n.sample(rng) for _ in range(4000)]
    assert all(type(v) is int and 1 <= v <= 100 for v in ns)
    assert statistics.median(ns) in (19, 20)
    assert d.describe_prior() == "normal(mu=0.8, sigma=0.1)"
    assert Continuous(0.0, 1.0, prior="normal").mu == 0.5  # default: the middle, a quarter of the width
    assert Continuous(0.0, 1.0, prior="normal").sigma == 0.25


@given(u=st.floats(0, 1, exclude_max=True), prior=st.sampled_from(["uniform", "log-uniform", "normal",
                                                                    "log-normal"]))
def test_step_grids_hold_every_draw(u, prior):
    d = Continuous(0.1, 0.9, prior=prior, step=0.1)
    v = d.from_unit(u)
    assert d.check(v) == v and v in [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    n = Ordinal(16, 512, prior=prior, step=16)
    k = n.from_unit(u)
    assert type(k) is int and k % 16 == 0 and 16 <= k <= 512 and n.check(k) == k


def test_uniform_step_grid_is_uniform_and_off_grid_values_are_refused():
    d = Ordinal(16, 512, step=16)
    rng = np.random.default_rng(3)
    counts = np.bincount([(d.sample(rng) - 16) // 16 for _ in range(32000)], minlength=32)
    assert len(counts) == 32 and counts.min() > 850 and counts.max() < 1150  # 1000 each
    with pytest.raises(SpaceError, match="expected a value on the grid 16 \\+ k\\*16 within \\[16, 512\\], got 20"):
        d.check(20)
    assert Continuous(0.0, 0.9, step=0.1).check(0.30000000000000004) == 0.3
    assert Continuous(0.0, 0.9, step=0.1).nearest(0.33) == 0.3


# -- the bundled conditional benchmarks load and run -----------------------------------
def test_condbranches_optimum_is_in_the_deepest_branch():
    lp = load_problem("condbranches")
    best = lp.problem.check({"branch": "b", "n_b": 4, "y_b": 0.3, "z_b": 0.7})
    assert lp.run(best) == pytest.approx(lp.problem.optimum)
    rng = np.random.default_rng(0)
    values = [lp.run(lp.problem.sample(rng)) for _ in range(500)]
    assert min(values) > lp.problem.optimum


def test_cashdigits_each_family_runs(tmp_path):
    lp = load_problem("cashdigits")
    starts = lp.problem.starting_points
    assert [s["classifier"] for s in starts] == ["svc", "random_forest", "logreg"]
    for config in starts:
        assert 0.9 < lp.run(config)["val_accuracy"] <= 1.0
    assert lp.problem.is_forbidden({"classifier": "logreg", "lr_penalty": "l1", "lr_solver": "newton-cg"})
