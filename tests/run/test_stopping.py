"""``--stop-when``: each operator at, just below and just above its boundary; parsing; which metric a
condition reads; the first condition met ends the run."""
from __future__ import annotations

import math

import pytest

from hpsearch.errors import UsageError
from hpsearch.run.stopping import (
    StopCondition,
    StopConditionError,
    check_known,
    first_met,
    parse_condition,
    parse_conditions,
)

BELOW, AT, ABOVE = math.nextafter(0.98, 0.0), 0.98, math.nextafter(0.98, 1.0)


@pytest.mark.parametrize("op, below, at, above", [
    (">=", False, True, True),
    (">", False, False, True),
    ("<=", True, True, False),
    ("<", True, False, False),
])
def test_each_operator_at_and_around_its_boundary(op, below, at, above):
    c = parse_condition(f"acc{op}0.98")
    assert (c.holds(BELOW), c.holds(AT), c.holds(ABOVE)) == (below, at, above)
    assert (c.holds(-math.inf), c.holds(math.inf)) == (below, above)


@pytest.mark.parametrize("op", [">=", ">", "<=", "<"])
def test_first_met_applies_the_operator_to_the_stored_value(op):
    c = parse_condition(f"acc{op}0.98")
    met = {x: first_met([c], "loss", 1.0, {"acc": x}, 7) for x in (BELOW, AT, ABOVE)}
    assert {x for x, m in met.items() if m is not None} == {x for x in met if c.holds(x)}
    if met[AT] is not None:
        assert met[AT] == f"acc 0.98 {op} 0.98 at trial 7"


@pytest.mark.parametrize("text, metric, op, value", [
    ("val_accuracy>=0.98", "val_accuracy", ">=", 0.98),
    ("  loss < 1e-3 ", "loss", "<", 0.001),
    ("m:x.y-z<=-2", "m:x.y-z", "<=", -2.0),
    ("score>5", "score", ">", 5.0),
    ("_a<=0", "_a", "<=", 0.0),
])
def test_parse(text, metric, op, value):
    assert parse_condition(text) == StopCondition(metric, op, value)


@pytest.mark.parametrize("text, message", [
    ("acc=0.9", "expected METRIC>=VALUE (or <=, >, <), e.g. 'val_accuracy>=0.98', got 'acc=0.9'"),
    ("acc=>0.9", "got 'acc=>0.9'"),
    (">=0.9", "got '>=0.9'"),
    ("9acc>=1", "got '9acc>=1'"),
    ("acc>=", "'acc>='"),
    ("acc>=0.9 1", "got 'acc>=0.9 1'"),
    ("", "got ''"),
    ("acc>=high", "the value must be a finite number, got 'high' in 'acc>=high'"),
    ("acc>=nan", "the value must be a finite number, got 'nan' in 'acc>=nan'"),
    ("acc<=inf", "the value must be a finite number, got 'inf' in 'acc<=inf'"),
    ("acc<=-inf", "got '-inf'"),
])
def test_malformed_conditions_are_one_line_usage_errors(text, message):
    with pytest.raises(StopConditionError) as info:
        parse_condition(text)
    assert isinstance(info.value, UsageError)
    assert str(info.value).startswith("--stop-when: ") and message in str(info.value)
    assert "\n" not in str(info.value)


def test_none_is_malformed_and_no_conditions_is_an_empty_list():
    with pytest.raises(StopConditionError, match="got None"):
        parse_condition(None)
    assert parse_conditions(None) == [] and parse_conditions([]) == []
    assert parse_conditions(["a>1", "b<2"]) == [StopCondition("a", ">", 1.0), StopCondition("b", "<", 2.0)]


def test_str_is_the_condition_as_typed():
    assert [str(parse_condition(t)) for t in ("acc>=0.98", "loss<1e-06", "n>3", "x<=-2.5")] == [
        "acc>=0.98", "loss<1e-06", "n>3", "x<=-2.5"]


def test_the_objective_is_read_by_its_name_or_as_objective():
    by_name, generic, metric = (parse_condition(t) for t in ("loss<1", "objective<1", "acc<1"))
    assert by_name.value_in("loss", 0.5, {"acc": 2.0}) == 0.5
    assert generic.value_in("loss", 0.5, {"acc": 2.0}) == 0.5
    assert metric.value_in("loss", 0.5, {"acc": 2.0}) == 2.0
    assert metric.value_in("loss", 0.5, {}) is None
    # a value that is no finite number never meets a condition
    for bad in (None, math.nan, math.inf, "high", True):
        assert metric.value_in("loss", 0.5, {"acc": bad}) is None
        assert first_met([metric], "loss", 0.5, {"acc": bad}, 0) is None


def test_first_met_is_the_first_condition_in_the_given_order():
    conditions = parse_conditions(["acc>=0.9", "loss<=0.1"])
    assert first_met(conditions, "loss", 0.05, {"acc": 0.95}, 3) == "acc 0.95 >= 0.9 at trial 3"
    assert first_met(conditions[::-1], "loss", 0.05, {"acc": 0.95}, 3) == "loss 0.05 <= 0.1 at trial 3"
    assert first_met(conditions, "loss", 0.05, {"acc": 0.5}, 4) == "loss 0.05 <= 0.1 at trial 4"
    assert first_met(conditions, "loss", 0.5, {"acc": 0.5}, 5) is None
    assert first_met([], "loss", 0.0, {}, 0) is None
    assert first_met(conditions, "loss", 0.0123456789, {"acc": 0.0}, 6) == "loss 0.0123457 <= 0.1 at trial 6"


def test_check_known_names_the_unknown_metric_and_what_was_stored():
    check_known(parse_conditions(["loss<1", "objective<1", "acc>0"]), "loss", {"acc": 1.0}, 0)
    with pytest.raises(StopConditionError) as info:
        check_known(parse_conditions(["loss<1", "f1>=0.5"]), "loss", {"zeta": 1, "acc": 2}, 4)
    assert str(info.value) == "--stop-when f1>=0.5: unknown metric 'f1' (trial 4 stored: loss, acc, zeta)"


def _two_objectives(config):
    return {"acc": config["x"], "size": 100 * (1 - config["x"])}


@pytest.mark.parametrize("condition, objective", [("size<=20", "size"), ("acc>=0.8", "acc")])
def test_a_multi_objective_run_stops_on_a_condition_on_any_objective(tmp_path, condition, objective):
    from hpsearch import HpProblem
    from hpsearch.run.api import optimize

    problem = HpProblem(objectives={"acc": "maximize", "size": "minimize"})
    problem.add_dim("x", (0.0, 1.0))
    run = optimize(_two_objectives, problem, run_dir=tmp_path / "run", seed=3, max_evals=50,
                   stop_when=condition)
    df = run.results()
    values = df["objective"] if objective == "acc" else df[f"m:{objective}"]  # acc: the first objective
    assert run.ended.startswith(f"stop condition met: {objective} ")
    assert values.map(parse_condition(condition).holds).tolist() == [False] * (len(df) - 1) + [True]
