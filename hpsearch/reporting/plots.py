"""``hps plot RUN_DIR``: PNG plots of a run, drawn headless from its store.

Reads only the run store (settings and finished evaluations); never imports the
problem folder. Figures are drawn on matplotlib's Agg canvas directly (no
``pyplot``, no display, no global backend switch), so it works on a server, in
a worker, and while the run is still going.

Files written into ``RUN_DIR/plots/``:

* ``best_vs_evaluations.png``: the best objective so far against the number of
  finished evaluations (regret, log scale, when the problem declares its
  ``optimum``); every successful evaluation is a faint dot.
* ``best_vs_resource.png``: the same against the resource spent (what the
  finished evaluations trained: ``budget - previous_budget``, up to the step a
  stopped one reached), or against the time spent inside evaluations when the
  problem has no resource.
* Multi-objective runs instead: ``pareto_front.png`` (two objectives: the
  evaluations in objective space, dominated ones faded, the front as a step line;
  three or more: parallel coordinates of the front) and
  ``hypervolume_vs_evaluations.png`` / ``hypervolume_vs_resource.png`` (regret on a
  log scale when the problem declares ``hypervolume_optimum``); see
  :mod:`hpsearch.reporting.pareto_plots`. Their other plots show the first objective.
* ``best_vs_virtual_time.png`` (with ``x_axis="virtual-time"``, ``hps plot
  --x-axis virtual-time``; runs of the ``simulated`` evaluator): the same
  against the virtual time at which each evaluation ended.
* ``param_<name>.png``: the objective against each parameter (continuous and
  integer ranges as scatter, on a log axis for log-uniform and log-normal priors; ordered value
  lists and categorical choices as strip + box plots). Multi-fidelity runs
  colour points by budget. Evaluations where a conditional parameter is
  inactive are left out of its plot (no plot when it never was active).
* ``rungs.png`` (multi-fidelity runs only): the objective by budget, with a line
  joining the rungs of each configuration, coloured by bracket.
* ``importance.png`` and ``marginal_<name>.png`` (runs with enough successful
  evaluations for ``hps importance``): the share of the variance each
  parameter explains, and the predicted objective against the top ones and
  the top pair (:mod:`hpsearch.reporting.importance_plots`).
* ``learning_curves.png`` (runs whose trials call ``trial.report``): one line
  per trial, the objective metric against the reported step, for finished and
  running trials; the best few (by their last value) in colour, the others
  grey, stopped (pruned) trials ending in a cross, running ones dashed.

Failed and timed-out evaluations are skipped (they count as evaluations and
resource spent on the x axes). The "best so far" of a multi-fidelity run is the
incumbent ``hps run`` reports: the best result at the largest budget reached.
Every figure comes from the run's :class:`~hpsearch.store.RunHistory`.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..problem.space import to_loss
from ..store import RunHistory, RunStore, StoredTrial, StoreError
from ..trial import Status, finite_number

__all__ = ["plot_run", "best_so_far", "NothingToPlot", "PLOTS_DIR"]

PLOTS_DIR = "plots"


class NothingToPlot(Exception):
    """The run has no successful evaluation yet."""


def _figure() -> Figure:
    fig = Figure(figsize=(6.4, 4.4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, format="png")
    return path


def plot_run(run_dir: str | os.PathLike, out: str | os.PathLike | None = None,
             x_axis: str = "budget") -> list[Path]:
    """Draw every plot of a run into ``out`` (default ``RUN_DIR/plots/``); return the files written.

    The run is only read, so a run on read-only storage plots into another ``out``.
    ``x_axis="virtual-time"`` also draws the best so far against virtual time.

    Raises:
        StoreError: ``run_dir`` is not a run directory, or ``out`` cannot be written, or it has no
            virtual times for ``x_axis="virtual-time"`` (usage errors).
        NothingToPlot: no evaluation has succeeded yet (nothing is written).
    """
    run_dir = Path(run_dir)
    with RunStore.open(run_dir, readonly=True) as store:
        settings = dict(store.settings)
        names = list(store.param_names)
        history = RunHistory.from_store(store)
        space = store.space
        curves = _curves(store)
        info = _RunInfo(
            title=f"{settings.get('problem_name', run_dir.name)} / {settings.get('algo', '?')}",
            objective=store.objective,
            direction=store.direction,
            optimum=store.optimum,
            multi_fidelity=store.multi_fidelity,
            dims={d["name"]: d for d in store.space.get("dims", [])},
        )
    done = [t for t in history.finished if t.status == Status.DONE and t.objective is not None]
    if not done and curves:
        out = run_dir / PLOTS_DIR
        out.mkdir(exist_ok=True)
        return [_save(_learning_curves(curves, settings, info), out / "learning_curves.png")]
    if not done:
        state = ", ".join(f"{n} {s}" for s, n in sorted(history.present_counts().items())) or "no evaluation"
        raise NothingToPlot(f"{run_dir}: no successful evaluation to plot yet ({state})")
    if x_axis == "virtual-time" and not history.has_virtual_time:
        raise StoreError(f"--x-axis virtual-time: {run_dir} has no virtual times (only runs of "
                         "--evaluator simulated have them)")

    out = run_dir / PLOTS_DIR if out is None else Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise StoreError(f"{out}: cannot write the plots there ({exc.strerror}); "
                         "choose a writable folder with --out DIR") from None
    if history.multi_objective:  # the front and its hypervolume instead of one best
        from .pareto_plots import pareto_figures

        files = pareto_figures(history, out, _figure, _save, info.title)
    else:
        files = [
            _save(_best_so_far(history, info, by_resource=False), out / "best_vs_evaluations.png"),
            _save(_best_so_far(history, info, by_resource=True), out / "best_vs_resource.png"),
        ]
    if x_axis == "virtual-time":
        files.append(_save(_best_so_far(history, info, by_resource=False, by_virtual_time=True,
                                        workers=settings.get("workers")),
                           out / "best_vs_virtual_time.png"))
    for name in names:
        with_param = [t for t in done if name in t.params]  # a conditional dimension may be inactive
        if with_param:
            files.append(_save(_param_plot(with_param, name, info), out / f"param_{name}.png"))
    if info.multi_fidelity and any(t.budget is not None for t in done):
        files.append(_save(_rungs_plot(done, info), out / "rungs.png"))
    if curves:
        files.append(_save(_learning_curves(curves, settings, info), out / "learning_curves.png"))
    files += _importance(history, space, settings.get("fix"), out, info)
    return files


def _importance(history: RunHistory, space: dict, fix: dict | None, out: Path, info: _RunInfo) -> list[Path]:
    """``importance.png`` and the marginals, when the run has enough successful evaluations; for a
    multi-objective run, ``importance_<objective>.png`` and its marginals for each objective."""
    from .importance import ImportanceUnavailable, importance_by_budget
    from .importance_plots import PAIRS_AMONG, draw_importance

    if not history.multi_objective:
        try:
            results = importance_by_budget(history, space, budget="all", pairs=PAIRS_AMONG, fix=fix)
        except ImportanceUnavailable:
            return []
        return draw_importance(results, out, _figure, _save, info.title, info.objective, info.direction)
    files: list[Path] = []
    for name, direction in history.objectives.items():
        try:
            results = importance_by_budget(history, space, budget="all", pairs=PAIRS_AMONG, fix=fix,
                                           objective=name)
        except ImportanceUnavailable:
            continue
        files += draw_importance(results, out, _figure, _save, f"{info.title}: {name}", name, direction,
                                 suffix=f"_{name}")
    return files


@dataclass
class _Curve:
    trial_id: int
    status: str
    steps: list[float]
    values: list[float]


def _curves(store: RunStore) -> list[_Curve]:
    """Each trial's reported objective by step (trials that reported it), in trial order."""
    objective = store.objective
    status = {t.trial_id: t.status for t in store.trials()}
    by_trial: dict[int, _Curve] = {}
    for tid, _, rep in store.all_reports():
        step, value = finite_number(rep.get("step")), finite_number(rep.get(objective))
        if step is not None and value is not None:
            c = by_trial.setdefault(tid, _Curve(tid, status.get(tid, "?"), [], []))
            c.steps.append(step)
            c.values.append(value)
    return [by_trial[t] for t in sorted(by_trial)]


def _learning_curves(curves: list[_Curve], settings: dict, info: _RunInfo, highlight: int = 5) -> Figure:
    objective, direction = info.objective, info.direction
    fig = _figure()
    ax = fig.add_subplot()
    ranked = sorted(curves, key=lambda c: (c.status != "done", to_loss(direction, c.values[-1]), c.trial_id))
    best = {c.trial_id for c in ranked[:highlight]}
    for c in curves:
        if c.trial_id in best:
            continue
        ax.plot(c.steps, c.values, color="tab:gray", lw=0.7, alpha=0.35,
                ls="--" if c.status == Status.RUNNING else "-")
        if c.status == Status.STOPPED:
            ax.plot(c.steps[-1:], c.values[-1:], "x", color="tab:gray", ms=4, alpha=0.6)
    for i, c in enumerate(ranked[:highlight]):
        ax.plot(c.steps, c.values, color=f"C{i}", lw=1.8, ls="--" if c.status == Status.RUNNING else "-",
                marker="o" if len(c.steps) == 1 else None, ms=4,
                label=f"trial {c.trial_id} ({c.status}, {c.values[-1]:.4g})")
        if c.status == Status.STOPPED:
            ax.plot(c.steps[-1:], c.values[-1:], "x", color=f"C{i}", ms=7, mew=2)
    n_stopped = sum(c.status == Status.STOPPED for c in curves)
    n_running = sum(c.status == Status.RUNNING for c in curves)
    ax.set_xlabel("step (trial.report)")
    ax.set_ylabel(f"{objective} ({direction})")
    extra = ", ".join(x for x in (f"{n_stopped} stopped" if n_stopped else "",
                                  f"{n_running} running" if n_running else "") if x)
    ax.set_title(f"{settings.get('problem_name', '')} / {settings.get('algo', '?')}"
                 f"{' + ' + settings['pruner'] if settings.get('pruner') else ''}: "
                 f"{len(curves)} learning curves" + (f" ({extra})" if extra else ""), fontsize="medium")
    ax.legend(loc="best", fontsize="small", title=f"best {min(highlight, len(curves))}")
    ax.grid(True, alpha=0.3)
    return fig


@dataclass
class _RunInfo:
    title: str
    objective: str
    direction: str
    optimum: float | None
    multi_fidelity: bool
    dims: dict[str, dict]


def _positive_floor(values: Sequence[float]) -> float:
    pos = [v for v in values if v > 0 and math.isfinite(v)]
    return min(pos) / 10 if pos else 1e-12


def best_so_far(finished: Sequence[StoredTrial], direction: str, multi_fidelity: bool = False,
                by_resource: bool = False) -> tuple[list[float], list[float], list[float], list[float]]:
    """The incumbent curve of a run, from its finished evaluations in completion order
    (:meth:`RunHistory.best_so_far <hpsearch.store.RunHistory.best_so_far>` of those evaluations).

    Args:
        finished: finished evaluations (any status), in completion order.
        direction: ``maximize`` or ``minimize``.
        multi_fidelity: rank larger budgets first (the incumbent ``hps run`` reports).
        by_resource: x is the resource spent (what each evaluation trained, summed;
            seconds inside evaluations when there is no budget), else the evaluation count.

    Returns:
        ``(x, best, dot_x, dot_y)``: the incumbent's objective at each x from the
        first success on, and each successful evaluation's objective at its x.
    """
    return RunHistory.from_trials(finished, direction, multi_fidelity).best_so_far(by_resource)


def _best_so_far(history: RunHistory, info: _RunInfo, by_resource: bool, by_virtual_time: bool = False,
                 workers: Any = None) -> Figure:
    xs, best_ys, dot_x, dot_y = history.best_so_far(by_resource, by_virtual_time)
    fig = _figure()
    ax = fig.add_subplot()
    if info.optimum is not None:
        best_ys = [history.regret(v) for v in best_ys]
        dot_y = [history.regret(v) for v in dot_y]
        floor = _positive_floor(best_ys + dot_y)
        best_ys = [max(v, floor) for v in best_ys]
        dot_y = [max(v, floor) for v in dot_y]
        ax.set_yscale("log")
        ax.set_ylabel(f"regret of {info.objective} (optimum {info.optimum:g})")
        label = "best so far (regret)"
    else:
        ax.set_ylabel(f"{info.objective} ({info.direction})")
        label = "best so far"
    ax.scatter(dot_x, dot_y, s=10, alpha=0.35, color="tab:gray", label="evaluations")
    ax.step(xs, best_ys, where="post", color="tab:blue", lw=2, label=label)
    if by_virtual_time:
        on = f" on {workers} simulated workers" if workers else ""
        ax.set_xlabel(f"virtual time (s){on}")
    elif by_resource:
        ax.set_xlabel("resource spent (budget units)" if history.has_budget
                      else "time spent in evaluations (s)")
    else:
        ax.set_xlabel("finished evaluations")
    ax.set_title(info.title)
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig


def _key(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def _param_plot(done: list[StoredTrial], name: str, info: _RunInfo) -> Figure:
    spec = info.dims.get(name, {})
    values = [t.params.get(name) for t in done]
    ys = np.array([t.objective for t in done], dtype=float)
    budgets = [t.budget for t in done]
    color_by_budget = info.multi_fidelity and all(b is not None for b in budgets) and len(set(budgets)) > 1

    fig = _figure()
    ax = fig.add_subplot()
    choices = spec.get("choices", spec.get("values"))
    numeric = choices is None and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric:
        xs = np.array(values, dtype=float)
    else:
        levels = list(choices) if choices is not None else sorted({_key(v) for v in values})
        keys = [_key(c) for c in levels] if choices is not None else levels
        for v in values:  # values outside the declared choices (should not happen) go last
            if _key(v) not in keys:
                keys.append(_key(v))
                levels.append(v)
        index = {k: i for i, k in enumerate(keys)}
        pos = np.array([index[_key(v)] for v in values], dtype=float)
        groups = [ys[pos == i] for i in range(len(keys))]
        present = [i for i, g in enumerate(groups) if len(g)]
        ax.boxplot([groups[i] for i in present], positions=present, widths=0.5, showfliers=False,
                   manage_ticks=False)
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, size=len(pos))
        xs = pos + jitter
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels([str(c) for c in levels], rotation=30 if len(keys) > 6 else 0)
        ax.set_xlim(-0.6, len(keys) - 0.4)
    if color_by_budget:
        sc = ax.scatter(xs, ys, c=np.array(budgets, dtype=float), cmap="viridis", s=16, alpha=0.8)
        fig.colorbar(sc, ax=ax, label="budget")
    else:
        ax.scatter(xs, ys, s=16, alpha=0.7, color="tab:blue")
    if numeric and spec.get("prior") in ("log-uniform", "log-normal") and np.all(xs > 0):
        ax.set_xscale("log")
    kind = spec.get("kind", "")
    ax.set_xlabel(f"{name} ({kind})" if kind else name)
    ax.set_ylabel(f"{info.objective} ({info.direction})")
    ax.set_title(f"{info.title}: {info.objective} vs {name}")
    ax.grid(True, alpha=0.3)
    return fig


def _rungs_plot(done: list[StoredTrial], info: _RunInfo) -> Figure:
    by_config: dict[int, list[StoredTrial]] = {}
    for t in done:
        if t.budget is not None:
            by_config.setdefault(t.config_id, []).append(t)
    fig = _figure()
    ax = fig.add_subplot()
    brackets = sorted({t.bracket for ts in by_config.values() for t in ts if t.bracket is not None})
    colours = {b: f"C{i % 10}" for i, b in enumerate(brackets)}
    labelled: set = set()
    for ts in by_config.values():
        ts.sort(key=lambda t: (float(t.budget), t.trial_id))
        bracket = ts[0].bracket
        label = None
        if bracket is not None and bracket not in labelled:
            label = f"bracket {bracket}"
            labelled.add(bracket)
        ax.plot([float(t.budget) for t in ts], [t.objective for t in ts], "-o", ms=3, lw=0.8, alpha=0.6,
                color=colours.get(bracket, "tab:blue"), label=label)
    budgets = [float(t.budget) for ts in by_config.values() for t in ts]
    if min(budgets) > 0 and max(budgets) / min(budgets) >= 9:
        ax.set_xscale("log")
    ax.set_xlabel("budget (resource)")
    ax.set_ylabel(f"{info.objective} ({info.direction})")
    ax.set_title(f"{info.title}: rungs (lines join a configuration's rungs)")
    if labelled:
        ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig

