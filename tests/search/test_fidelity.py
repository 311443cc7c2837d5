"""The one rung ladder: exact levels at powers of eta and between them, for integer and real resources."""
from fractions import Fraction

import pytest

from hpsearch.search.base import OptionError
from hpsearch.search.brackets import plan, s_max
from hpsearch.search.fidelity import check_resources, rung_ladder
from hpsearch.search.schedulers.asha import rung_budgets


@pytest.mark.parametrize("R,eta,levels", [
    (81, 3, [1, 3, 9, 27, 81]),
    (243, 3, [1, 3, 9, 27, 81, 243]),
    (1000, 10, [1, 10, 100, 1000]),
    (3**10, 3, [3**k for k in range(11)]),
    (2**31, 2, [2**k for k in range(32)]),
])
def test_exact_powers_give_every_power_up_to_r(R, eta, levels):
    assert rung_ladder(R, eta, integer=True) == levels
    assert rung_ladder(R, eta, integer=True, anchor="min") == levels
    assert len(levels) - 1 == s_max(R, eta)


def test_exact_power_where_the_float_log_is_below_the_integer():
    # math.log(243, 3) is 4.999...: a ladder from a floating-point log would stop at 81
    assert len(rung_ladder(243, 3)) == 6  # s_max = 5
    assert rung_ladder(243, 3, integer=True)[-2:] == [81, 243]


def test_just_below_a_power_has_one_rung_less():
    R = 3**20 - 1  # log_3(R) is within 1e-9 of 20: floor(log + 1e-9) says 20
    assert len(rung_ladder(R, 3)) - 1 == 19
    assert rung_ladder(R, 3, integer=True)[-1] == R


@pytest.mark.parametrize("R,eta,top,bottom", [
    (100, 3, [1, 4, 11, 33, 100], [1, 3, 9, 27, 81]),
    (20, 3, [2, 7, 20], [1, 3, 9]),
    (80, 3, [3, 9, 27, 80], [1, 3, 9, 27]),
])
def test_non_powers_round_from_r_down_or_count_from_r_min_up(R, eta, top, bottom):
    assert rung_ladder(R, eta, integer=True) == top  # the top rung is R, each level rounded half up
    assert rung_ladder(R, eta, integer=True, anchor="min") == bottom  # the first rung is r_min
    assert rung_budgets(1, R, eta, True) == top
    assert [r.r for r in plan(R, eta)[0].rungs] == top


@pytest.mark.parametrize("R,eta,r_min,levels", [
    (50, 3, 5, [6, 17, 50]),  # 50/9 = 5.6 rounds to 6
    (81, 3, 2, [3, 9, 27, 81]),  # 81/27 = 3: still >= 2
    (10, 3, 3, [3, 10]),  # 10/3 = 3.33 rounds to 3, r_min itself
    (10, 2, 2.4, [3, 5, 10]),  # 10/4 = 2.5: a tie rounds up
    (9, 3, 2.5, [3, 9]),  # 9/3 = 3 >= ceil(2.5)
    (20, 3, 2.2, [3, 7, 20]),  # 20/9 = 2.2 rounds to 2, below r_min: ceil(2.2) = 3
])
def test_min_resource_not_dividing_r_never_goes_below_it(R, eta, r_min, levels):
    got = rung_ladder(R, eta, r_min, integer=True)
    assert got == levels
    assert all(type(r) is int for r in got)
    assert got[0] >= r_min and got[-1] == R
    assert [r.r for r in plan(R, eta, r_min)[0].rungs] == levels


def test_real_valued_resource_is_exact():
    assert rung_ladder(1.0, 3, 0.1) == [Fraction(1, 9), Fraction(1, 3), 1]
    assert rung_ladder(1.0, 3, 0.1, anchor="min") == [Fraction(1, 10), Fraction(3, 10), Fraction(9, 10)]
    # 0.1 * 3**5 is 24.3 exactly (a float product is 24.300000000000004)
    assert rung_ladder(24.3, 3, 0.1)[-1] == Fraction(243, 10) and len(rung_ladder(24.3, 3, 0.1)) == 6
    assert rung_ladder(24.3, 3, 0.1, anchor="min")[-1] == Fraction(243, 10)
    assert rung_budgets(0.1, 24.3, 3, False)[-1] == 24.3
    assert rung_ladder(0.5, 2, 0.125) == [Fraction(1, 8), Fraction(1, 4), Fraction(1, 2)]


def test_defaults_are_eta_3_and_r_min_1():
    assert rung_ladder(81, integer=True) == [1, 3, 9, 27, 81]
    assert rung_ladder(2, integer=True) == [2]  # r_min 1: 3 > 2


def test_r_min_equal_to_r_is_one_rung():
    assert rung_ladder(9, 3, 9, integer=True) == [9]


@pytest.mark.parametrize("args, message", [
    (dict(max_resource=81, eta=1), "eta must be an integer >= 2, got 1"),
    (dict(max_resource=81, eta=2.0), "eta must be an integer >= 2, got 2.0"),
    (dict(max_resource=81, eta=True), "eta must be an integer >= 2, got True"),
    (dict(max_resource=81, min_resource=0), "needs 0 < min_resource <= max_resource, got min_resource=0, "
                                            "max_resource=81"),
    (dict(max_resource=81, min_resource=100), "needs 0 < min_resource <= max_resource, got min_resource=100, "
                                              "max_resource=81"),
    (dict(max_resource=20.5, integer=True), "an integer resource needs an integer max_resource, got 20.5"),
    (dict(max_resource=81, anchor="middle"), "anchor must be 'max' or 'min', got 'middle'"),
    (dict(max_resource=float("inf")), "expected a finite number, got inf"),
])
def test_bad_arguments_raise(args, message):
    with pytest.raises(ValueError) as info:
        rung_ladder(**args)
    assert str(info.value) == message


# -- the resource options: R, r_min and eta ---------------------------------------------------------
def resource_problem(low, high):
    from hpsearch import HpProblem

    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("epochs", (low, high), default=low, resource=True)
    return p


def test_check_resources_defaults():
    assert check_resources(81, None, None) == (81, 1, 3)  # r_min 1, eta 3
    assert check_resources(20.5, None, 2) == (20.5, 1, 2)  # a real R is fine unless integer
    assert check_resources(None, 0.5, None) == (None, 0.5, 3)  # a pruner without a maximum
    with pytest.raises(OptionError) as info:
        check_resources(81, 0, None)
    assert str(info.value) == "--min-resource must be > 0, got 0"  # given, not a bound: no hint


def test_resource_values_take_the_resources_type_and_range():
    ints, reals = resource_problem(1, 27), resource_problem(0.5, 8.5)
    got = check_resources(None, None, None, dim=ints.resource)
    assert got == (27, 1, 3) and all(type(v) is int for v in got)
    got = check_resources(None, None, None, dim=reals.resource, integer=True)  # the resource decides
    assert got == (8.5, 0.5, 3) and type(got[0]) is float and type(got[1]) is float
    got = check_resources(4, 1, None, dim=reals.resource)
    assert got == (4.0, 1.0, 3) and type(got[0]) is float and type(got[1]) is float
    assert check_resources(9.0, 3.0, 3, dim=ints.resource) == (9, 3, 3)
    assert type(check_resources(9.0, 3.0, 3, dim=ints.resource)[0]) is int


@pytest.mark.parametrize("args, message", [
    ((None, None, None), "--min-resource must be > 0, got 0 (the lower bound of 'epochs'); pass --min-resource"),
    (("9", None, None), "--max-resource must be a number, got '9'"),
    ((True, 1, None), "--max-resource must be a number, got True"),
    ((9, 1, 1), "--eta must be an integer >= 2, got 1"),
])
def test_resource_option_messages(args, message):
    with pytest.raises(OptionError) as info:
        check_resources(*args, dim=resource_problem(0, 27).resource)
    assert str(info.value) == message


def test_resource_options_reads_each_option():
    from hpsearch.search.fidelity import resource_options

    r = resource_options(resource_problem(1, 27), {"eta": 2, "min_resource": 3, "max_resource": 24}, "asha")
    assert (r.eta, r.min_resource, r.max_resource, r.integer, r.dim.name) == (2, 3, 24, True, "epochs")
    assert r.typed(3.0) == 3 and type(r.typed(3.0)) is int


def test_resource_dimension_names_the_problem_when_told():
    from hpsearch import HpProblem
    from hpsearch.search.fidelity import resource_dimension

    with pytest.raises(OptionError, match=r"^--algo asha: problem 'branin' declares no resource dimension"):
        resource_dimension(HpProblem(), "asha", "branin")
    with pytest.raises(OptionError, match=r"^--algo asha: the problem declares no resource dimension"):
        resource_dimension(HpProblem(), "asha")
