"""The encoded space the model-based searchers share: each kind of dimension on the unit cube and back.

The values are computed by hand: a log-uniform range puts its geometric middle at 0.5, an integer range
its arithmetic middle, a list its k-th value at k / (n - 1), a categorical one column per choice.
"""
import math

import numpy as np
import pytest

from hpsearch import HpProblem
from hpsearch.search.encoding import INACTIVE, EncodedSpace, config_key, impute_inactive, position


def mixed() -> HpProblem:
    """One dimension of each kind, plus one pinned by --fix-able values and two single-valued ones."""
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("lr", (1e-4, 1e-2, "log-uniform"), default=1e-3)
    p.add_dim("units", (10, 20), default=15)
    p.add_dim("batch", [32, 64, 128, 256], default=64)
    p.add_dim("act", ["relu", "tanh", "gelu"], default="relu")
    p.add_dim("drop", (0.0, 0.5), default=0.1)
    p.add_dim("one", [7], default=7)
    p.add_dim("only", ["x"], default="x")
    return p


def tree() -> HpProblem:
    """opt in {sgd, adam}; momentum (a list) only under sgd; beta (an integer range) only under adam;
    nesterov (categorical) only when momentum is 0.9."""
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("opt", ["sgd", "adam"], default="sgd")
    p.add_dim("momentum", [0.0, 0.5, 0.9], default=0.5, when={"opt": "sgd"})
    p.add_dim("beta", (1, 5), default=3, when={"opt": "adam"})
    p.add_dim("nesterov", ["no", "yes"], default="no", when={"momentum": 0.9})
    return p


# -- the layout ------------------------------------------------------------------------
def test_each_kind_gets_its_columns_and_single_valued_or_pinned_dimensions_none():
    enc = EncodedSpace(mixed().fix({"drop": 0.2}))
    assert [(k, d.name, c, w) for k, d, c, w in enc.groups] == [
        ("real", "lr", 0, 1), ("int", "units", 1, 1), ("list", "batch", 2, 1), ("cat", "act", 3, 3)]
    assert enc.n_cols == 6 and enc.n_groups == 4
    assert enc.constant == {"drop": 0.2, "one": 7, "only": "x"}
    assert enc.categorical_sizes() == [0, 0, 0, 3]
    assert not enc.conditional
    assert set(enc.by_name) == {"lr", "units", "batch", "act"}


def test_a_dimension_the_pins_rule_out_has_no_column_and_conditions_are_noticed():
    enc = EncodedSpace(tree())
    assert [d.name for _k, d, _c, _w in enc.groups] == ["opt", "momentum", "beta", "nesterov"]
    assert enc.conditional
    pinned = EncodedSpace(tree().fix({"opt": "adam"}))
    assert [d.name for _k, d, _c, _w in pinned.groups] == ["beta"]
    assert pinned.constant == {"opt": "adam"}
    assert not pinned.conditional or pinned.groups[0][1].parents  # beta keeps its condition
    assert pinned.n_cols == 1


@pytest.mark.parametrize("inactive", [0.0, 0.5, 1.0])
def test_the_inactive_constant_must_lie_outside_the_cube(inactive):
    with pytest.raises(ValueError, match=f"inactive must lie outside \\[0, 1\\], got {inactive}"):
        EncodedSpace(mixed(), inactive=inactive)


@pytest.mark.parametrize("inactive", [-1.0, -0.001, 1.001, 2.0])
def test_any_constant_outside_the_cube_is_the_inactive_value(inactive):
    enc = EncodedSpace(tree(), inactive=inactive)
    assert enc.inactive == inactive
    assert list(enc.encode({"opt": "adam", "beta": 1})) == [0.0, 1.0, inactive, 0.0, inactive, inactive]


# -- encode and decode ---------------------------------------------------------------------
def test_encode_scales_each_kind_onto_the_unit_cube():
    enc = EncodedSpace(mixed())
    assert enc.encode({"lr": 1e-4, "units": 10, "batch": 32, "act": "relu", "drop": 0.0}) == \
        pytest.approx([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    assert enc.encode({"lr": 1e-2, "units": 20, "batch": 256, "act": "gelu", "drop": 0.5}) == \
        pytest.approx([1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0])
    # the geometric middle of a log range, the arithmetic middle of a linear one, the 2nd of 4 values
    assert enc.encode({"lr": 1e-3, "units": 15, "batch": 64, "act": "tanh", "drop": 0.125}) == \
        pytest.approx([0.5, 0.5, 1 / 3, 0.0, 1.0, 0.0, 0.25])


def test_a_log_scaled_integer_range_is_encoded_on_the_log_scale():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("units", (16, 1024, "log-uniform"), default=128)
    enc = EncodedSpace(p)
    assert enc.encode({"units": 128}) == pytest.approx([0.5])
    assert enc.decode(np.array([0.5])) == {"units": 128}
    assert enc.decode(np.array([0.0])) == {"units": 16} and enc.decode(np.array([1.0])) == {"units": 1024}


def test_decode_inverts_encode_and_adds_the_constants():
    enc = EncodedSpace(mixed().fix({"drop": 0.2}))
    config = {"lr": 1e-3, "units": 13, "batch": 128, "act": "gelu"}
    back = enc.decode(enc.encode(config))
    assert back == {"lr": pytest.approx(1e-3), "units": 13, "batch": 128, "act": "gelu", "drop": 0.2,
                    "one": 7, "only": "x"}
    assert type(back["units"]) is int and type(back["lr"]) is float


def test_decode_clamps_points_outside_the_cube_and_rounds_to_the_nearest_value():
    enc = EncodedSpace(mixed())
    low = enc.decode(np.array([-0.4, -0.3, -2.0, 0.1, 0.9, 0.2, -1.0]))
    assert low == {"lr": pytest.approx(1e-4), "units": 10, "batch": 32, "act": "tanh", "drop": 0.0, "one": 7, "only": "x"}
    high = enc.decode(np.array([1.7, 1.2, 3.0, 0.3, 0.2, 0.1, 1.5]))
    assert high == {"lr": pytest.approx(1e-2), "units": 20, "batch": 256, "act": "relu", "drop": 0.5,
                    "one": 7, "only": "x"}
    assert high["lr"] <= 1e-2
    # 0.29 of the way along [10, 20] is 12.9 -> 13; 0.6 of 3 steps is 1.8 -> the 3rd value
    mid = enc.decode(np.array([0.5, 0.29, 0.6, 0.0, 0.0, 1.0, 0.5]))
    assert mid["units"] == 13 and mid["batch"] == 128 and mid["act"] == "gelu"
    assert mid["drop"] == pytest.approx(0.25)
    assert enc.decode(np.array([0.5, 0.21, 0.16, 0.0, 0.0, 1.0, 0.5]))["batch"] == 32
    assert enc.decode(np.array([0.5, 0.21, 0.17, 0.0, 0.0, 1.0, 0.5]))["batch"] == 64


def test_decode_snaps_onto_the_step_grid():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("rate", (0.0, 0.9), step=0.3, default=0.3)
    p.add_dim("width", (16, 64), step=16, default=32)
    enc = EncodedSpace(p)
    assert enc.decode(np.array([0.4, 0.4])) == {"rate": pytest.approx(0.3), "width": 32}
    assert enc.decode(np.array([0.6, 0.9])) == {"rate": pytest.approx(0.6), "width": 64}


def test_decode_drops_inactive_dimensions_and_fills_newly_active_ones():
    enc = EncodedSpace(tree())
    x = enc.encode({"opt": "adam", "beta": 5})
    assert enc.decode(x) == {"opt": "adam", "beta": 5}
    x[0:2] = [1.0, 0.0]  # now sgd: momentum and nesterov read from their columns (-1 clamps to the first)
    assert enc.decode(x) == {"opt": "sgd", "momentum": 0.0}


def test_encode_marks_every_column_of_an_inactive_dimension():
    enc = EncodedSpace(tree())
    assert list(enc.encode({"opt": "sgd", "momentum": 0.9, "nesterov": "yes"})) == \
        [1.0, 0.0, 1.0, INACTIVE, 0.0, 1.0]
    assert list(enc.encode({"opt": "sgd", "momentum": 0.5})) == [1.0, 0.0, 0.5, INACTIVE, INACTIVE, INACTIVE]


# -- first_new ------------------------------------------------------------------------------
def test_first_new_skips_taken_and_forbidden_rows_in_the_given_order():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("a", [1, 2, 3, 4], default=1)
    p.add_forbidden(a=2)
    enc = EncodedSpace(p)
    X = np.array([[0.0], [1 / 3], [2 / 3], [1.0]])
    taken = {config_key({"a": 1})}
    assert enc.first_new(X, [0, 1, 2, 3], taken) == ({"a": 3}, 2)
    assert enc.first_new(X, np.array([3, 0]), taken) == ({"a": 4}, 3)
    assert type(enc.first_new(X, np.array([3]), taken)[1]) is int
    assert enc.first_new(X, [0, 1], taken) is None
    assert enc.first_new(X, [0, 1, 2, 3], taken, tries=2) is None
    assert enc.first_new(X, [0, 1, 2, 3], taken, tries=3) == ({"a": 3}, 2)


def test_first_new_looks_at_fifty_rows_by_default():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("a", (0, 100), default=0)
    enc = EncodedSpace(p)
    X = np.array([[i / 100] for i in range(101)])
    taken = {config_key({"a": i}) for i in range(50)}
    assert enc.first_new(X, range(101), taken) is None
    assert enc.first_new(X, range(101), taken - {config_key({"a": 49})}) == ({"a": 49}, 49)


# -- snap, random, perturb -------------------------------------------------------------------------
def test_snap_moves_candidates_onto_values_a_configuration_can_take():
    enc = EncodedSpace(mixed())
    X = np.array([[-0.5, 0.26, 0.4, 0.2, 0.7, 0.1, 1.3],
                  [0.3, 0.94, 0.9, 0.5, 0.1, 0.6, 0.4]])
    out = enc.snap(X)
    assert out is X
    assert X == pytest.approx(np.array([[0.0, 0.3, 1 / 3, 0.0, 1.0, 0.0, 1.0],
                                        [0.3, 0.9, 1.0, 0.0, 0.0, 1.0, 0.4]]))


def test_snap_puts_a_log_integer_on_the_log_position_of_its_integer():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("units", (1, 100, "log-uniform"), default=10)
    enc = EncodedSpace(p)
    X = enc.snap(np.array([[0.49], [0.0], [1.0]]))
    assert X[:, 0] == pytest.approx([math.log(10) / math.log(100), 0.0, 1.0])


def test_snap_marks_the_dimensions_a_candidate_makes_inactive():
    enc = EncodedSpace(tree())
    X = np.array([[0.9, 0.1, 0.95, 0.5, 0.8, 0.3],   # sgd, momentum 0.9 -> nesterov active
                  [0.2, 0.7, 0.4, 0.75, 0.1, 0.9]])  # adam: beta only
    enc.snap(X)
    assert X[0] == pytest.approx([1.0, 0.0, 1.0, INACTIVE, 1.0, 0.0])
    assert X[1] == pytest.approx([0.0, 1.0, INACTIVE, 0.75, INACTIVE, INACTIVE])
    assert enc.decode(X[0]) == {"opt": "sgd", "momentum": 0.9, "nesterov": "no"}
    assert enc.decode(X[1]) == {"opt": "adam", "beta": 4}


def test_random_draws_valid_points_and_keeps_categorical_weights():
    from hpsearch import Categorical

    p = mixed()
    p.add_dim("init", Categorical(["he", "xavier", "normal"], weights=[0.0, 1.0, 0.0]), default="xavier")
    enc = EncodedSpace(p)
    X = enc.random(200, np.random.default_rng(0))
    assert X.shape == (200, enc.n_cols)
    assert (X >= 0).all() and (X <= 1).all()
    init = X[:, 7:10]
    assert (init == [0.0, 1.0, 0.0]).all()
    act = X[:, 3:6]
    assert (act.sum(axis=1) == 1).all() and set(act.argmax(axis=1)) == {0, 1, 2}
    assert set(np.round(X[:, 2] * 3, 9)) == {0, 1, 2, 3}
    configs = [enc.decode(x) for x in X]
    assert all(mixed().check({k: v for k, v in c.items() if k != "init"}) for c in configs)
    assert len({c["units"] for c in configs}) == 11


def test_random_on_a_conditional_space_marks_inactive_dimensions():
    enc = EncodedSpace(tree())
    X = enc.random(100, np.random.default_rng(1))
    for x in X:
        c = enc.decode(x)
        assert np.array_equal(enc.encode(c), x) or np.allclose(enc.encode(c), x)
        assert tree().check(c) == c


def test_perturb_stays_near_each_centre_and_repeats_each_m_times():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("a", (0.0, 1.0), default=0.5)
    p.add_dim("b", (0.0, 1.0), default=0.5)
    enc = EncodedSpace(p)
    centres = np.array([[0.2, 0.2], [0.8, 0.8]])
    X = enc.perturb(centres, 50, 0.01, np.random.default_rng(0))
    assert X.shape == (100, 2)
    assert np.abs(X[:50] - 0.2).max() < 0.06 and np.abs(X[50:] - 0.8).max() < 0.06


def test_perturb_changes_a_categorical_with_probability_one_over_the_number_of_dimensions():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("c", ["a", "b", "c", "d"], default="a")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("y", (0.0, 1.0), default=0.5)
    p.add_dim("z", (0.0, 1.0), default=0.5)
    enc = EncodedSpace(p)
    centre = enc.encode({"c": "a", "x": 0.5, "y": 0.5, "z": 0.5})[None, :]
    X = enc.perturb(centre, 4000, 0.1, np.random.default_rng(0))
    changed = (X[:, 0:4].argmax(axis=1) != 0).mean()
    assert changed == pytest.approx(0.25 * 0.75, abs=0.03)  # flipped (1/4), to another choice (3/4)
    assert (X[:, 0:4].sum(axis=1) == 1).all()
    only = HpProblem(objective="y", direction="minimize")
    only.add_dim("c", ["a", "b", "c", "d"], default="a")
    enc = EncodedSpace(only)
    X = enc.perturb(enc.encode({"c": "a"})[None, :], 4000, 0.1, np.random.default_rng(0))
    assert (X.argmax(axis=1) != 0).mean() == pytest.approx(0.75, abs=0.03)


def test_perturb_restarts_an_inactive_column_so_a_child_can_become_active():
    enc = EncodedSpace(tree())
    centre = enc.encode({"opt": "adam", "beta": 3})[None, :]
    X = enc.perturb(centre, 400, 0.05, np.random.default_rng(0))
    configs = [enc.decode(x) for x in X]
    sgd = [c for c in configs if c["opt"] == "sgd"]
    assert sgd, "the categorical never flipped"
    assert len({c["momentum"] for c in sgd}) == 3  # restarted uniformly, not stuck at the clamp
    for c, x in zip(configs, X):
        assert tree().check(c) == c
        assert np.allclose(enc.encode(c)[x != INACTIVE], x[x != INACTIVE])


# -- the compact form ------------------------------------------------------------------------------
def test_compact_holds_one_column_per_dimension_and_expand_reverses_it():
    enc = EncodedSpace(mixed())
    X = np.array([enc.encode({"lr": 1e-3, "units": 12, "batch": 64, "act": "gelu", "drop": 0.25}),
                  enc.encode({"lr": 1e-4, "units": 20, "batch": 256, "act": "tanh", "drop": 0.5})])
    Z = enc.compact(X)
    assert Z == pytest.approx(np.array([[0.5, 0.2, 1 / 3, 2.0, 0.5], [0.0, 1.0, 1.0, 1.0, 1.0]]))
    assert enc.compact(X[0]).shape == (1, 5)
    assert enc.expand(Z) == pytest.approx(X)
    assert enc.expand(Z[0]).shape == (1, 7)


def test_compact_keeps_inactive_categoricals_inactive_and_expand_restarts_them():
    enc = EncodedSpace(tree())
    X = np.array([enc.encode({"opt": "sgd", "momentum": 0.5}), enc.encode({"opt": "adam", "beta": 2})])
    Z = enc.compact(X)
    assert Z == pytest.approx(np.array([[0.0, 0.5, INACTIVE, INACTIVE], [1.0, INACTIVE, 0.25, INACTIVE]]))
    assert enc.expand(Z) == pytest.approx(X)  # without rng an inactive entry restarts at 0: still inactive
    Z2 = Z.copy()
    Z2[1, 0] = 0.0  # the second row now takes sgd: its momentum entry restarts (at 0 without rng)
    assert enc.decode(enc.expand(Z2)[1]) == {"opt": "sgd", "momentum": 0.0}
    rows = enc.expand(np.repeat(Z2[1:], 300, axis=0), np.random.default_rng(0))
    assert {enc.decode(x)["momentum"] for x in rows} == {0.0, 0.5, 0.9}
    nesterov = {enc.decode(x).get("nesterov") for x in rows}
    assert nesterov == {None, "no", "yes"}  # a restarted categorical takes any of its choices


# -- helpers --------------------------------------------------------------------------------
def test_position_matches_by_repr_then_by_number_but_never_text_or_bool_for_a_number():
    assert position([32, 64, 128], 64) == 1
    assert position([32, 64, 128], 64.0) == 1
    assert position([0.5, 1.0], 1) == 1
    assert position([1, True], True) == 1
    assert position([True, 1], 1) == 1
    assert position(["1", 1], 1) == 1
    with pytest.raises(ValueError, match=r"'64' is not one of \[32, 64\]"):
        position([32, 64], "64")
    with pytest.raises(ValueError, match=r"True is not one of \[0, 1\]"):
        position([0, 1], True)
    with pytest.raises(ValueError, match=r"1 is not one of \[True, False\]"):
        position([True, False], 1)


def test_config_key_is_the_same_for_the_same_items_in_any_order():
    assert config_key({"a": 1, "b": "x"}) == config_key({"b": "x", "a": 1})
    assert config_key({"a": 1}) != config_key({"a": 1.5})
    assert config_key({"a": 1, "b": 2}) == repr([("a", 1), ("b", 2)])


def test_impute_inactive_follows_pinned_and_single_valued_parents():
    p = tree()
    p.add_dim("mode", ["fast"], default="fast")
    p.add_dim("depth", (1, 4), default=2, when={"mode": "fast"})
    p.add_dim("width", (1, 4), default=2, when={"beta": [2, 3]})
    enc = EncodedSpace(p)
    kinds = {d.name: (k, c) for k, d, c, _w in enc.groups}
    X = enc.random(300, np.random.default_rng(3))
    for x in X:
        c = enc.decode(x)
        assert p.check(c) == c
        assert "depth" in c  # its single-valued parent always takes "fast"
        assert (x[kinds["width"][1]] != INACTIVE) == (c.get("beta") in (2, 3))
    pinned = EncodedSpace(p.fix({"momentum": 0.9}))
    X = pinned.random(50, np.random.default_rng(4))
    cols = {d.name: c for _k, d, c, _w in pinned.groups}
    for x in X:
        c = pinned.decode(x)
        assert ("nesterov" in c) == (c["opt"] == "sgd")
        assert (x[cols["nesterov"]] != INACTIVE) == (c["opt"] == "sgd")


def test_impute_inactive_treats_a_parent_the_pins_rule_out_as_never_active():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("opt", ["sgd", "adam"], default="sgd")
    p.add_dim("momentum", [0.0, 0.9], default=0.0, when={"opt": "sgd"})
    p.add_dim("lr", (0.1, 1.0), default=0.5, when={"momentum": 0.9})
    p.add_dim("beta", [1, 2], default=1, when={"opt": "adam"})
    enc = EncodedSpace(p.fix({"opt": "adam"}))
    assert [d.name for _k, d, _c, _w in enc.groups] == ["beta"]
    X = np.array([[0.0], [1.0]])
    assert impute_inactive(enc, X) is X and X[:, 0].tolist() == [0.0, 1.0]


def test_impute_inactive_reads_list_and_integer_parents_from_their_columns():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("layers", (1, 3), default=1)
    p.add_dim("batch", [16, 32, 64], default=16)
    p.add_dim("l3", (0.0, 1.0), default=0.5, when={"layers": 3})
    p.add_dim("big", (0.0, 1.0), default=0.5, when={"batch": [32, 64]})
    enc = EncodedSpace(p)
    X = np.array([[1.0, 0.0, 0.3, 0.3],
                  [0.74, 0.6, 0.3, 0.3],   # layers 2.48 -> 2; batch 1.2 -> 32
                  [0.76, 1.4, 0.3, 0.3],   # layers 2.52 -> 3; batch clipped -> 64
                  [0.0, -0.2, 0.3, 0.3]])  # layers 1; batch clipped -> 16
    impute_inactive(enc, X)
    assert X[:, 2].tolist() == [0.3, INACTIVE, 0.3, INACTIVE]
    assert X[:, 3].tolist() == [INACTIVE, 0.3, 0.3, INACTIVE]


# -- more cases: bounds away from zero, parents anywhere, several parents ------------------------------
def test_a_linear_range_away_from_zero_decodes_between_its_bounds():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("t", (2.0, 4.0), default=3.0)
    enc = EncodedSpace(p)
    assert enc.decode(np.array([0.25])) == {"t": pytest.approx(2.5)}
    assert enc.encode({"t": 3.5}) == pytest.approx([0.75])


def test_snap_puts_a_log_integer_away_from_one_on_its_log_position():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("units", (2, 200, "log-uniform"), default=20)
    enc = EncodedSpace(p)
    X = enc.snap(np.array([[0.505], [1.0]]))  # 2 x 100 ** 0.505 = 20.46 -> 20
    assert X[:, 0] == pytest.approx([0.5, 1.0])  # 20 = sqrt(2 x 200) sits in the middle


def test_a_categorical_parent_after_other_columns_decides_its_childs_activity():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("a", (0.0, 1.0), default=0.5)
    p.add_dim("b", (0.0, 1.0), default=0.5)
    p.add_dim("e", (0.0, 1.0), default=0.5)
    p.add_dim("opt", ["sgd", "adam"], default="sgd")
    p.add_dim("m", (0.0, 1.0), default=0.5, when={"opt": "adam"})
    enc = EncodedSpace(p)
    X = enc.snap(np.array([[0.1, 0.2, 0.3, 0.0, 1.0, 0.4], [0.1, 0.2, 0.3, 1.0, 0.0, 0.4]]))
    assert X[:, 5].tolist() == [0.4, INACTIVE]


def test_a_dimension_with_two_parents_needs_both():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("opt", ["sgd", "adam"], default="sgd")
    p.add_dim("sched", ["cos", "step"], default="cos")
    p.add_dim("warm", (0.0, 1.0), default=0.5, when={"opt": "adam", "sched": "cos"})
    enc = EncodedSpace(p)
    rows = np.array([[0.0, 1.0, 1.0, 0.0, 0.5], [0.0, 1.0, 0.0, 1.0, 0.5],
                     [1.0, 0.0, 1.0, 0.0, 0.5], [1.0, 0.0, 0.0, 1.0, 0.5]])
    assert enc.snap(rows)[:, 4].tolist() == [0.5, INACTIVE, INACTIVE, INACTIVE]


def test_impute_inactive_reads_a_list_parent_outside_the_cube_at_its_nearest_end():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("batch", [16, 32, 64], default=16)
    p.add_dim("small", (0.0, 1.0), default=0.5, when={"batch": 16})
    enc = EncodedSpace(p)
    X = impute_inactive(enc, np.array([[-0.6, 0.3], [1.6, 0.3]]))
    assert X[:, 1].tolist() == [0.3, INACTIVE]


def test_random_draws_spread_every_column_whatever_the_categoricals_position():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("c", ["a", "b", "c"], default="a")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("k", (1, 9), default=5)
    enc = EncodedSpace(p)
    X = enc.random(200, np.random.default_rng(0))
    assert X[:, 3].std() > 0.2 and len(set(X[:, 4].tolist())) == 9
    assert set(X[:, 0:3].argmax(axis=1).tolist()) == {0, 1, 2}
    tree_rows = EncodedSpace(tree()).random(200, np.random.default_rng(0))
    assert len(set(tree_rows[:, 2].tolist()) - {INACTIVE}) == 3  # momentum takes each of its values
    assert len(set(tree_rows[:, 3].tolist()) - {INACTIVE}) == 5  # beta too


def test_random_draws_follow_categorical_weights_that_are_not_degenerate():
    from hpsearch import Categorical

    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("c", Categorical(["a", "b", "c"], weights=[0.25, 0.75, 0.0]), default="b")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    X = EncodedSpace(p).random(2000, np.random.default_rng(0))
    share = np.bincount(X[:, 0:3].argmax(axis=1), minlength=3) / 2000
    assert share == pytest.approx([0.25, 0.75, 0.0], abs=0.03)


def test_perturbations_of_one_centre_differ_from_each_other():
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("a", (0.0, 1.0), default=0.5)
    p.add_dim("b", (0.0, 1.0), default=0.5)
    X = EncodedSpace(p).perturb(np.array([[0.5, 0.5]]), 200, 0.05, np.random.default_rng(0))
    assert X.std(axis=0) == pytest.approx([0.05, 0.05], rel=0.2)
    assert np.corrcoef(X[:, 0], X[:, 1])[0, 1] == pytest.approx(0.0, abs=0.2)  # each column its own noise


def test_compact_rows_given_as_integers_expand_as_floats_do():
    enc = EncodedSpace(tree())
    Z = np.array([[0, -1, 2, -1]] * 300)  # adam, beta's position 2 of [0, 1] scale is clipped; inactive ints
    rows = enc.expand(Z, np.random.default_rng(0))
    floats = enc.expand(Z.astype(float), np.random.default_rng(0))
    assert rows == pytest.approx(floats)
    assert {enc.decode(x)["momentum"] for x in rows} == {0.0, 0.5, 0.9}  # restarted uniformly
