"""The figures of a multi-objective run: its Pareto front and its hypervolume, from the run's history.

* ``pareto_front.png``: with two objectives, every evaluation that counts
  (``done``; at the full budget in a multi-fidelity run) in objective space, the
  dominated ones faded, the front's points joined by a step line (the boundary
  of what they dominate); with three or more, parallel coordinates of the front
  (one line per Pareto-optimal evaluation, each axis an objective scaled between
  the front's smallest and largest value, labelled with them).
* ``hypervolume_vs_evaluations.png`` and ``hypervolume_vs_resource.png``: the
  front's hypervolume so far (against the declared reference point, else the
  nadir of the run's evaluations), or its regret on a log scale when the problem
  declares ``hypervolume_optimum``.

The figures take the drawing helpers of :mod:`~hpsearch.reporting.plots` as
arguments, so this module draws and computes nothing of its own: the front, its
order and the hypervolume come from :class:`~hpsearch.store.RunHistory`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..store import RunHistory

__all__ = ["draw_front", "draw_hypervolume", "pareto_figures"]


def _units(history: RunHistory, losses: Sequence[float]) -> list[float]:
    """Losses back in each objective's own units (a maximised objective's loss is its negative)."""
    return [-v if d == "maximize" else v for v, d in zip(losses, history.objectives.values())]


def draw_front(history: RunHistory, fig: Figure, title: str) -> Figure:
    """The front in objective space (two objectives) or in parallel coordinates (three or more)."""
    names = list(history.objectives)
    ax = fig.add_subplot()
    front = history.pareto_ids
    where = " at the full budget" if history.multi_fidelity else ""
    if len(names) == 2:
        others = [_units(history, lo) for tid, lo in history.losses.items() if tid not in front]
        if others:
            o = np.array(others)
            ax.scatter(o[:, 0], o[:, 1], s=12, color="tab:gray", alpha=0.3, label="dominated")
        # by the first loss, then the second: the step line is the boundary of the dominated region
        ordered = sorted(history.front, key=lambda t: history.losses[t.trial_id])
        pts = np.array([_units(history, history.losses[t.trial_id]) for t in ordered])
        if len(pts):
            ax.step(pts[:, 0], pts[:, 1], where="post", color="tab:blue", lw=1.5, alpha=0.8)
            ax.scatter(pts[:, 0], pts[:, 1], s=28, color="tab:blue", zorder=3,
                       label=f"Pareto front ({len(pts)})")
        ax.set_xlabel(f"{names[0]} ({history.objectives[names[0]]})")
        ax.set_ylabel(f"{names[1]} ({history.objectives[names[1]]})")
        ax.set_title(f"{title}: Pareto front of {len(history.losses)} evaluations{where}", fontsize="medium")
        ax.legend(loc="best", fontsize="small")
    else:
        pts = np.array([_units(history, history.losses[t.trial_id]) for t in history.front])
        low, high = pts.min(axis=0), pts.max(axis=0)
        span = np.where(high > low, high - low, 1.0)
        scaled = (pts - low) / span
        axis = np.arange(len(names))
        for i, row in enumerate(scaled):
            ax.plot(axis, row, "-o", ms=3, lw=1.0, alpha=0.7, color=f"C{i % 10}")
        ax.set_xticks(axis)
        ax.set_xticklabels([f"{n}\n({history.objectives[n][:3]})\n{lo:.4g} .. {hi:.4g}"
                            for n, lo, hi in zip(names, low, high)], fontsize="small")
        ax.set_yticks([0, 1])
        ax.set_yticklabels(["front's min", "front's max"])
        for x in axis:
            ax.axvline(x, color="black", lw=0.6, alpha=0.5)
        ax.set_title(f"{title}: the Pareto front ({len(pts)} of {len(history.losses)} evaluations{where}), "
                     "parallel coordinates", fontsize="medium")
    ax.grid(True, alpha=0.3)
    return fig


def draw_hypervolume(history: RunHistory, fig: Figure, title: str, by_resource: bool) -> Figure:
    """The hypervolume so far (or its regret, log scale) against evaluations or resource."""
    xs, hv = history.hypervolume_curve(by_resource=by_resource)
    ax = fig.add_subplot()
    names = list(history.objectives)
    ref = ", ".join(f"{n} {v:.4g}" for n, v in zip(names, _units(history, history.reference or ())))
    source = "declared" if history.reference_declared else "nadir of the run"
    if history.hypervolume_optimum is not None:
        ys = [history.hypervolume_regret(v) for v in hv]
        positive = [v for v in ys if v > 0]
        floor = min(positive) / 10 if positive else 1e-12
        ax.step(xs, [max(v, floor) for v in ys], where="post", color="tab:blue", lw=2,
                label="hypervolume regret")
        ax.set_yscale("log")
        ax.set_ylabel(f"hypervolume regret (optimum {history.hypervolume_optimum:.6g})")
    else:
        ax.step(xs, hv, where="post", color="tab:blue", lw=2, label="hypervolume")
        ax.set_ylabel("hypervolume of the front")
    if by_resource:
        ax.set_xlabel("resource spent (budget units)" if history.has_budget
                      else "time spent in evaluations (s)")
    else:
        ax.set_xlabel("finished evaluations")
    ax.set_title(f"{title}\nreference point ({ref}), {source}", fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig


def pareto_figures(history: RunHistory, out: Path, figure: Callable[[], Figure],
                   save: Callable[[Figure, Path], Path], title: str) -> list[Path]:
    """Write the front and the hypervolume curves of a multi-objective run into ``out``; return the files
    (none while no evaluation counts)."""
    if not history.losses:
        return []
    return [save(draw_front(history, figure(), title), out / "pareto_front.png"),
            save(draw_hypervolume(history, figure(), title, by_resource=False),
                 out / "hypervolume_vs_evaluations.png"),
            save(draw_hypervolume(history, figure(), title, by_resource=True),
                 out / "hypervolume_vs_resource.png")]
