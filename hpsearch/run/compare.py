"""Running algorithms side by side on one problem, over seeds, on equal budgets: ``hps compare``.

A comparison directory holds one ordinary run directory per algorithm and
seed (``<algo>-seed<k>/``, resumable like any run) and ``compare.json``, the
comparison's own settings and which runs are finished
(:mod:`hpsearch.store.comparisons`); :mod:`hpsearch.reporting.comparison`
reads it back as a table and a plot::

    >>> import tempfile
    >>> from hpsearch.run.compare import CompareConfig, run_comparison
    >>> from hpsearch.reporting.comparison import summarise
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
"""
from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..evaluators import DEFAULT_EVALUATOR, EVALUATORS
from ..problem.loader import load_problem
from ..search import (
    PRESETS,
    OptionError,
    algo_scheduler_class,
    label,
    make_scheduler,
    resolve,
    route_options,
    split_algo,
)
from ..search.fidelity import resource_value
from ..search.options import check_int
from ..search.presets import choose_schedule
from ..search.pruners import make_pruner
from ..store import is_run_dir
from ..store.comparisons import SETTINGS_FILE, CompareError, load_settings, run_name, save_settings
from ..store.lock import LOCK_NAME, DirectoryInUse, RunDirLock
from .runner import RunConfig, plan_workers, resume_run, short_name, start_run, with_dask_scheduler

__all__ = ["CompareConfig", "CompareError", "ComparisonInterrupted", "run_comparison", "config_from_settings",
           "default_algos", "comparison_settings"]

#: settings that define the runs: a rerun must not change them.
_FIXED_KEYS = ("problem_dir", "budget", "unit", "max_resource", "algo_options", "pruner", "pruner_options")
#: fixed keys a comparison stored before they existed lacks, and what it had instead (no pruner).
_ABSENT = {"pruner": None, "pruner_options": {}}


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
        dask_scheduler: ``--dask-scheduler`` for every run (with ``evaluator="dask"``).
        allow_many_workers: start more worker processes than this machine can hold (not stored).
    """

    problem: str
    algos: list[str] = field(default_factory=list)
    seeds: int = 5
    budget: float | None = None
    out: str | None = None
    evaluator: str = DEFAULT_EVALUATOR
    workers: int = 1
    dask_scheduler: str | None = None
    algo_options: dict = field(default_factory=dict)
    pruner: str | None = None
    pruner_options: dict = field(default_factory=dict)
    allow_many_workers: bool = False


def default_algos(has_resource: bool) -> list[str]:
    """Every preset that applies (multi-fidelity ones need a resource)."""
    return [a for a in PRESETS if has_resource or not algo_scheduler_class(a).multi_fidelity]


def _plan(cfg: CompareConfig) -> tuple[dict, list[tuple[str, RunConfig]]]:
    """Validate the config; return the comparison's settings and (name, RunConfig) per run."""
    loaded = load_problem(cfg.problem, with_run=False)
    res = loaded.problem.resource
    combos: dict[str, tuple[str, str | None]] = {}  # label -> (preset, searcher or None)
    for text in cfg.algos or default_algos(res is not None):
        algo, searcher = split_algo(text)
        name = resolve(algo, searcher)[0]  # unknown names: OptionError
        combos.setdefault(label(name, searcher), (name, searcher))
    algos = list(combos)
    seeds = check_int("--seeds", cfg.seeds, 1)
    if cfg.workers is not None and cfg.workers < 1:
        raise CompareError(f"--workers must be >= 1, got {cfg.workers}")
    options = {k: v for k, v in cfg.algo_options.items() if v is not None}
    pruning = {k: v for k, v in cfg.pruner_options.items() if v is not None}
    routed: dict[str, dict] = {a: {k: v for k, v in options.items() if _takes(combos[a], k, v)}
                               for a in algos}
    workers = 1 if cfg.evaluator == "serial" else cfg.workers or 1
    routed = {a: choose_schedule(*combos[a], routed[a], workers) for a in algos}  # each run stores its choice
    classes = {a: algo_scheduler_class(*combos[a], routed[a]) for a in algos}
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
            name = run_name(a, seed)
            algo, searcher = combos[a]
            runs.append((name, RunConfig(
                problem=str(loaded.folder), algo=algo, searcher=searcher, algo_options=opts, seed=seed,
                max_evals=budget if unit == "evaluations" else None,
                max_resource_spent=budget if unit == "resource" else None,
                evaluator=cfg.evaluator, workers=cfg.workers or 1, dask_scheduler=cfg.dask_scheduler,
                fix=fix, pruner=cfg.pruner, pruner_options=dict(pruning),
                allow_many_workers=cfg.allow_many_workers)))
    if cfg.evaluator not in EVALUATORS:
        raise CompareError(f"--evaluator: unknown evaluator {cfg.evaluator!r} "
                           f"(choose from {', '.join(sorted(EVALUATORS))})")
    for _, rc in runs[:len(algos)]:  # every algorithm's options and the pruner, checked before anything runs
        problem = loaded.problem.fix(rc.fix) if rc.fix else loaded.problem
        scheduler = make_scheduler(rc.algo, problem, 0, rc.algo_options, rc.searcher)
        make_pruner(rc.pruner, problem, rc.pruner_options)
        plan_workers(rc, scheduler)  # too many worker processes for this machine: refused here
    settings = {
        "problem": cfg.problem, "problem_dir": str(loaded.folder), "problem_name": loaded.name,
        "algos": algos, "seeds": seeds, "budget": budget, "unit": unit, "max_resource": r_max,
        "algo_options": options, "pruner": cfg.pruner, "pruner_options": pruning,
        "evaluator": cfg.evaluator, "workers": cfg.workers or 1,
        "dask_scheduler": cfg.dask_scheduler, "optimum": loaded.problem.optimum,
        "direction": loaded.problem.direction, "objective": loaded.problem.objective,
        "hpsearch_version": __version__,
    }
    if loaded.problem.multi_objective:
        settings.update(objectives=loaded.problem.objectives, reference_point=loaded.problem.reference_point,
                        hypervolume_optimum=loaded.problem.hypervolume_optimum)
    return settings, runs


def _takes(combo: tuple[str, str | None], key: str, value: Any) -> bool:
    """True if the scheduler or the searcher of ``combo`` declares the option ``key``."""
    try:
        route_options(*combo, {key: value})
    except OptionError:
        return False
    return True


def config_from_settings(out: str | os.PathLike, **overrides: Any) -> CompareConfig:
    """The config of a stored comparison, for ``hps compare --resume DIR``."""
    s = with_dask_scheduler(load_settings(out))
    cfg = CompareConfig(problem=s["problem_dir"], algos=list(s["algos"]), seeds=s["seeds"],
                        budget=s["budget"], out=str(out), evaluator=s["evaluator"], workers=s["workers"],
                        dask_scheduler=s["dask_scheduler"], algo_options=dict(s["algo_options"]),
                        pruner=s.get("pruner"), pruner_options=dict(s.get("pruner_options") or {}))
    for k, v in overrides.items():
        if v is not None:
            setattr(cfg, k, v)
    return cfg


def run_comparison(cfg: CompareConfig, echo: Callable[[str], None] | None = None) -> Path:
    """Run (or continue) every algorithm on every seed; return the comparison directory.

    Finished runs are skipped, unfinished ones resumed, missing ones started.

    Raises:
        CompareError and the runner's usage errors, before anything runs;
        ComparisonInterrupted when a run is stopped by a signal.
    """
    settings, runs = _plan(cfg)
    out = Path(cfg.out) if cfg.out else Path("runs") / f"compare-{short_name(settings['problem_name'])}"
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
    save_settings(out, settings)
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
                                 dask_scheduler=cfg.dask_scheduler,
                                 allow_many_workers=cfg.allow_many_workers or None)
        else:
            rc.run_dir = str(run_dir)
            outcome = start_run(rc)
        outcome.store.close()
        s = outcome.summary
        state["wall_s"] += s.wall_s
        state["finished"] = s.stopped_by is None
        save_settings(out, settings)
        if s.stopped_by == "signal":
            raise ComparisonInterrupted(out, s.signal)
        spent = f", {s.resource_spent:g} resource" if settings["unit"] == "resource" else ""
        say(f"{tag}: {s.n_finished} evaluations{spent}, {s.wall_s:.1f} s")
    return out


def comparison_settings(cfg: CompareConfig) -> dict:
    """The settings :func:`run_comparison` would store: validates ``cfg``, writes nothing.

    Raises the same one-line usage errors as ``hps compare`` (tests/perf/bench_mf.py
    uses it to skip an algorithm a problem does not take).
    """
    return _plan(cfg)[0]
