"""The importance figures ``hps plot`` draws: the shares as bars, and the marginals of the top ones.

* ``importance.png``: the share of the variance each hyperparameter explains
  alone (bars, with their spread over the forest's trees as error bars), then
  the largest pair interactions (hatched); a multi-fidelity run gets one bar
  per budget level with enough evaluations.
* ``marginal_<name>.png`` for the most important hyperparameters: the
  predicted objective against each, averaged over the others (a line with a
  band of one spread over the trees; bars for a categorical).
* ``marginal_<a>-<b>.png``: the predicted objective against the top pair.

Drawn on matplotlib's Agg canvas like every other plot of a run.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .importance import Importance, Marginal

__all__ = ["importance_figure", "marginal_figure", "draw_importance", "TOP_MARGINALS", "TOP_BARS",
           "PAIRS_AMONG"]

#: Hyperparameters whose marginal ``hps plot`` draws (the most important first).
TOP_MARGINALS = 3
#: Bars in ``importance.png`` at most (hyperparameters), plus this many pairs at most.
TOP_BARS = 12
TOP_PAIRS = 3
#: Pairs are looked for among this many of the most important hyperparameters.
PAIRS_AMONG = 8


def importance_figure(results: Sequence[Importance], figure: Callable[[], Figure], title: str) -> Figure:
    """Horizontal bars of each share (most important on top), one bar per result (budget)."""
    main = results[-1] if results[-1].budget is None else max(results, key=lambda r: r.budget)
    names = list(main.ranking[:TOP_BARS])
    pairs = [p for p in main.pair_ranking[:TOP_PAIRS] if main.pairs[p] > 0]
    labels = names + [f"{a} : {b}" for a, b in pairs]
    fig = figure()
    fig.set_figheight(max(3.0, 1.2 + 0.32 * len(labels) * max(1, len(results)) ** 0.5))
    ax = fig.add_subplot()
    height = 0.8 / len(results)
    for k, r in enumerate(sorted(results, key=lambda r: -(r.budget or 0))):
        y = np.arange(len(labels)) + (k - (len(results) - 1) / 2) * height
        share = [r.shares.get(n, 0.0) for n in names] + [r.pairs.get(p, 0.0) for p in pairs]
        spread = [r.spread.get(n, 0.0) for n in names] + [r.pair_spread.get(p, 0.0) for p in pairs]
        label = f"budget {r.budget:g} ({r.n_evaluations} evaluations)" if r.budget is not None else None
        bars = ax.barh(y, share, height=height * 0.9, xerr=spread, color=f"C{k}", alpha=0.85,
                       error_kw={"ecolor": "0.3", "capsize": 2, "lw": 1}, label=label)
        for bar in list(bars)[len(names):]:
            bar.set_hatch("//")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlim(0, None)
    ax.set_xlabel("share of the variance explained (fANOVA; error bars: spread over trees)")
    if len(results) > 1:
        ax.set_title(f"{title}: importance by budget", fontsize="medium")
    else:
        where = "" if main.budget is None else f", budget {main.budget:g}"
        ax.set_title(f"{title}: importance ({main.n_evaluations} evaluations{where})", fontsize="medium")
    if len(results) > 1:
        ax.legend(loc="lower right", fontsize="small")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def _positions(m: Marginal, k: int) -> tuple[np.ndarray, bool]:
    """x positions of the grid of hyperparameter ``k``, and whether they are numbers."""
    values = m.values[k]
    numeric = not m.categorical[k] and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                           for v in values)
    return (np.array(values, dtype=float) if numeric else np.arange(len(values), dtype=float)), numeric


def marginal_figure(m: Marginal, figure: Callable[[], Figure], title: str, objective: str,
                    direction: str) -> Figure:
    """The predicted objective against one hyperparameter (line and band, or bars) or a pair (map)."""
    fig = figure()
    ax = fig.add_subplot()
    where = "" if m.active_share >= 1.0 else f" (where active: {m.active_share:.0%} of the space)"
    ylabel = f"predicted {objective} ({direction})"
    if len(m.names) == 1:
        x, numeric = _positions(m, 0)
        if numeric and len(x) > 12:
            ax.fill_between(x, m.mean - m.spread, m.mean + m.spread, color="tab:blue", alpha=0.25,
                            lw=0, label="± spread over trees")
            ax.plot(x, m.mean, color="tab:blue", lw=2, label="marginal")
            ax.legend(loc="best", fontsize="small")
        elif numeric:
            ax.errorbar(x, m.mean, yerr=m.spread, fmt="-o", color="tab:blue", capsize=3)
        else:
            ax.bar(x, m.mean, yerr=m.spread, color="tab:blue", alpha=0.8, capsize=3)
            ax.set_xticks(x)
            ax.set_xticklabels([str(v) for v in m.values[0]], rotation=30 if len(x) > 6 else 0)
            lo, hi = float(np.min(m.mean - m.spread)), float(np.max(m.mean + m.spread))
            pad = 0.1 * (hi - lo) if hi > lo else 1.0
            ax.set_ylim(lo - pad, hi + pad)
        if numeric and m.log_scale[0] and np.all(x > 0):
            ax.set_xscale("log")
        ax.set_xlabel(m.names[0])
        ax.set_ylabel(ylabel)
    else:
        (x, nx), (y, ny) = _positions(m, 0), _positions(m, 1)
        mesh = ax.pcolormesh(_edges(x, nx and m.log_scale[0]), _edges(y, ny and m.log_scale[1]), m.mean.T,
                             cmap="viridis_r" if direction == "minimize" else "viridis", shading="flat")
        fig.colorbar(mesh, ax=ax, label=ylabel)
        for axis, k, pos, numeric in ((ax.xaxis, 0, x, nx), (ax.yaxis, 1, y, ny)):
            if not numeric:
                axis.set_ticks(pos)
                axis.set_ticklabels([str(v) for v in m.values[k]])
            elif m.log_scale[k] and np.all(pos > 0):
                (ax.set_xscale if k == 0 else ax.set_yscale)("log")
        ax.set_xlabel(m.names[0])
        ax.set_ylabel(m.names[1])
    ax.set_title(f"{title}: marginal of {' and '.join(m.names)}{where}", fontsize="medium")
    ax.grid(True, alpha=0.3)
    return fig


def _edges(x: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around grid points (midpoints; on a log scale for a log axis)."""
    if len(x) == 1:
        return np.array([x[0] - 0.5, x[0] + 0.5])
    t = np.log(x) if log else x
    mid = (t[1:] + t[:-1]) / 2
    e = np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])
    return np.exp(e) if log else e


def draw_importance(results: Sequence[Importance], out: Path, figure: Callable[[], Figure],
                    save: Callable[[Figure, Path], Path], title: str, objective: str,
                    direction: str, suffix: str = "") -> list[Path]:
    """Write ``importance<suffix>.png`` and the marginals of the top hyperparameters and pair into ``out``.

    ``suffix`` (``_<objective>`` for each objective of a multi-objective run) ends every file's stem.
    """
    files = [save(importance_figure(results, figure, title), out / f"importance{suffix}.png")]
    main = results[0] if results[0].budget is None else max(results, key=lambda r: r.budget)
    if not main.n_trees:  # a constant objective: nothing to draw against
        return files
    at = "" if main.budget is None else f" (budget {main.budget:g})"
    for name in main.ranking[:TOP_MARGINALS]:
        m = main.marginal(name)
        files.append(save(marginal_figure(m, figure, title + at, objective, direction),
                          out / f"marginal{suffix}_{name}.png"))
    if main.pairs:
        a, b = main.pair_ranking[0]
        files.append(save(marginal_figure(main.marginal(a, b), figure, title + at, objective, direction),
                          out / f"marginal{suffix}_{a}-{b}.png"))
    return files
