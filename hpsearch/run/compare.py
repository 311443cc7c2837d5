"""Algorithms side by side on one problem, over seeds, on equal budgets: the library behind ``hps compare``.

A comparison directory holds one ordinary run directory per algorithm and
seed (``<algo>-seed<k>/``, resumable like any run) and ``compare.json``, the
comparison's own settings and which runs are finished::

    >>> import tempfile
    >>> from hpsearch.compare import CompareConfig, run_comparison, summarise, format_table
    >>> out = tempfile.mkdtemp() + "/cmp"
    >>> _ = run_comparison(CompareConfig(problem="branin", algos=["random"], seeds=2, budget=10,
    ...                                  out=out, evaluator="serial"))
    >>> summarise(out).rows[0].runs
    2

Budgets are equal across algorithms and counted in one unit:

* a problem with a resource dimension: resource units. A full-budget
  evaluation costs R (``--max-resource``, default the resource's upper
  bound); multi-fidelity algorithms pay what they train (``budget -
  previous_budget``, warm start); the others get the resource fixed at R and
  pay R per evaluation. A run asks new evaluations while the resource
  already committed is below the budget, so the last evaluation asked is the
  one that reaches or crosses it (it overshoots by less than one evaluation).
* otherwise: evaluations (exactly ``budget`` of them).

The default budget is 100 evaluations, or 100 R in resource units.

A ``--pruner`` (with its ``--pruner-*`` options) goes to every run; like the
budget and the algorithm options, a rerun or resume must keep it.

"Best" is the best objective among *full-budget* evaluations (resource = R;
every evaluation when there is no resource), as regret ``|objective -
optimum|`` in the problem's direction when the problem declares ``optimum``.
At 10%, 25% and 50% of the budget it is taken over the evaluations finished (in
completion order) within that much spent; at 100% over the whole run. A
run with no full-budget evaluation yet counts as the worst value.
The table gives the median over seeds and the interquartile range [q25, q75].
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..evaluators import DEFAULT_EVALUATOR, EVALUATORS
from ..problem.loader import load_problem
from ..reporting.tables import format_rows, format_value
from ..search import (
    PRESETS,
    BackendOptionError,
    backend_class,
    label,
    make_backend,
    resolve,
    route_options,
    split_algo,
)
from ..search.fidelity import resource_value
from ..search.options import check_int
from ..search.pruners import make_pruner
from ..store import RunStore, is_run_dir
from ..store.lock import LOCK_NAME, DirectoryInUse, RunDirLock
from ..trial import Status
from .runner import RunConfig, RunError, resume_run, start_run

__all__ = ["CompareConfig", "CompareError", "ComparisonInterrupted", "run_comparison", "summarise",
           "format_table", "plot_comparison", "default_algos", "comparison_settings", "FRACTIONS",
           "SETTINGS_FILE"]

SETTINGS_FILE = "compare.json"
FRACTIONS = (0.1, 0.25, 0.5, 1.0)
#: settings that define the runs: a rerun must not change them.
_FIXED_KEYS = ("problem_dir", "budget", "unit", "max_resource", "algo_options", "pruner", "pruner_options")
#: fixed keys a comparison stored before they existed lacks, and what it had instead (no pruner).
_ABSENT = {"pruner": None, "pruner_options": {}}


class CompareError(RunError):
    """A comparison cannot start or resume as asked (a usage error; one line)."""


class ComparisonInterrupted(Exception):
    """A run was stopped by a signal; rerun the command (or ``--resume DIR``) to continue."""

    def __init__(self, out: Path, signum: int | None):
        super().__init__(f"interrupted; rerun the same command or 'hps compare --resume {out}'")
        self.out = out
        self.signum = signum


@dataclass
class CompareConfig:
    """What ``hps compare`` decides.

    Attributes:
        problem: a problem name or folder path.
        algos: ``--algo`` names (aliases allowed), ``A+S`` for ``--algo A --searcher S``
            (labelled ``A+S``); empty means every preset that applies to the problem.
        seeds: runs per algorithm, with seeds 0..seeds-1.
        budget: per run, in resource units or evaluations (see the module doc);
            None for the default.
        out: the comparison directory (default ``runs/compare-<problem>``).
        algo_options: scheduler and searcher options (``max_resource``, ``eta``, ``kappa``, ...);
            each is passed to the algorithms whose components take it.
        pruner: a ``--pruner`` name, given to every run (None: no pruner).
        pruner_options: the pruner's options (None values mean its default).
    """

    problem: str
    algos: list[str] = field(default_factory=list)
    seeds: int = 5
    budget: float | None = None
    out: str | None = None
    evaluator: str = DEFAULT_EVALUATOR
    workers: int = 1
    scheduler: str | None = None
    algo_options: dict = field(default_factory=dict)
    pruner: str | None = None
    pruner_options: dict = field(default_factory=dict)


def default_algos(has_resource: bool) -> list[str]:
    """Every preset that applies (multi-fidelity ones need a resource)."""
    return [a for a in PRESETS if has_resource or not backend_class(a).multi_fidelity]


def _plan(cfg: CompareConfig) -> tuple[dict, list[tuple[str, RunConfig]]]:
    """Validate the config; return the comparison's settings and (name, RunConfig) per run."""
    loaded = load_problem(cfg.problem, with_run=False)
    res = loaded.problem.resource
    combos: dict[str, tuple[str, str | None]] = {}  # label -> (preset, searcher or None)
    for text in cfg.algos or default_algos(res is not None):
        algo, searcher = split_algo(text)
        name = resolve(algo, searcher)[0]  # unknown names: BackendOptionError
        combos.setdefault(label(name, searcher), (name, searcher))
    algos = list(combos)
    classes = {a: backend_class(*combos[a]) for a in algos}
    seeds = check_int("--seeds", cfg.seeds, 1)
    if cfg.workers is not None and cfg.workers < 1:
        raise CompareError(f"--workers must be >= 1, got {cfg.workers}")
    options = {k: v for k, v in cfg.algo_options.items() if v is not None}
    pruning = {k: v for k, v in cfg.pruner_options.items() if v is not None}
    routed: dict[str, dict] = {a: {k: v for k, v in options.items() if _takes(combos[a], k, v)}
                               for a in algos}
    for key in options:
        if not any(key in r for r in routed.values()):
            raise CompareError(f"--{key.replace('_', '-')}: does not apply to any of "
                               f"--algo {','.join(algos)}")
    r_max: Any = None
    if res is not None:
        r_max = resource_value("--max-resource", options.get("max_resource"), res.high, res)
    unit = "evaluations" if res is None else "resource"
    budget = cfg.budget
    if budget is None:
        budget = 100 if res is None else 100 * r_max
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not math.isfinite(budget) \
            or budget <= 0:
        raise CompareError(f"--budget must be a number > 0, got {budget}")
    if res is None:
        if budget != int(budget):
            raise CompareError(f"--budget must be a whole number of evaluations (problem {loaded.name!r} "
                               f"has no resource dimension), got {budget:g}")
        budget = int(budget)
    elif budget == int(budget):
        budget = int(budget)
    for a, c in classes.items():
        if c.multi_fidelity and res is None:
            raise CompareError(f"--algo {a}: problem {loaded.name!r} declares no resource dimension, so "
                               "multi-fidelity algorithms do not apply")
    runs = []
    for seed in range(seeds):
        for a in algos:
            c = classes[a]
            opts = dict(routed[a])
            fix: dict = {}
            if res is not None and not c.multi_fidelity:
                fix = {res.name: r_max}
            if res is not None and c.multi_fidelity:
                # let the budget, not the scheduler's own stopping rule, end the run
                own = c.budget_options(loaded.problem, route_options(*combos[a], opts)[0], budget)
                opts.update({k: v for k, v in own.items() if k not in opts})
            name = f"{a}-seed{seed}"
            algo, searcher = combos[a]
            runs.append((name, RunConfig(
                problem=str(loaded.folder), algo=algo, searcher=searcher, algo_options=opts, seed=seed,
                max_evals=budget if unit == "evaluations" else None,
                max_resource_spent=budget if unit == "resource" else None,
                evaluator=cfg.evaluator, workers=cfg.workers or 1, scheduler=cfg.scheduler, fix=fix,
                pruner=cfg.pruner, pruner_options=dict(pruning))))
    if cfg.evaluator not in EVALUATORS:
        raise CompareError(f"--evaluator: unknown evaluator {cfg.evaluator!r} "
                           f"(choose from {', '.join(sorted(EVALUATORS))})")
    for _, rc in runs[:len(algos)]:  # every algorithm's options and the pruner, checked before anything runs
        problem = loaded.problem.fix(rc.fix) if rc.fix else loaded.problem
        make_backend(rc.algo, problem, 0, rc.algo_options, rc.searcher)
        make_pruner(rc.pruner, problem, rc.pruner_options)
    settings = {
        "problem": cfg.problem, "problem_dir": str(loaded.folder), "problem_name": loaded.name,
        "algos": algos, "seeds": seeds, "budget": budget, "unit": unit, "max_resource": r_max,
        "algo_options": options, "pruner": cfg.pruner, "pruner_options": pruning,
        "evaluator": cfg.evaluator, "workers": cfg.workers or 1,
        "scheduler": cfg.scheduler, "optimum": loaded.problem.optimum,
        "direction": loaded.problem.direction, "objective": loaded.problem.objective,
        "hpsearch_version": __version__,
    }
    return settings, runs


def _takes(combo: tuple[str, str | None], key: str, value: Any) -> bool:
    """True if the scheduler or the searcher of ``combo`` declares the option ``key``."""
    try:
        route_options(*combo, {key: value})
    except BackendOptionError:
        return False
    return True


def load_settings(out: str | os.PathLike) -> dict:
    """The comparison's stored settings (``compare.json``)."""
    path = Path(out) / SETTINGS_FILE
    if not path.is_file():
        raise CompareError(f"{out}: not a comparison directory (no {SETTINGS_FILE} in it)")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CompareError(f"{path}: unreadable ({exc})") from None


def config_from_settings(out: str | os.PathLike, **overrides: Any) -> CompareConfig:
    """The config of a stored comparison, for ``hps compare --resume DIR``."""
    s = load_settings(out)
    cfg = CompareConfig(problem=s["problem_dir"], algos=list(s["algos"]), seeds=s["seeds"],
                        budget=s["budget"], out=str(out), evaluator=s["evaluator"], workers=s["workers"],
                        scheduler=s["scheduler"], algo_options=dict(s["algo_options"]),
                        pruner=s.get("pruner"), pruner_options=dict(s.get("pruner_options") or {}))
    for k, v in overrides.items():
        if v is not None:
            setattr(cfg, k, v)
    return cfg


def _save(out: Path, settings: dict) -> None:
    tmp = out / (SETTINGS_FILE + ".tmp")
    tmp.write_text(json.dumps(settings, indent=2))
    os.replace(tmp, out / SETTINGS_FILE)


def run_comparison(cfg: CompareConfig, echo: Callable[[str], None] | None = None) -> Path:
    """Run (or continue) every algorithm on every seed; return the comparison directory.

    Finished runs are skipped, unfinished ones resumed, missing ones started.

    Raises:
        CompareError and the runner's usage errors, before anything runs;
        ComparisonInterrupted when a run is stopped by a signal.
    """
    settings, runs = _plan(cfg)
    out = Path(cfg.out) if cfg.out else Path("runs") / f"compare-{settings['problem_name']}"
    fresh = not out.exists()
    try:
        lock = RunDirLock(out).acquire()  # one `hps compare` per comparison directory
    except DirectoryInUse as exc:
        raise CompareError(str(exc)) from None
    try:
        return _run_locked(cfg, settings, runs, out, fresh, echo)
    finally:
        lock.release()


def _run_locked(cfg: CompareConfig, settings: dict, runs: list, out: Path, fresh: bool,
                echo: Callable[[str], None] | None) -> Path:
    if (out / SETTINGS_FILE).is_file():
        old = load_settings(out)
        for key in _FIXED_KEYS:
            before = old.get(key, _ABSENT.get(key))
            if before != settings[key]:
                raise CompareError(f"--out {out}: holds a comparison with {key} {before!r}, not "
                                   f"{settings[key]!r}; choose another --out")
        settings["runs"] = old.get("runs", {})
        settings["created_at"] = old.get("created_at")
    else:
        if not fresh and any(p.name != LOCK_NAME for p in out.iterdir()):
            raise CompareError(f"--out {out}: exists and is not a comparison directory; choose another")
        out.mkdir(parents=True, exist_ok=True)
        settings["runs"] = {}
        settings["created_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    _save(out, settings)
    say = echo or (lambda _m: None)
    for i, (name, rc) in enumerate(runs, 1):
        state = settings["runs"].setdefault(name, {"finished": False, "wall_s": 0.0})
        tag = f"[{i}/{len(runs)}] {name}"
        if state["finished"]:
            say(f"{tag}: finished before, skipped")
            continue
        run_dir = out / name
        if is_run_dir(run_dir):
            outcome = resume_run(run_dir, workers=cfg.workers, evaluator=cfg.evaluator,
                                 scheduler=cfg.scheduler)
        else:
            rc.run_dir = str(run_dir)
            outcome = start_run(rc)
        outcome.store.close()
        s = outcome.summary
        state["wall_s"] += s.wall_s
        state["finished"] = s.stopped_by is None
        _save(out, settings)
        if s.stopped_by == "signal":
            raise ComparisonInterrupted(out, s.signal)
        spent = f", {s.resource_spent:g} resource" if settings["unit"] == "resource" else ""
        say(f"{tag}: {s.n_finished} evaluations{spent}, {s.wall_s:.1f} s")
    return out


# -- reading a comparison -------------------------------------------------------------
@dataclass
class RunCurve:
    """One run's progress: cumulative spend and best value after each finished evaluation."""

    name: str
    algo: str
    seed: int
    spent: np.ndarray  # cumulative cost after each evaluation (completion order)
    best: np.ndarray  # best value (loss-like: lower is better) so far, inf before any
    evaluations: int
    wall_s: float | None


@dataclass
class AlgoRow:
    """One algorithm's line of the table (values in display units)."""

    algo: str
    runs: int
    at: dict[float, tuple[float, float, float]]  # fraction -> (median, q25, q75)
    evaluations: float
    spent: float
    wall_s: float | None


@dataclass
class Comparison:
    """A comparison read back from its directory."""

    out: Path
    settings: dict
    curves: dict[str, list[RunCurve]]
    rows: list[AlgoRow]

    @property
    def metric(self) -> str:
        return "regret" if self.settings.get("optimum") is not None else "best"


def _score(settings: dict, objective: float) -> float:
    """Lower is better: regret when the optimum is known, else the loss."""
    sign = -1.0 if settings["direction"] == "maximize" else 1.0
    if settings.get("optimum") is not None:
        return max(sign * (objective - settings["optimum"]), 0.0)
    return sign * objective


def _display(settings: dict, score: float) -> float:
    if settings.get("optimum") is None and settings["direction"] == "maximize":
        return -score
    return score


def _curve(settings: dict, name: str, algo: str, seed: int, run_dir: Path) -> RunCurve:
    with RunStore.open(run_dir, readonly=True) as store:
        trials = store.trials(finished_only=True, order="tell_seq")
    resource = settings["unit"] == "resource"
    r_max = settings.get("max_resource")
    spent, best, total, cur = [], [], 0.0, math.inf
    for t in trials:
        if resource:
            total += t.resource_used
        else:
            total += 1
        full = not resource or float(t.budget) == float(r_max)
        if t.status == Status.DONE and full and t.objective is not None:
            cur = min(cur, _score(settings, t.objective))
        spent.append(total)
        best.append(cur)
    wall = settings.get("runs", {}).get(name, {}).get("wall_s")
    return RunCurve(name, algo, seed, np.array(spent), np.array(best), len(trials), wall)


def _best_within(c: RunCurve, limit: float | None) -> float:
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


def summarise(out: str | os.PathLike, algos: list[str] | None = None, seeds: int | None = None
              ) -> Comparison:
    """Read a comparison directory: per-run curves and the per-algorithm table."""
    out = Path(out)
    settings = load_settings(out)
    budget = float(settings["budget"])
    curves: dict[str, list[RunCurve]] = {}
    for algo in algos or settings["algos"]:
        for seed in range(seeds or settings["seeds"]):
            name = f"{algo}-seed{seed}"
            if is_run_dir(out / name):
                curves.setdefault(algo, []).append(_curve(settings, name, algo, seed, out / name))
    rows = []
    for algo, cs in curves.items():
        at = {}
        for f in FRACTIONS:
            med, lo, hi = _quartiles([_best_within(c, None if f == 1.0 else f * budget) for c in cs])
            vals = sorted((_display(settings, lo), _display(settings, hi)))
            at[f] = (_display(settings, med), vals[0], vals[1])
        walls = [c.wall_s for c in cs if c.wall_s is not None]
        rows.append(AlgoRow(algo, len(cs), at, float(np.median([c.evaluations for c in cs])),
                            float(np.median([c.spent[-1] if len(c.spent) else 0.0 for c in cs])),
                            float(np.median(walls)) if walls else None))
    return Comparison(out, settings, curves, rows)


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def format_table(cmp: Comparison, fmt: str = "table") -> str:
    """The per-algorithm table as text, CSV or JSON (via :func:`hpsearch.report.format_rows`)."""
    m = cmp.metric
    unit = "evals" if cmp.settings["unit"] == "evaluations" else "resource"
    if fmt == "table":
        head = ["algo", "runs"] + [f"{m}@{int(f * 100)}% median [q25, q75]" for f in FRACTIONS] \
            + ["evaluations"] + (["resource spent"] if unit == "resource" else []) + ["wall s"]
        rows = []
        for r in cmp.rows:
            cells: list[Any] = [r.algo, r.runs]
            for f in FRACTIONS:
                med, lo, hi = r.at[f]
                cells.append("-" if _num(med) is None else
                             f"{format_value(med)} [{_fmt(lo)}, {_fmt(hi)}]")
            cells += [r.evaluations] + ([r.spent] if unit == "resource" else []) \
                + [None if r.wall_s is None else round(r.wall_s, 2)]
            rows.append(cells)
        text = format_rows(head, rows, "table")
        s = cmp.settings
        what = "evaluations" if unit == "evals" else \
            f"resource units (a full evaluation is {s['max_resource']})"
        of = f"{m} of full-budget evaluations" if unit == "resource" else m
        note = (f"\nbudget {format_value(float(s['budget']))} {what} per run; {of}: median over seeds "
                "[interquartile range]; '-': none yet")
        return text + "\n" + note
    head = ["algo", "runs"]
    for f in FRACTIONS:
        p = int(f * 100)
        head += [f"{m}_{p}_median", f"{m}_{p}_q25", f"{m}_{p}_q75"]
    head += ["evaluations_median", "spent_median", "wall_s_median", "budget", "unit"]
    rows = []
    for r in cmp.rows:
        cells = [r.algo, r.runs]
        for f in FRACTIONS:
            cells += [_num(v) for v in r.at[f]]
        cells += [r.evaluations, r.spent, r.wall_s, cmp.settings["budget"], cmp.settings["unit"]]
        rows.append(cells)
    return format_rows(head, rows, fmt)


def _fmt(x: float) -> str:
    return "-" if _num(x) is None else format_value(x)


def plot_comparison(cmp: Comparison, path: str | os.PathLike | None = None) -> Path:
    """Best-so-far (regret, log scale, when the optimum is known) vs budget spent: the median over
    seeds as a line, the interquartile range as a band, one colour per algorithm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path) if path else cmp.out / "compare.png"
    s = cmp.settings
    top = max([float(s["budget"])] + [float(c.spent[-1]) for cs in cmp.curves.values() for c in cs
                                      if len(c.spent)])
    grid = np.linspace(0.0, top, 400)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    colours = plt.get_cmap("tab10")
    regret = cmp.metric == "regret"
    for i, (algo, cs) in enumerate(cmp.curves.items()):
        values = np.array([[_best_within(c, x) for x in grid] for c in cs])
        with np.errstate(invalid="ignore"):
            q = np.percentile(values, [50, 25, 75], axis=0)
        q = np.where(np.isfinite(q), q, np.nan)
        q = np.vectorize(lambda v: _display(s, v) if np.isfinite(v) else np.nan)(q)
        if regret:
            q = np.maximum(q, 1e-12)
        colour = colours(i % 10)
        ax.plot(grid, q[0], color=colour, label=f"{algo} ({len(cs)} seeds)")
        ax.fill_between(grid, np.fmin(q[1], q[2]), np.fmax(q[1], q[2]), color=colour, alpha=0.2,
                        linewidth=0)
    ax.axvline(float(s["budget"]), color="grey", linestyle=":", linewidth=1)
    if regret:
        ax.set_yscale("log")
    ax.set_xlabel("evaluations" if s["unit"] == "evaluations"
                  else f"resource spent (a full evaluation is {s['max_resource']})")
    ax.set_ylabel(f"{'regret' if regret else 'best ' + s['objective']} (full-budget evaluations)")
    ax.set_title(f"{s['problem_name']}: median and interquartile range over seeds")
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def comparison_settings(cfg: CompareConfig) -> dict:
    """The settings :func:`run_comparison` would store: validates ``cfg``, writes nothing.

    Raises the same one-line usage errors as ``hps compare`` (tests/perf/bench_mf.py
    uses it to skip an algorithm a problem does not take).
    """
    return _plan(cfg)[0]
