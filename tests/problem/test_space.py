"""The search space: shorthand kinds, validation messages, typed values, sampling."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpsearch import Categorical, Continuous, HpProblem, Ordinal, SpaceError
from hpsearch.problem.loader import ProblemLoadError, load_problem


def kinds(**specs):
    p = HpProblem()
    for name, spec in specs.items():
        p.add_dim(name, spec)
    return {d.name: (d.kind, d.prior) for d in p.dims}


def test_shorthand_follows_deephyper():
    assert kinds(a=(1, 9), b=(0.0, 0.9), c=(1e-4, 1e-1, "log-uniform"), d=[32, 64, 128],
                 e=["relu", "tanh"], f=[True, False], g=[1, "x"], h=(16, 1024, "log-uniform")) == {
        "a": ("ordinal", "uniform"), "b": ("continuous", "uniform"), "c": ("continuous", "log-uniform"),
        "d": ("ordinal", "uniform"), "e": ("categorical", "uniform"), "f": ("categorical", "uniform"),
        "g": ("categorical", "uniform"), "h": ("ordinal", "log-uniform")}


def test_explicit_classes_settle_ambiguity():
    p = HpProblem()
    p.add_dim("x", Continuous(1, 9))  # two ints, but continuous on purpose
    p.add_dim("n", Categorical([1, 2, 4]))  # numbers, but unordered on purpose
    p.add_dim("o", Ordinal(values=["low", "mid", "high"]))  # strings, but ordered
    assert [d.kind for d in p.dims] == ["continuous", "categorical", "ordinal"]
    assert p["x"].check(3) == 3.0 and type(p["x"].check(3)) is float


@pytest.mark.parametrize("spec, default, message", [
    ((5, 1), None, "needs low < high, got low=5, high=1"),
    ((1.0, 1.0), None, "needs low < high, got low=1, high=1"),
    ((0.0, 1.0, "log-uniform"), None, "log-uniform needs low > 0, got low=0.0"),
    ((0, 10, "log-uniform"), None, "log-uniform needs low > 0, got low=0"),
    ((0.0, 1.0), 2.0, "default 2.0 is invalid: expected a number in [0, 1], got 2.0"),
    ((1, 9), 10, "default 10 is invalid: expected an integer in [1, 9], got 10"),
    (["a", "b"], "c", "default 'c' is invalid: expected one of ['a', 'b'], got 'c'"),
    ([], None, "needs at least one choice, got an empty list"),
    ((0.0, 1.0, "gauss"), None,
     "prior must be one of uniform, log-uniform, normal, log-normal, got 'gauss'"),
    ({"a": 1}, None, "expected a tuple (range), a list (choices) or a Dimension, got dict"),
    (["a", "a"], None, "choices must be distinct"),
])
def test_bad_declarations_name_the_dimension_and_the_rule(spec, default, message):
    p = HpProblem()
    with pytest.raises(SpaceError) as err:
        p.add_dim("lr", spec, default=default)
    assert "dimension 'lr': " in str(err.value)
    assert message in str(err.value)


def test_duplicate_names_and_two_resources_are_refused():
    p = HpProblem()
    p.add_dim("epochs", (1, 9), resource=True)
    with pytest.raises(SpaceError, match="dimension 'epochs': declared twice"):
        p.add_dim("epochs", (1, 9))
    with pytest.raises(SpaceError, match="dimension 'steps': only one resource is allowed, 'epochs'"):
        p.add_dim("steps", (1, 9), resource=True)
    with pytest.raises(SpaceError, match="dimension 'act': a resource must be a numeric range"):
        p.add_dim("act", ["a", "b"], resource=True)


def test_bad_problem_settings():
    with pytest.raises(SpaceError, match="direction must be 'maximize' or 'minimize', got 'max'"):
        HpProblem(direction="max")


def test_errors_in_a_problem_file_name_the_file(make_problem):
    folder = make_problem("badlog", problem="""
        from hpsearch import HpProblem
        Problem = HpProblem()
        Problem.add_dim("lr", (0.0, 1.0, "log-uniform"))
    """, model_run="def run(config): return 0\n")
    with pytest.raises(ProblemLoadError) as err:
        load_problem(folder)
    assert str(err.value).endswith("problem.py: dimension 'lr': log-uniform needs low > 0, got low=0.0")
    assert "\n" not in str(err.value)


def test_defaults_are_the_first_starting_point_and_typed():
    p = HpProblem()
    p.add_dim("units", (16, 1024, "log-uniform"))  # no default: geometric middle
    p.add_dim("dropout", (0.0, 0.5))
    p.add_dim("batch", [32, 64, 128, 256])
    p.add_dim("act", ["relu", "tanh"])
    assert p.defaults == {"units": 128, "dropout": 0.25, "batch": 64, "act": "relu"}
    p.add_starting_point(units=512, act="tanh")
    assert p.starting_points == [p.defaults, {"units": 512, "dropout": 0.25, "batch": 64, "act": "tanh"}]
    with pytest.raises(SpaceError, match="dimension 'units': starting point: expected an integer in"):
        p.add_starting_point(units=5000)
    with pytest.raises(SpaceError, match="dimension 'nope': starting point names an undeclared"):
        p.add_starting_point(nope=1)


def test_check_returns_declared_types():
    p = HpProblem()
    p.add_dim("n", (1, 9))
    p.add_dim("x", (0.0, 1.0))
    p.add_dim("b", [32, 64])
    out = p.check({"n": 3.0, "x": 1, "b": 64.0})
    assert out == {"n": 3, "x": 1.0, "b": 64}
    assert [type(v) for v in out.values()] == [int, float, int]
    with pytest.raises(SpaceError, match="dimension 'n': expected an integer in \\[1, 9\\], got 3.5"):
        p.check({"n": 3.5, "x": 0.5, "b": 32})


def test_fix_parses_command_line_values():
    p = HpProblem()
    p.add_dim("n", (1, 9))
    p.add_dim("act", ["relu", "tanh"])
    p.add_dim("flag", [True, False])
    q = p.fix({"n": "4", "act": "tanh", "flag": "false"})
    assert q.fixed == {"n": 4, "act": "tanh", "flag": False}
    assert p.fixed == {}  # the original is untouched
    rng = np.random.default_rng(0)
    assert all(q.sample(rng)["n"] == 4 for _ in range(20))
    assert [d.name for d in q.free_dims] == []  # every dimension is pinned, the boolean one too
    with pytest.raises(SpaceError, match="--fix: dimension 'n': expected an integer in \\[1, 9\\], got 'x'"):
        p.fix({"n": "x"})
    with pytest.raises(SpaceError, match="--fix: no dimension 'm'"):
        p.fix({"m": "1"})


def test_direction_sign_is_in_one_place():
    assert HpProblem(direction="maximize").to_loss(0.9) == -0.9
    assert HpProblem(direction="minimize").to_loss(0.9) == 0.9


@given(low=st.floats(-1e6, 1e6), width=st.floats(1e-3, 1e6), u=st.floats(0, 1, exclude_max=True))
def test_continuous_draws_stay_in_range(low, width, u):
    d = Continuous(low, low + width)
    v = d.from_unit(u)
    assert d.low <= v <= d.high
    assert d.check(v) == v


@given(low=st.integers(1, 1000), width=st.integers(1, 10_000), u=st.floats(0, 1, exclude_max=True),
       log=st.booleans())
def test_integer_draws_stay_in_range_and_are_ints(low, width, u, log):
    d = Ordinal(low, low + width, prior="log-uniform" if log else "uniform")
    v = d.from_unit(u)
    assert type(v) is int and d.low <= v <= d.high


def test_uniform_integer_range_is_uniform():
    d = Ordinal(1, 4)
    rng = np.random.default_rng(1)
    counts = np.bincount([d.sample(rng) for _ in range(8000)], minlength=5)[1:]
    assert all(abs(c / 8000 - 0.25) < 0.02 for c in counts)
    assert math.isclose(Ordinal(1, 9).from_unit(0.999999), 9)
