"""The functional ANOVA of a tree is exact: it equals brute-force integration of the tree's function
over the grid of its own cells (every split point of every axis), for ordered, weighted, categorical
and conditional axes."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor

from hpsearch.reporting.fanova import INACTIVE, Axis, Domain, TreeAnova


def unit_cdf(t):
    return np.clip(np.asarray(t, dtype=float), 0.0, 1.0)


def levels_cdf(weights):
    cum = np.concatenate([[0.0], np.cumsum(weights)])

    def cdf(t):
        return cum[np.clip(np.floor(np.asarray(t, dtype=float)) + 1, 0, len(weights)).astype(int)]

    return cdf


def cells_of(tree, col, low, high):
    """Representative codes and measures of the cells a tree's splits cut [low, high] into."""
    t = tree.tree_
    cuts = np.unique(np.clip(t.threshold[t.feature == col], low, high))
    edges = np.unique(np.concatenate([[low, high], cuts]))
    return (edges[1:] + edges[:-1]) / 2, np.diff(unit_cdf(edges))


def decomposition(f, weights):
    """Mean, variance, main-effect and pair variances of a function tabulated on a product grid."""
    mean = float(np.sum(f * _outer(weights)))
    total = float(np.sum(f * f * _outer(weights))) - mean ** 2
    axes = range(f.ndim)

    def marginal_var(keep):
        m = f
        for ax in sorted(set(axes) - set(keep), reverse=True):
            m = np.tensordot(m, weights[ax], axes=([ax], [0]))
        return float(np.sum(m * m * _outer([weights[k] for k in keep]))) - mean ** 2

    mains = [marginal_var([i]) for i in axes]
    pairs = {(i, j): marginal_var([i, j]) - mains[i] - mains[j] for i, j in itertools.combinations(axes, 2)}
    return total, mains, pairs


def _outer(ws):
    out = np.array(1.0)
    for w in ws:
        out = np.multiply.outer(out, w)
    return out


def test_an_unconditional_tree_matches_brute_force_integration():
    rng = np.random.default_rng(3)
    n = 400
    u = rng.random(n)  # a continuous axis, uniform on [0, 1]
    k = rng.integers(0, 5, n)  # five ordered levels with unequal weights
    c = rng.integers(0, 3, n)  # a categorical of three choices, one-hot
    X = np.column_stack([u, k, np.eye(3)[c]])
    y = np.sin(6 * u) + 0.5 * k * (c == 1) + rng.normal(0, 0.1, n)
    tree = DecisionTreeRegressor(max_depth=7, random_state=0).fit(X, y)
    w5 = np.array([0.1, 0.3, 0.2, 0.25, 0.15])
    domain = Domain([Axis("u", (0,), cdf=unit_cdf),
                     Axis("k", (1,), n_levels=5, cdf=levels_cdf(w5), low=-0.5, high=4.5),
                     Axis("c", (2, 3, 4), categorical=True, n_levels=3)])
    anova = TreeAnova(tree, domain)

    mid, wu = cells_of(tree, 0, 0.0, 1.0)
    grid = np.array([[mu, kk, *np.eye(3)[cc]] for mu in mid for kk in range(5) for cc in range(3)])
    f = tree.predict(grid).reshape(len(mid), 5, 3)
    total, mains, pairs = decomposition(f, [wu, w5, np.full(3, 1 / 3)])

    assert anova.variance == pytest.approx(total, rel=1e-9, abs=1e-12)
    assert [anova.main_variance(i) for i in range(3)] == pytest.approx(mains, rel=1e-9, abs=1e-12)
    for (i, j), v in pairs.items():
        assert anova.pair_variance(i, j) == pytest.approx(max(v, 0.0), rel=1e-7, abs=1e-10)
    assert min(mains) > 0 and pairs[(1, 2)] > 0.01  # the levels interact with the choice


def test_a_conditional_tree_counts_a_child_only_where_it_is_active():
    # p in {0, 1}; c is active only when p == 1 (else it holds INACTIVE); x always.
    rng = np.random.default_rng(5)
    n = 500
    p = rng.integers(0, 2, n)
    c = np.where(p == 1, rng.random(n), INACTIVE)
    x = rng.random(n)
    X = np.column_stack([np.eye(2)[p], c, x])
    y = np.where(p == 1, 4 * c, 1.0) + x + rng.normal(0, 0.05, n)
    tree = DecisionTreeRegressor(max_depth=8, random_state=0).fit(X, y)
    domain = Domain([Axis("p", (0, 1), categorical=True, n_levels=2),
                     Axis("c", (2,), cdf=unit_cdf, parents={0: np.array([False, True])}),
                     Axis("x", (3,), cdf=unit_cdf)])
    anova = TreeAnova(tree, domain)

    mid_c, wc = cells_of(tree, 2, 0.0, 1.0)
    mid_x, wx = cells_of(tree, 3, 0.0, 1.0)
    rows = [[*np.eye(2)[pp], cc if pp == 1 else INACTIVE, xx] for pp in range(2) for cc in mid_c for xx in mid_x]
    f = tree.predict(np.array(rows)).reshape(2, len(mid_c), len(mid_x))
    total, mains, pairs = decomposition(f, [np.full(2, 0.5), wc, wx])

    assert anova.variance == pytest.approx(total, rel=1e-9)
    assert [anova.main_variance(i) for i in range(3)] == pytest.approx(mains, rel=1e-9, abs=1e-12)
    assert anova.pair_variance(0, 1) == pytest.approx(pairs[(0, 1)], rel=1e-7)
    # The inactive code is not a level of c: c's main effect is half the variance of 4c (p == 1
    # half the time), 0.25 * 16 / 12, not the jump between inactive and active.
    assert mains[1] == pytest.approx(0.25 * 16 / 12, rel=0.15)
