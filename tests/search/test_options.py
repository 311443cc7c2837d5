"""The option rules every search component shares: one integer check, one number check, one choice check,
and the one-line message that names the flag, the rule and the value that broke it."""
import math

import pytest

from hpsearch.search import OptionError
from hpsearch.search.options import Option, check_choice, check_int, check_number, positive, resolve


# -- integers ------------------------------------------------------------------------------
@pytest.mark.parametrize("value,expected", [(3, 3), (3.0, 3), (-2, -2), (0, 0)])
def test_check_int_takes_integers_and_integral_floats(value, expected):
    out = check_int("--eta", value)
    assert out == expected and type(out) is int


@pytest.mark.parametrize("value", [3.5, True, False, "3", None, math.inf, -math.inf, math.nan])
def test_check_int_refuses_fractions_bools_text_and_infinities(value):
    with pytest.raises(OptionError) as info:
        check_int("--eta", value)
    assert str(info.value) == f"--eta must be an integer, got {value!r}"


def test_check_int_takes_the_least_value_itself_and_refuses_one_below():
    assert check_int("--eta", 2, least=2) == 2
    assert check_int("--eta", 2.0, least=2) == 2
    with pytest.raises(OptionError) as info:
        check_int("--eta", 1, least=2)
    assert str(info.value) == "--eta must be an integer >= 2, got 1"
    with pytest.raises(OptionError, match=r"^--eta must be an integer >= 0, got 2.5$"):
        check_int("--eta", 2.5, least=0)
    with pytest.raises(OptionError, match=r"^--eta must be an integer >= 0, got -1$"):
        check_int("--eta", -1, least=0)


# -- numbers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, 0.25, 1, 1.0])
def test_check_number_takes_finite_numbers_within_the_bounds_bounds_included(value):
    out = check_number("--xi", value, least=0.0, most=1.0)
    assert out == value and type(out) is float


@pytest.mark.parametrize("value,rule", [
    (-0.01, " >= 0 and <= 1"), (1.01, " >= 0 and <= 1"), (math.nan, " >= 0 and <= 1"),
    (math.inf, " >= 0 and <= 1"), (True, " >= 0 and <= 1"), ("0.5", " >= 0 and <= 1")])
def test_check_number_refuses_values_outside_the_bounds_with_both_bounds_named(value, rule):
    with pytest.raises(OptionError) as info:
        check_number("--xi", value, least=0.0, most=1.0)
    assert str(info.value) == f"--xi must be a finite number{rule}, got {value!r}"


def test_check_number_names_only_the_bounds_it_has():
    with pytest.raises(OptionError) as info:
        check_number("--kappa", -1.0, least=0.0)
    assert str(info.value) == "--kappa must be a finite number >= 0, got -1.0"
    with pytest.raises(OptionError) as info:
        check_number("--kappa", 2.5, most=2)
    assert str(info.value) == "--kappa must be a finite number <= 2, got 2.5"
    with pytest.raises(OptionError) as info:
        check_number("--kappa", math.nan)
    assert str(info.value) == "--kappa must be a finite number, got nan"
    assert check_number("--kappa", -1e9) == -1e9
    assert check_number("--kappa", 1e9, least=0.0) == 1e9
    assert check_number("--kappa", -1e9, most=0.0) == -1e9


def test_positive_takes_anything_above_zero_and_refuses_zero():
    assert positive("--xi", 1e-9) == 1e-9
    with pytest.raises(OptionError) as info:
        positive("--xi", 0.0)
    assert str(info.value) == "--xi must be > 0, got 0"
    with pytest.raises(OptionError, match=r"^--xi must be > 0, got -2.5$"):
        positive("--xi", -2.5)


# -- choices ---------------------------------------------------------------------------------
def test_check_choice_is_case_insensitive_and_returns_the_declared_spelling():
    assert check_choice("--acq-func", "ei", ("gp_hedge", "EI", "LCB")) == "EI"
    assert check_choice("--acq-func", "LCB", iter(["gp_hedge", "EI", "LCB"])) == "LCB"
    with pytest.raises(OptionError) as info:
        check_choice("--acq-func", "pi", iter(["gp_hedge", "EI"]))
    assert str(info.value) == "--acq-func: expected one of gp_hedge, EI, got 'pi'"
    with pytest.raises(OptionError, match=r"^--acq-func: expected one of EI, got 1$"):
        check_choice("--acq-func", 1, ["EI"])


# -- Option -----------------------------------------------------------------------------------
def test_an_options_flag_is_its_name_with_dashes_after_its_prefix():
    assert Option("max_resource", int, None, "R.").flag == "--max-resource"
    assert Option("grace_period", int, 1, "g.", prefix="pruner-").flag == "--pruner-grace-period"


def test_option_check_converts_by_type_and_leaves_none_to_the_component():
    n = Option("n", int, 5, "n.", least=1, most=10)
    assert n.check(None) is None
    assert n.check(10.0) == 10 and type(n.check(10.0)) is int
    assert n.check(1) == 1
    with pytest.raises(OptionError, match=r"^--n must be an integer >= 1, got 0$"):
        n.check(0)
    with pytest.raises(OptionError) as info:
        n.check(11)
    assert str(info.value) == "--n must be an integer <= 10, got 11"
    unbounded = Option("n", int, 5, "n.")
    assert unbounded.check(-7) == -7 and unbounded.check(10**6) == 10**6
    f = Option("frac", float, 0.5, "f.", least=0.0, most=1.0)
    assert f.check(1) == 1.0 and type(f.check(1)) is float
    with pytest.raises(OptionError, match=r"^--frac must be a finite number >= 0 and <= 1, got 1.5$"):
        f.check(1.5)
    c = Option("acq_func", str, "EI", "a.", choices=("EI", "LCB"))
    assert c.check("lcb") == "LCB"
    with pytest.raises(OptionError, match=r"^--acq-func: expected one of EI, LCB, got 'x'$"):
        c.check("x")
    s = Option("name", str, None, "free text.")
    assert s.check("anything") == "anything"


def test_option_check_runs_the_extra_validation_on_the_converted_value():
    seen = []

    def even(flag, value):
        seen.append((flag, value))
        if value % 2:
            raise OptionError(f"{flag} must be even, got {value}")
        return value * 10

    o = Option("k", int, 2, "k.", validate=even, prefix="x-")
    assert o.check(4.0) == 40
    assert seen == [("--x-k", 4)] and type(seen[0][1]) is int
    with pytest.raises(OptionError, match=r"^--x-k must be even, got 3$"):
        o.check(3)
    with pytest.raises(OptionError, match=r"^--xi must be > 0, got 0$"):
        Option("xi", float, 0.01, "xi.", validate=positive).check(0)


# -- resolve ---------------------------------------------------------------------------------
OPTS = (Option("eta", int, 3, "eta.", least=2), Option("kappa", float, 1.96, "kappa.", least=0.0),
        Option("grace_period", int, None, "g."))


def test_resolve_gives_every_declared_option_its_value_or_its_default():
    assert resolve(OPTS, {}, "scheduler x") == {"eta": 3, "kappa": 1.96, "grace_period": None}
    assert resolve(OPTS, {"eta": 4.0, "kappa": None, "grace_period": 2}, "scheduler x") == \
        {"eta": 4, "kappa": 1.96, "grace_period": 2}


def test_resolve_checks_each_given_value():
    with pytest.raises(OptionError, match=r"^--eta must be an integer >= 2, got 1$"):
        resolve(OPTS, {"eta": 1}, "scheduler x")


def test_resolve_refuses_an_option_the_component_does_not_take_and_lists_the_ones_it_takes():
    with pytest.raises(OptionError) as info:
        resolve(OPTS, {"max_configs": 3}, "scheduler hyperband")
    assert str(info.value) == ("--max-configs: does not apply to scheduler hyperband "
                               "(its options: --eta, --kappa, --grace-period)")
    with pytest.raises(OptionError) as info:
        resolve((), {"min_trials": 3}, "pruner median", prefix="pruner-")
    assert str(info.value) == "--pruner-min-trials: does not apply to pruner median (its options: none)"
