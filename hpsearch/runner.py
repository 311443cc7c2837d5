"""Start or resume a run from settings: the library behind ``hps run`` and ``hps resume``.

The settings are stored in the run directory, so a resume rebuilds exactly
the same problem, backend and evaluator. Example::

    >>> import tempfile
    >>> from hpsearch.runner import RunConfig, start_run
    >>> cfg = RunConfig(problem="branin", algo="random", max_evals=5, seed=0,
    ...                 run_dir=tempfile.mkdtemp() + "/r", evaluator="serial")
    >>> start_run(cfg).summary.n_done
    5
"""
from __future__ import annotations

import datetime as _dt
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .engine import Engine, Limits, Observer, RunSummary
from .evaluators import DEFAULT_EVALUATOR, make_evaluator
from .loader import LoadedProblem, load_problem
from .search import backend_class, label, make_backend, resolve, split_algo
from .store import RunStore, StoreError

__all__ = ["RunConfig", "RunOutcome", "start_run", "resume_run", "default_run_dir", "RunError"]


class RunError(Exception):
    """A run cannot start or resume as asked (a usage error; message is one line)."""


@dataclass
class RunConfig:
    """Everything ``hps run`` decides; stored as the run's settings.

    Attributes:
        problem: a problem name or folder path.
        algo: an ``--algo`` preset (``random``, ``bayesian``, ``hyperband``, ``asha``, ``bohb``), or
            ``A+S`` for ``algo=A, searcher=S``.
        searcher: the ``--searcher`` replacing the preset's (None: the preset's own).
        algo_options: the scheduler's and the searcher's options, by name (None values mean the
            component's default); each goes to the component that declares it.
        max_evals: None means the scheduler's default when no other limit is set
            (100 for fifo; hyperband and asha stop by themselves).
        fix: ``name -> value`` pins (values as strings from the CLI, or typed).
    """

    problem: str
    algo: str = "random"
    searcher: str | None = None
    algo_options: dict = field(default_factory=dict)
    seed: int | None = None
    max_evals: int | None = None
    max_resource_spent: float | None = None
    timeout: float | None = None
    trial_timeout: float | None = None
    evaluator: str = DEFAULT_EVALUATOR
    workers: int = 1
    scheduler: str | None = None
    fix: dict = field(default_factory=dict)
    run_dir: str | None = None


@dataclass
class RunOutcome:
    """A finished, stopped or failed run: where it is and what it did."""

    run_dir: Path
    summary: RunSummary
    store: RunStore
    loaded: LoadedProblem


def default_run_dir(problem_name: str, algo: str) -> Path:
    """``runs/<problem>-<algo>-<timestamp>``, made unique if it exists."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{problem_name}-{algo}-{stamp}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


@dataclass
class _Parts:
    problem: Any
    backend: Any
    evaluator: Any
    limits: Limits

    def engine(self, store: RunStore, seed: int, observer: Observer | None) -> Engine:
        return Engine(self.problem, self.backend, self.evaluator, store, self.limits, seed, observer)


def _build(cfg: RunConfig, loaded: LoadedProblem, run_dir: Path) -> _Parts:
    """Problem with pins, backend and evaluator from a config; raises usage errors, writes nothing."""
    problem = loaded.problem.fix(cfg.fix) if cfg.fix else loaded.problem
    cls = backend_class(cfg.algo, cfg.searcher)
    if cls.multi_fidelity:
        if problem.resource is None:
            raise RunError(
                f"--algo {cfg.algo}: problem {loaded.name!r} declares no resource dimension; declare "
                "one in problem.py, e.g. Problem.add_dim('epochs', (1, 81), default=9, resource=True)")
        if problem.resource.name in problem.fixed:
            raise RunError(f"--fix {problem.resource.name}: --algo {cfg.algo} sets the resource itself; "
                           "it cannot be fixed")
    for name, value in (("--max-evals", cfg.max_evals), ("--workers", cfg.workers)):
        if value is not None and value < 1:
            raise RunError(f"{name} must be >= 1, got {value}")
    if cfg.max_resource_spent is not None:
        if problem.resource is None:
            raise RunError(f"max_resource_spent: problem {loaded.name!r} declares no resource dimension")
        if not cfg.max_resource_spent > 0:
            raise RunError(f"max_resource_spent must be > 0, got {cfg.max_resource_spent:g}")
    for name, value in (("--timeout", cfg.timeout), ("--trial-timeout", cfg.trial_timeout)):
        if value is not None and value <= 0:
            raise RunError(f"{name} must be > 0 seconds, got {value:g}")
    backend = make_backend(cfg.algo, problem, cfg.seed, cfg.algo_options, cfg.searcher)
    if cfg.scheduler and cfg.evaluator != "dask":
        raise RunError(f"--scheduler is only used with --evaluator dask (got --evaluator {cfg.evaluator})")
    options = {"loaded": loaded} if cfg.evaluator == "serial" else {}
    if cfg.scheduler:
        options["scheduler"] = cfg.scheduler
    evaluator = make_evaluator(cfg.evaluator, loaded.folder, workers=cfg.workers,
                               trial_timeout=cfg.trial_timeout, run_dir=run_dir, **options)
    limits = Limits(max_evals=cfg.max_evals, timeout=cfg.timeout, trial_timeout=cfg.trial_timeout,
                    max_resource_spent=cfg.max_resource_spent)
    return _Parts(problem, backend, evaluator, limits)


def start_run(cfg: RunConfig, observer: Observer | None = None) -> RunOutcome:
    """Validate everything, create the run directory, and search.

    Raises:
        RunError, ProblemLoadError, SpaceError, BackendOptionError, EvaluatorError,
        StoreError: usage errors, raised before anything is written.
    """
    algo, searcher = split_algo(cfg.algo)
    if searcher is not None and cfg.searcher is not None and searcher != cfg.searcher:
        raise RunError(f"--searcher {cfg.searcher}: --algo {cfg.algo} names another searcher")
    cfg.searcher = searcher or cfg.searcher
    cfg.algo, _, _ = resolve(algo, cfg.searcher)  # an unknown name is a usage error before any work
    loaded = load_problem(cfg.problem)
    if cfg.seed is None:
        cfg.seed = secrets.randbelow(2**31)
    if cfg.max_evals is None and cfg.timeout is None and cfg.max_resource_spent is None:
        cfg.max_evals = backend_class(cfg.algo, cfg.searcher).default_max_evals()
    name = label(cfg.algo, cfg.searcher)
    run_dir = Path(cfg.run_dir) if cfg.run_dir else default_run_dir(loaded.name, name)
    cfg.run_dir = str(run_dir)
    parts = _build(cfg, loaded, run_dir)
    settings = {
        **asdict(cfg),
        "problem_dir": str(loaded.folder),
        "problem_name": loaded.name,
        "space": loaded.problem.to_dict(),
        "multi_fidelity": type(parts.backend).multi_fidelity,
        "hpsearch_version": __version__,
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    store = RunStore.create(run_dir, settings, loaded.problem.names)
    return RunOutcome(run_dir, parts.engine(store, cfg.seed, observer).run(), store, loaded)


def resume_run(run_dir: str | os.PathLike, observer: Observer | None = None,
               **overrides: Any) -> RunOutcome:
    """Continue a stopped run from its directory.

    Args:
        run_dir: the run directory.
        **overrides: settings to change (``max_evals``, ``max_resource_spent``, ``timeout``, ``workers``,
            ``evaluator``, ``scheduler``, ``trial_timeout``); None means keep.
    """
    store = RunStore.open(run_dir)
    settings = dict(store.settings)
    changes = {k: v for k, v in overrides.items() if v is not None}
    if changes.get("evaluator", "dask") != "dask" and "scheduler" not in changes:
        changes["scheduler"] = None  # the stored address belonged to the old evaluator
    known = {f for f in RunConfig.__dataclass_fields__}
    cfg = RunConfig(**{k: v for k, v in {**settings, **changes}.items() if k in known})
    folder = settings.get("problem_dir")
    if not folder or not Path(folder).is_dir():
        store.close()
        raise StoreError(f"{run_dir}: the problem folder {folder} is gone; restore it to resume")
    loaded = load_problem(folder)
    now = loaded.problem.to_dict()
    if now["dims"] != settings["space"]["dims"] or now["direction"] != settings["space"]["direction"]:
        store.close()
        raise RunError(f"{Path(folder) / 'problem.py'}: the search space changed since the run started; "
                       "start a new run instead of resuming this one")
    try:
        parts = _build(cfg, loaded, Path(run_dir))
    except BaseException:
        store.close()
        raise
    if changes:
        store.update_settings(**changes)
    return RunOutcome(Path(run_dir), parts.engine(store, cfg.seed, observer).run(), store, loaded)
