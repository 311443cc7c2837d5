"""The Hyperband schedule: the paper's tables exactly, and the rules every schedule obeys."""
import math

import pytest

from hpsearch.search.brackets import plan, plan_table, s_max, total_evaluations, total_resource


def table(brackets):
    return {b.s: [(r.n, r.r) for r in b.rungs] for b in brackets}


def test_paper_schedule_r81_eta3():
    brackets = plan(81, eta=3)
    assert [b.s for b in brackets] == [4, 3, 2, 1, 0]
    assert table(brackets) == {
        4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        3: [(34, 3), (11, 9), (3, 27), (1, 81)],
        2: [(15, 9), (5, 27), (1, 81)],
        1: [(8, 27), (2, 81)],
        0: [(5, 81)],
    }
    assert total_resource(brackets) == 1581
    assert total_resource(brackets, warm_start=False) == 1902
    assert total_evaluations(brackets) == 206


def test_integer_schedule_r20_eta3_rounds_to_nearest():
    brackets = plan(20, eta=3)
    assert table(brackets) == {2: [(9, 2), (3, 7), (1, 20)], 1: [(5, 7), (1, 20)], 0: [(3, 20)]}
    assert total_resource(brackets) == 154
    assert total_resource(brackets, warm_start=False) == 174
    assert all(isinstance(r.r, int) for b in brackets for r in b.rungs)


def test_min_resource_above_one():
    brackets = plan(81, eta=3, min_resource=3)
    assert table(brackets) == {
        3: [(27, 3), (9, 9), (3, 27), (1, 81)],
        2: [(12, 9), (4, 27), (1, 81)],
        1: [(6, 27), (2, 81)],
        0: [(4, 81)],
    }
    # R/r_min not a power of eta: rounding never goes below r_min
    for b in plan(50, eta=3, min_resource=5):
        assert b.rungs[0].r >= 5 and b.rungs[-1].r == 50


def test_float_resource_keeps_fractions():
    brackets = plan(1.0, eta=3, min_resource=0.1, integer=False)
    assert table(brackets) == {2: [(9, 1 / 9), (3, 1 / 3), (1, 1.0)], 1: [(5, 1 / 3), (1, 1.0)], 0: [(3, 1.0)]}
    assert all(isinstance(r.r, float) for b in brackets for r in b.rungs)
    assert total_resource(brackets) == pytest.approx(1 + 2 / 3 + 2 / 3 + 5 / 3 + 2 / 3 + 3)


def test_s_max_uses_exact_arithmetic_where_float_log_fails():
    assert s_max(243, 3) == 5  # 3**5 == 243 exactly (a float log gives 4.999...)
    assert len(plan(243, 3)) == 6 and plan(243, 3)[0].rungs[0].r == 1
    assert s_max(242, 3) == 4 and s_max(729, 3) == 6
    assert s_max(1000, 10) == 3
    assert s_max(80, 3) == 3 and s_max(81, 3) == 4
    assert s_max(0.5, 2, 0.125) == 2


@pytest.mark.parametrize("R,eta", [(64, 2), (64, 4), (81, 3), (100, 2), (256, 4), (20, 3)])
def test_schedule_rules(R, eta):
    brackets = plan(R, eta)
    top = s_max(R, eta)
    assert eta**top <= R < eta ** (top + 1)
    B = (top + 1) * R
    assert [b.s for b in brackets] == list(range(top, -1, -1))
    for b in brackets:
        n = math.ceil(B / R * eta**b.s / (b.s + 1) - 1e-9)
        assert len(b.rungs) == b.s + 1
        assert [r.n for r in b.rungs] == [n // eta**i for i in range(b.s + 1)]
        assert b.rungs[-1].r == R and b.rungs[-1].n >= 1
        assert all(x.r < y.r for x, y in zip(b.rungs, b.rungs[1:]))
        if R == eta**top:  # no rounding: the rungs are exact powers and each bracket spends about B
            assert [r.r for r in b.rungs] == [R // eta ** (b.s - i) for i in range(b.s + 1)]
            cold = sum(r.n * r.r for r in b.rungs)
            assert B - sum(r.r for r in b.rungs) <= cold <= B + (b.s + 1) * R // eta**b.s
    assert total_resource(brackets) <= total_resource(brackets, warm_start=False)


def test_plan_table_rows_add_up_to_the_totals():
    head, rows = plan_table(plan(81))
    assert head[:4] == ["bracket", "rung", "n_i", "r_i"]
    assert sum(r[5] for r in rows) == 1581 and sum(r[6] for r in rows) == 1902
    assert rows[1] == [4, 1, 27, 3, 2, 54, 81]


@pytest.mark.parametrize("args", [dict(eta=1), dict(min_resource=0), dict(min_resource=100)])
def test_bad_arguments_raise(args):
    with pytest.raises(ValueError):
        plan(81, **args)
    with pytest.raises(ValueError):
        plan(20.5, 3)


def test_defaults_are_eta_3_and_r_min_1():
    assert s_max(81) == 4 and s_max(80) == 3
    assert table(plan(27)) == table(plan(27, eta=3, min_resource=1))


def test_totals_are_ints_for_an_integer_resource_and_floats_for_a_real_one():
    assert total_resource(plan(81)) == 1581 and type(total_resource(plan(81))) is int
    assert type(total_resource(plan(81), warm_start=False)) is int
    real = total_resource(plan(9, 3, 1, integer=False))  # float rungs 1.0, 3.0, 9.0: a float total
    assert real == total_resource(plan(9)) and type(real) is float


def test_plan_table_columns_and_types():
    head, rows = plan_table(plan(9))
    assert head == ["bracket", "rung", "n_i", "r_i", "r_i - r_i-1", "warm", "cold"]
    assert rows[:3] == [[2, 0, 9, 1, 1, 9, 9], [2, 1, 3, 3, 2, 6, 9], [2, 2, 1, 9, 6, 6, 9]]
    assert all(type(v) is int for row in rows for v in row)
    _, real = plan_table(plan(1.0, 3, 1 / 9, integer=False))
    assert real[1] == [2, 1, 3, pytest.approx(1 / 3), pytest.approx(2 / 9), pytest.approx(2 / 3), pytest.approx(1.0)]
    assert all(type(v) is float for row in real for v in row[3:])
