"""Reading a comparison back: per-run curves, the per-algorithm table, and compare.png.

"Best" is the best objective among *full-budget* evaluations (resource = R;
every evaluation when there is no resource), as regret ``|objective -
optimum|`` in the problem's direction when the problem declares ``optimum``.
At 10%, 25% and 50% of the budget it is taken over the evaluations finished (in
completion order) within that much spent; at 100% over the whole run. A
run with no full-budget evaluation yet counts as the worst value.
A multi-objective comparison compares the hypervolume of each run's front of
full-budget evaluations instead (higher is better), or its regret ``hypervolume_optimum -
hypervolume`` when the problem declares the hypervolume of the true front. Every run
is measured against one reference point, stated in the table: the declared one, else
the nadir of every full-budget evaluation of every run in the comparison
(:func:`hpsearch.problem.pareto.reference_point`).
The table gives the median over seeds and the interquartile range [q25, q75];
:func:`bands` gives the same statistics on a grid of budget spent, for
``compare.png`` and the dashboard's compare page alike.

With ``x_axis="virtual-time"`` (``hps compare --x-axis virtual-time``, for a
comparison run with ``--evaluator simulated``) the x of each evaluation is the
virtual time at which it ended instead of the budget spent, and the fractions
are of the comparison's horizon: the longest run's virtual duration.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..problem import pareto
from ..problem.objective import to_losses
from ..store import RunHistory, RunStore, is_run_dir
from ..store.comparisons import CompareError, load_settings, run_name
from ..trial import Status
from .tables import format_rows, format_value

__all__ = ["RunCurve", "AlgoRow", "Comparison", "Band", "summarise", "format_table", "plot_comparison",
           "bands", "budget_grid", "best_within", "FRACTIONS", "table_rows"]

FRACTIONS = (0.1, 0.25, 0.5, 1.0)


@dataclass
class RunCurve:
    """One run's progress: cumulative spend and best value after each finished evaluation."""

    name: str
    algo: str
    seed: int
    spent: np.ndarray  # cumulative cost (or virtual end time) after each evaluation (completion order)
    best: np.ndarray  # best value (loss-like: lower is better) so far, inf before any
    evaluations: int
    wall_s: float | None
    total: float | None = None  # what the run spent in the budget's unit (None: the last of ``spent``)


@dataclass
class AlgoRow:
    """One algorithm's line of the table (values in display units)."""

    algo: str
    runs: int
    at: dict[float, tuple[float, float, float]]  # fraction -> (median, q25, q75)
    evaluations: float
    spent: float
    wall_s: float | None
    virtual_s: float | None = None  # the median run's virtual duration (x_axis "virtual-time")


@dataclass
class Comparison:
    """A comparison read back from its directory.

    ``x_axis`` is ``budget`` or ``virtual-time``; ``horizon`` is what the fractions are of: the
    budget, or the longest run's virtual duration.
    """

    out: Path
    settings: dict
    curves: dict[str, list[RunCurve]]
    rows: list[AlgoRow]
    #: a multi-objective comparison's reference point (loss form), and what it is
    reference: tuple | None = None
    reference_source: str | None = None
    x_axis: str = "budget"
    horizon: float | None = None

    @property
    def multi_objective(self) -> bool:
        return _multi(self.settings)

    @property
    def metric(self) -> str:
        if self.multi_objective:
            return "hv_regret" if self.settings.get("hypervolume_optimum") is not None else "hypervolume"
        return "regret" if self.settings.get("optimum") is not None else "best"

    def reference_text(self) -> str | None:
        """``reference point (f1 1.1, f2 1.1), declared`` in each objective's units (None: one objective)."""
        if not self.multi_objective:
            return None
        if self.reference is None:
            return "reference point: none yet (no full-budget evaluation)"
        objectives = self.settings["objectives"]
        values = [-r if d == "maximize" else r for r, d in zip(self.reference, objectives.values())]
        point = ", ".join(f"{n} {format_value(float(v))}" for n, v in zip(objectives, values))
        return f"reference point ({point}), {self.reference_source}"


def _multi(settings: dict) -> bool:
    return len(settings.get("objectives") or {}) > 1


def _score(settings: dict, objective: float) -> float:
    """Lower is better: regret when the optimum is known, else the loss."""
    sign = -1.0 if settings["direction"] == "maximize" else 1.0
    if settings.get("optimum") is not None:
        return max(sign * (objective - settings["optimum"]), 0.0)
    return sign * objective


def _display(settings: dict, score: float) -> float:
    if _multi(settings):  # the score is -hypervolume, or the hypervolume regret
        return -score if settings.get("hypervolume_optimum") is None else score
    if settings.get("optimum") is None and settings["direction"] == "maximize":
        return -score
    return score


def _mo_curves(settings: dict, runs: list[tuple[str, str, int, Path]]
               ) -> tuple[list[RunCurve], tuple | None, str | None]:
    """Every run's hypervolume curve (as a score: -hypervolume, or the regret) against one reference
    point: the declared one, else the nadir of every full-budget evaluation of every run."""
    read = []
    for name, algo, seed, run_dir in runs:
        with RunStore.open(run_dir, readonly=True) as store:
            read.append((name, algo, seed, RunHistory.from_store(store)))
    if settings.get("reference_point") is not None:
        reference = to_losses(settings["objectives"], settings["reference_point"])
        source = "declared"
    else:  # the history's losses: the evaluations its front may hold (store/front.py's rule)
        every = [lo for *_, history in read for lo in history.losses.values()]
        reference = pareto.reference_point(every) if every else None
        source = "nadir of every run in the comparison" if every else None
    resource = settings["unit"] == "resource"
    optimum = settings.get("hypervolume_optimum")
    curves = []
    for name, algo, seed, history in read:
        counted = [p.trial_id in history.losses for p in history.points]
        hv = history.hypervolume_curve(reference)[1] if reference is not None else [0.0] * len(counted)
        seen = np.cumsum(counted) > 0
        score = [(optimum - v if optimum is not None else -v) if ok else math.inf for v, ok in zip(hv, seen)]
        spent = [p.resource if resource else float(p.evaluations) for p in history.points]
        wall = settings.get("runs", {}).get(name, {}).get("wall_s")
        curves.append(RunCurve(name, algo, seed, np.array(spent), np.array(score, dtype=float),
                               history.n_finished, wall))
    return curves, reference, source


def _curve(settings: dict, name: str, algo: str, seed: int, run_dir: Path,
           x_axis: str = "budget") -> RunCurve:
    """A run's curve from its history: the order of the evaluations and what each is charged
    (evaluations, or the resource it trained, or with ``x_axis="virtual-time"`` when it ended in
    virtual time); "best" only over full-budget evaluations."""
    with RunStore.open(run_dir, readonly=True) as store:
        history = RunHistory.from_store(store)
    resource = settings["unit"] == "resource"
    r_max = settings.get("max_resource")
    if x_axis == "virtual-time":
        if history.points and not history.has_virtual_time:
            raise CompareError(f"--x-axis virtual-time: {run_dir} has no virtual times (run the "
                               "comparison with --evaluator simulated)")
        xs = history.virtual_times() if history.points else []
    else:
        xs = [p.resource if resource else float(p.evaluations) for p in history.points]
    spent, best, cur = [], [], math.inf
    for t, x in zip(history.finished, xs):
        full = not resource or float(t.budget) == float(r_max)
        if t.status == Status.DONE and full and t.objective is not None:
            cur = min(cur, _score(settings, t.objective))
        spent.append(x)
        best.append(cur)
    wall = settings.get("runs", {}).get(name, {}).get("wall_s")
    total = history.resource_spent if resource else float(history.n_finished)
    return RunCurve(name, algo, seed, np.array(spent), np.array(best), history.n_finished, wall, total)


def best_within(c: RunCurve, limit: float | None) -> float:
    if not len(c.best):
        return math.inf
    if limit is None:
        return float(c.best[-1])
    i = int(np.searchsorted(c.spent, limit, side="right"))
    return float(c.best[i - 1]) if i > 0 else math.inf


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    a = np.array(values, dtype=float)
    with np.errstate(invalid="ignore"):
        q = np.percentile(a, [50, 25, 75], method="linear") if len(a) else np.full(3, math.inf)
    q = np.where(np.isnan(q), math.inf, q)
    return float(q[0]), float(q[1]), float(q[2])


def summarise(out: str | os.PathLike, algos: list[str] | None = None, seeds: int | None = None,
              x_axis: str = "budget") -> Comparison:
    """Read a comparison directory: per-run curves and the per-algorithm table (``x_axis``: ``budget``
    or ``virtual-time``, see the module doc)."""
    out = Path(out)
    settings = load_settings(out)
    curves: dict[str, list[RunCurve]] = {}
    runs = [(run_name(algo, seed), algo, seed, out / run_name(algo, seed))
            for algo in algos or settings["algos"] for seed in range(seeds or settings["seeds"])
            if is_run_dir(out / run_name(algo, seed))]
    reference, source = None, None
    virtual = x_axis == "virtual-time"
    if _multi(settings):
        if virtual:
            raise CompareError("--x-axis virtual-time: a multi-objective comparison is read against "
                               "evaluations or resource only")
        found, reference, source = _mo_curves(settings, runs)
        for c in found:
            curves.setdefault(c.algo, []).append(c)
    else:
        for name, algo, seed, run_dir in runs:
            curves.setdefault(algo, []).append(_curve(settings, name, algo, seed, run_dir, x_axis))
    if virtual:
        budget = max([float(c.spent[-1]) for cs in curves.values() for c in cs if len(c.spent)], default=0.0)
    else:
        budget = float(settings["budget"])
    rows = []
    for algo, cs in curves.items():
        at = {}
        for f in FRACTIONS:
            med, lo, hi = _quartiles([best_within(c, None if f == 1.0 else f * budget) for c in cs])
            vals = sorted((_display(settings, lo), _display(settings, hi)))
            at[f] = (_display(settings, med), vals[0], vals[1])
        walls = [c.wall_s for c in cs if c.wall_s is not None]
        ends = float(np.median([c.spent[-1] if len(c.spent) else 0.0 for c in cs]))
        spent = float(np.median([c.total for c in cs])) if virtual else ends
        rows.append(AlgoRow(algo, len(cs), at, float(np.median([c.evaluations for c in cs])), spent,
                            float(np.median(walls)) if walls else None, ends if virtual else None))
    return Comparison(out, settings, curves, rows, reference=reference, reference_source=source,
                      x_axis=x_axis, horizon=budget)


@dataclass
class Band:
    """One algorithm's best-so-far over seeds on a grid of budget spent (display units; NaN: none yet)."""

    algo: str
    runs: list[RunCurve]
    grid: np.ndarray
    median: np.ndarray
    lo: np.ndarray  # the interquartile range, lower edge
    hi: np.ndarray


def budget_grid(cmp: Comparison, points: int) -> np.ndarray:
    """``points`` budget values from 0 to the budget (the horizon), or to the most any run spent if more."""
    horizon = cmp.horizon if cmp.horizon is not None else float(cmp.settings["budget"])
    top = max([horizon] + [float(c.spent[-1]) for cs in cmp.curves.values()
                                                 for c in cs if len(c.spent)])
    return np.linspace(0.0, top, points)


def bands(cmp: Comparison, points: int) -> list[Band]:
    """Median and interquartile band of each algorithm's best-so-far on a common grid of ``points``
    budget values from 0 to the budget (or the most any run spent): what compare.png and the
    dashboard's compare page draw."""
    s = cmp.settings
    grid = budget_grid(cmp, points)
    out = []
    for algo, cs in cmp.curves.items():
        values = np.array([[best_within(c, x) for x in grid] for c in cs])
        with np.errstate(invalid="ignore"):
            q = np.percentile(values, [50, 25, 75], axis=0)
        q = np.where(np.isfinite(q), q, np.nan)
        q = np.vectorize(lambda v: _display(s, v) if np.isfinite(v) else np.nan)(q)
        out.append(Band(algo, cs, grid, q[0], np.fmin(q[1], q[2]), np.fmax(q[1], q[2])))
    return out


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def format_table(cmp: Comparison, fmt: str = "table") -> str:
    """The per-algorithm table as text, CSV or JSON (via :func:`hpsearch.reporting.tables.format_rows`)."""
    m = cmp.metric
    unit = "evals" if cmp.settings["unit"] == "evaluations" else "resource"
    virtual = cmp.x_axis == "virtual-time"
    if fmt == "table":
        head = ["algo", "runs"] + [f"{m}@{int(f * 100)}% median [q25, q75]" for f in FRACTIONS] \
            + ["evaluations"] + (["resource spent"] if unit == "resource" else []) \
            + (["virtual s"] if virtual else []) + ["wall s"]
        rows = []
        for r in cmp.rows:
            cells: list[Any] = [r.algo, r.runs]
            for f in FRACTIONS:
                med, lo, hi = r.at[f]
                cells.append("-" if _num(med) is None else
                             f"{format_value(med)} [{_fmt(lo)}, {_fmt(hi)}]")
            cells += [r.evaluations] + ([r.spent] if unit == "resource" else []) \
                + ([r.virtual_s] if virtual else []) + [None if r.wall_s is None else round(r.wall_s, 2)]
            rows.append(cells)
        text = format_rows(head, rows, "table")
        s = cmp.settings
        what = "evaluations" if unit == "evals" else \
            f"resource units (a full evaluation is {s['max_resource']})"
        of = f"{m} of full-budget evaluations" if unit == "resource" else m
        note = (f"\nbudget {format_value(float(s['budget']))} {what} per run; {of}: median over seeds "
                "[interquartile range]; '-': none yet")
        ref = cmp.reference_text()
        if ref:
            note += f"\nhypervolume of each run's Pareto front against the {ref}"
        if virtual:
            note += (f"\npercentages of virtual time: of {format_value(cmp.horizon)} s, the longest run on "
                     f"{s.get('workers', 1)} simulated workers")
        return text + "\n" + note
    return format_rows(*table_rows(cmp), fmt)


def table_rows(cmp: Comparison) -> tuple[list[str], list[list[Any]]]:
    """The per-algorithm table in machine form (``hps compare --format csv``): its head and rows."""
    m = cmp.metric
    head = ["algo", "runs"]
    for f in FRACTIONS:
        p = int(f * 100)
        head += [f"{m}_{p}_median", f"{m}_{p}_q25", f"{m}_{p}_q75"]
    head += ["evaluations_median", "spent_median", "wall_s_median", "budget", "unit"]
    ref = cmp.reference_text()
    if ref:
        head.append("reference_point")
    virtual = cmp.x_axis == "virtual-time"
    if virtual:
        head += ["virtual_s_median", "horizon_virtual_s"]
    rows = []
    for r in cmp.rows:
        cells = [r.algo, r.runs]
        for f in FRACTIONS:
            cells += [_num(v) for v in r.at[f]]
        cells += [r.evaluations, r.spent, r.wall_s, cmp.settings["budget"], cmp.settings["unit"]]
        cells += [ref] if ref else []
        if virtual:
            cells += [r.virtual_s, cmp.horizon]
        rows.append(cells)
    return head, rows


def _fmt(x: float) -> str:
    return "-" if _num(x) is None else format_value(x)


def plot_comparison(cmp: Comparison, path: str | os.PathLike | None = None) -> Path:
    """Best-so-far (regret, log scale, when the optimum is known) vs budget spent (or virtual time, as
    ``cmp.x_axis`` says): the median over seeds as a line, the interquartile range as a band, one
    colour per algorithm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path) if path else cmp.out / "compare.png"
    s = cmp.settings
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    colours = plt.get_cmap("tab10")
    regret = cmp.metric in ("regret", "hv_regret")
    for i, b in enumerate(bands(cmp, 400)):
        median, lo, hi = b.median, b.lo, b.hi
        if regret:
            median, lo, hi = (np.maximum(a, 1e-12) for a in (median, lo, hi))
        colour = colours(i % 10)
        ax.plot(b.grid, median, color=colour, label=f"{b.algo} ({len(b.runs)} seeds)")
        ax.fill_between(b.grid, lo, hi, color=colour, alpha=0.2, linewidth=0)
    if cmp.x_axis == "virtual-time":
        ax.set_xlabel(f"virtual time (s) on {s.get('workers', 1)} simulated workers")
    else:
        ax.axvline(float(s["budget"]), color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("evaluations" if s["unit"] == "evaluations"
                      else f"resource spent (a full evaluation is {s['max_resource']})")
    if regret:
        ax.set_yscale("log")
    if cmp.multi_objective:
        ax.set_ylabel(f"{'hypervolume regret' if regret else 'hypervolume'} (full-budget evaluations)")
        ax.set_title(f"{s['problem_name']}: median and interquartile range over seeds\n"
                     f"{cmp.reference_text()}", fontsize="medium")
    else:
        ax.set_ylabel(f"{'regret' if regret else 'best ' + s['objective']} (full-budget evaluations)")
        ax.set_title(f"{s['problem_name']}: median and interquartile range over seeds")
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
