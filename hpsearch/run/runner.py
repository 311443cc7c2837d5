"""Start or resume a run from settings: the library behind ``hps run`` and ``hps resume``.

The settings are stored in the run directory, so a resume rebuilds exactly
the same problem, scheduler and evaluator. Example::

    >>> import tempfile
    >>> from hpsearch.runner import RunConfig, start_run
    >>> cfg = RunConfig(problem="branin", algo="random", max_evals=5, seed=0,
    ...                 run_dir=tempfile.mkdtemp() + "/r", evaluator="serial")
    >>> start_run(cfg).summary.n_done
    5
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import math
import os
import pickle
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import UsageError
from ..evaluators import DEFAULT_EVALUATOR, make_evaluator
from ..evaluators.base import Evaluator
from ..evaluators.devices import Placement
from ..evaluators.machine import check_workers
from ..problem.inline import from_callable
from ..problem.loader import LoadedProblem, bundled_dir, load_problem
from ..problem.objective import objectives_of
from ..problem.space import HpProblem
from ..search import OptionError, Scheduler, algo_scheduler_class, label, make_scheduler, resolve, split_algo
from ..search.fidelity import resource_dimension
from ..search.presets import PRESETS, choose_schedule, options_to_resume, options_to_store
from ..search.pruners import make_pruner
from ..store import RunHistory, RunStore, StoreError
from ..trial import STOP_GRACE, Status
from .engine import Engine, Limits, Observer, RunSummary
from .stopping import parse_conditions
from .warm_from import WarmFromError, read_runs

__all__ = ["RunConfig", "RunOutcome", "start_run", "resume_run", "default_run_dir", "RunError",
           "stored_summary", "with_dask_scheduler", "plan_workers", "WarmFromError", "PreparedRun",
           "prepare_run", "prepare_resume", "made_from_python", "stored_problem", "MADE_FROM_PYTHON",
           "PROBLEM_FILE", "config_from_keywords"]


class RunError(UsageError):
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
        workers: evaluations at once, ``"auto"``, or None (1; with GPUs, one per GPU slot).
        gpus: ``--gpus`` as given (``all``, a count, or ids ``0,2,3``); None: no GPU placement.
        gpus_per_trial: ``--gpus-per-trial`` (None: 1 with ``gpus``; Dask: no GPU resource).
        pruner: a ``--pruner`` name (stops running trials from their reports), or None.
        pruner_options: the pruner's options (None values mean its default).
        stop_when: ``--stop-when`` conditions, e.g. ``["val_accuracy>=0.98"]``.
        stop_grace: seconds a trial told to stop gets before it is stopped by force.
        dask_scheduler: ``--dask-scheduler``, the Dask cluster's address or scheduler file (with
            ``evaluator="dask"``; None: a local cluster). Settings stored before this name read
            their ``scheduler`` key as it.
        allow_many_workers: start more worker processes than this machine can hold
            (``--allow-many-workers``; see :mod:`hpsearch.evaluators.machine`).
        warm_from: earlier runs' directories (``--warm-from``, repeatable): their finished evaluations
            are the searcher's observations before the first ask, not this run's evaluations
            (see :mod:`hpsearch.run.warm_from`); read once, when the run starts, and stored with it.
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
    workers: int | str | None = 1
    dask_scheduler: str | None = None
    fix: dict = field(default_factory=dict)
    run_dir: str | None = None
    gpus: str | None = None
    gpus_per_trial: int | None = None
    pruner: str | None = None
    pruner_options: dict = field(default_factory=dict)
    stop_when: list = field(default_factory=list)
    stop_grace: float = STOP_GRACE
    allow_many_workers: bool = False
    warm_from: list = field(default_factory=list)


#: the keywords of the Python API that are not RunConfig fields of their own name
_NOT_KEYWORDS = ("problem", "algo", "searcher", "seed", "run_dir")


def config_from_keywords(problem: str, algo: str = "random", searcher: str | None = None,
                         seed: int | None = None, run_dir: str | os.PathLike | None = None,
                         **options: Any) -> RunConfig:
    """A :class:`RunConfig` from the keywords of ``hpsearch.optimize`` and ``hpsearch.Study``.

    A keyword that names a RunConfig field sets it (``max_evals``, ``workers``, ``fix``,
    ``stop_when``, ...); ``pruner_NAME`` is the pruner's option NAME (``--pruner-NAME``); any other
    is a scheduler's or searcher's option (``--NAME``), checked when the run is built exactly as
    the CLI checks it (one not taken by the chosen components is the same one-line error).

        >>> cfg = config_from_keywords("f", "hyperband", eta=3, max_evals=9, pruner="median",
        ...                            pruner_grace_period=2, stop_when="loss<=0.1")
        >>> cfg.algo_options, cfg.max_evals, cfg.pruner_options, cfg.stop_when
        ({'eta': 3}, 9, {'grace_period': 2}, ['loss<=0.1'])
    """
    fields = set(RunConfig.__dataclass_fields__) - set(_NOT_KEYWORDS)
    algo_options = dict(options.pop("algo_options", None) or {})
    pruner_options = dict(options.pop("pruner_options", None) or {})
    given = {}
    for key, value in options.items():
        if key in fields:
            given[key] = value
        elif key.startswith("pruner_"):
            pruner_options[key[len("pruner_"):]] = value
        else:
            algo_options[key] = value
    if isinstance(given.get("stop_when"), str):
        given["stop_when"] = [given["stop_when"]]
    given = {k: v for k, v in given.items() if v is not None}
    given["stop_when"] = list(given.get("stop_when") or [])
    return RunConfig(problem=problem, algo=algo, searcher=searcher, seed=seed,
                     run_dir=None if run_dir is None else str(run_dir), algo_options=algo_options,
                     pruner_options=pruner_options, **given)


@dataclass
class RunOutcome:
    """A finished, stopped or failed run: where it is and what it did."""

    run_dir: Path
    summary: RunSummary
    store: RunStore
    loaded: LoadedProblem | None  # None when a resume found nothing left to run
    placement: str | None = None  # how many workers were chosen and why (auto, GPUs), for the summary


def with_dask_scheduler(settings: dict) -> dict:
    """A copy of stored settings with the Dask address under ``dask_scheduler``.

    Settings written before the rename (run settings and ``compare.json``) hold it
    under ``scheduler``; that key is read only when ``dask_scheduler`` is absent.

        >>> with_dask_scheduler({"scheduler": "tcp://h:8786"})["dask_scheduler"]
        'tcp://h:8786'
        >>> with_dask_scheduler({"scheduler": "tcp://old:1", "dask_scheduler": None})["dask_scheduler"]
    """
    out = dict(settings)
    if "dask_scheduler" not in out:
        out["dask_scheduler"] = out.get("scheduler")
    return out


#: the longest problem name a default run directory's name keeps (a file name holds 255 bytes).
NAME_IN_DIR = 64


def short_name(name: str) -> str:
    """``name`` cut to :data:`NAME_IN_DIR` characters for a directory name (a long folder name
    would make the default run directory's name longer than a file system allows)."""
    return name if len(name) <= NAME_IN_DIR else name[:NAME_IN_DIR].rstrip("-_.") + "~"


def default_run_dir(problem_name: str, algo: str) -> Path:
    """``runs/<problem>-<algo>-<timestamp>``, made unique if it exists (the problem name cut short).

    >>> default_run_dir("p" * 300, "random").name.startswith("p" * 64 + "~-random-")
    True
    """
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{short_name(problem_name)}-{algo}-{stamp}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


@dataclass
class _Parts:
    problem: Any
    scheduler: Any
    evaluator: Any
    limits: Limits
    placement: Placement
    pruner: Any = None
    stop_when: list = field(default_factory=list)
    stop_grace: float = STOP_GRACE

    def engine(self, store: RunStore, seed: int, observer: Observer | None) -> Engine:
        return Engine(self.problem, self.scheduler, self.evaluator, store, self.limits, seed, observer,
                      pruner=self.pruner, stop_when=self.stop_when, stop_grace=self.stop_grace)


def _check_numbers(cfg: RunConfig) -> None:
    """Counts, seed and time limits (NaN refused), for a new run and for a resume's overrides."""
    for name, value in (("--max-evals", cfg.max_evals), ("--workers", cfg.workers)):
        if isinstance(value, int) and value < 1:  # workers may also be "auto"
            raise RunError(f"{name} must be >= 1, got {value}")
    if cfg.seed is not None and not 0 <= cfg.seed < 2**32:
        raise RunError(f"--seed must be an integer in [0, 2**32), got {cfg.seed}")
    for name, value in (("--timeout", cfg.timeout), ("--trial-timeout", cfg.trial_timeout)):
        if value is not None and not value > 0:  # NaN too
            raise RunError(f"{name} must be > 0 seconds, got {value:g}")


def plan_workers(cfg: RunConfig, scheduler: Scheduler) -> Placement:
    """The run's workers: ``--workers`` (or auto, or one per GPU slot), but never more than its
    evaluations can use at once (``max_evals``, and what the scheduler can have in flight).

    Raises:
        TooManyWorkers: more worker processes on this machine than it can hold, unless
            ``cfg.allow_many_workers`` (nothing is started or written).
        EvaluatorError: a bad ``--workers``/``--gpus`` combination.
    """
    placement = Placement.plan(cfg.evaluator, cfg.workers, cfg.gpus, cfg.gpus_per_trial)
    if cfg.evaluator == "serial":  # one trial at a time in the driver, whatever --workers says
        return placement
    simulated = cfg.evaluator == "simulated"  # virtual workers: no machine bound
    at_once = scheduler.max_in_flight()
    if cfg.max_evals is not None and (at_once is None or cfg.max_evals <= at_once):
        placement = placement.at_most(cfg.max_evals, f"--max-evals {cfg.max_evals}")
    elif at_once is not None:
        placement = placement.at_most(at_once, f"{label(cfg.algo, cfg.searcher)} has at most {at_once} "
                                               "evaluations in flight")
    if not simulated and (not cfg.dask_scheduler or cfg.evaluator == "process"):  # dask without one: local
        check_workers(placement.workers, cfg.workers, cfg.allow_many_workers)
    return placement


def _build(cfg: RunConfig, loaded: LoadedProblem, run_dir: Path,
           own_evaluator: Evaluator | None = None) -> _Parts:
    """Problem with pins, scheduler and evaluator from a config; raises usage errors, writes nothing.

    ``own_evaluator``: one made already (an ask/tell study's, whose user runs the evaluations), instead
    of the one ``cfg`` names.
    """
    problem = loaded.problem.fix(cfg.fix) if cfg.fix else loaded.problem
    cls = algo_scheduler_class(cfg.algo, cfg.searcher, cfg.algo_options)
    if cls.multi_fidelity:
        try:
            resource_dimension(problem, cfg.algo, loaded.name)
        except OptionError as exc:
            raise RunError(str(exc)) from None
    _check_numbers(cfg)
    if cfg.max_resource_spent is not None:
        if problem.resource is None:
            raise RunError(f"max_resource_spent: problem {loaded.name!r} declares no resource dimension")
        if not (cfg.max_resource_spent > 0 and math.isfinite(cfg.max_resource_spent)):
            raise RunError(f"max_resource_spent must be > 0, got {cfg.max_resource_spent:g}")
    scheduler = make_scheduler(cfg.algo, problem, cfg.seed, cfg.algo_options, cfg.searcher)
    pruner = make_pruner(cfg.pruner, problem, cfg.pruner_options)
    stop_when = parse_conditions(cfg.stop_when)
    if not cfg.stop_grace > 0:
        raise RunError(f"--stop-grace must be > 0 seconds, got {cfg.stop_grace:g}")
    if cfg.dask_scheduler and cfg.evaluator != "dask":
        raise RunError(f"--dask-scheduler is only used with --evaluator dask "
                       f"(got --evaluator {cfg.evaluator})")
    evaluator = own_evaluator
    if evaluator is not None:
        placement = Placement.plan("serial", 1, None, None)
    else:
        placement = plan_workers(cfg, scheduler)
        # the serial evaluator runs the problem imported here; a problem made in Python goes to workers too
        in_driver = cfg.evaluator in ("serial", "simulated")
        options = {"loaded": loaded} if in_driver or loaded.folder is None else {}
        if cfg.dask_scheduler:
            options["dask_scheduler"] = cfg.dask_scheduler
        evaluator = make_evaluator(cfg.evaluator, loaded.folder, workers=placement.workers,
                                   trial_timeout=cfg.trial_timeout, run_dir=run_dir,
                                   **options, **placement.evaluator_options())
    limits = Limits(max_evals=cfg.max_evals, timeout=cfg.timeout, trial_timeout=cfg.trial_timeout,
                    max_resource_spent=cfg.max_resource_spent)
    return _Parts(problem, scheduler, evaluator, limits, placement, pruner, stop_when, cfg.stop_grace)


#: ``settings["made_from"]`` of a run made with the Python API from a problem made in Python (no folder).
MADE_FROM_PYTHON = "python"
#: the file of a run made from Python that holds its problem (pickled), for ``Study.load``.
PROBLEM_FILE = "problem.pickle"


@dataclass
class PreparedRun:
    """A run ready to search: its parts built and its store open (holding the directory's lock).

    ``engine()`` searches it (:meth:`Engine.run <hpsearch.run.engine.Engine.run>`), or is stepped by
    an ask/tell study. Close ``store`` when done.
    """

    cfg: RunConfig
    loaded: LoadedProblem
    parts: _Parts
    store: RunStore
    shown: Path

    def engine(self, observer: Observer | None = None) -> Engine:
        return self.parts.engine(self.store, self.cfg.seed, observer)

    def outcome(self, summary: RunSummary) -> RunOutcome:
        return RunOutcome(self.shown, summary, self.store, self.loaded, self.parts.placement.note)


def _schedule_workers(cfg: RunConfig, own_evaluator: Evaluator | None) -> int:
    """The workers a new run's schedule is chosen for: ``--workers`` (or auto, or one per GPU slot);
    1 for the serial evaluator and an ask/tell study, which evaluate one at a time."""
    if own_evaluator is not None or cfg.evaluator == "serial" or PRESETS[cfg.algo].asynchronous is None:
        return 1
    return Placement.plan(cfg.evaluator, cfg.workers, cfg.gpus, cfg.gpus_per_trial).workers


def prepare_run(cfg: RunConfig, announce: Callable[[str], None] | None = None,
                loaded: LoadedProblem | None = None, own_evaluator: Evaluator | None = None,
                settings: dict | None = None) -> PreparedRun:
    """Validate everything and create the run directory (holding its lock); search nothing yet.

    Args:
        cfg: the run's settings (``cfg.problem`` is imported unless ``loaded`` is given).
        announce: told a note the scheduler has on its plan.
        loaded: the problem, imported already or made in Python (``folder`` None: the run is marked
            as made from Python and its problem is kept in the run directory for ``Study.load``).
        own_evaluator: one made already (an ask/tell study's) instead of the one ``cfg`` names.
        settings: more settings to store (e.g. ``evaluator: "study"``).

    Raises:
        RunError, ProblemLoadError, SpaceError, OptionError, EvaluatorError,
        StoreError: usage errors, raised before anything is written.
    """
    algo, searcher = split_algo(cfg.algo)
    if searcher is not None and cfg.searcher is not None and searcher != cfg.searcher:
        raise RunError(f"--searcher {cfg.searcher}: --algo {cfg.algo} names another searcher")
    cfg.searcher = searcher or cfg.searcher
    cfg.algo, _, _ = resolve(algo, cfg.searcher)  # an unknown name is a usage error before any work
    cfg.algo_options = choose_schedule(cfg.algo, cfg.searcher, dict(cfg.algo_options or {}),
                                       _schedule_workers(cfg, own_evaluator))  # stored: a resume replays it
    if loaded is None:
        loaded = load_problem(cfg.problem)
    if cfg.seed is None:
        cfg.seed = secrets.randbelow(2**31)
    if cfg.max_evals is None and cfg.timeout is None and cfg.max_resource_spent is None:
        cfg.max_evals = algo_scheduler_class(cfg.algo, cfg.searcher, cfg.algo_options).default_max_evals()
    # the values of options whose defaults may change are stored, so the run resumes as it ran
    cfg.algo_options = options_to_store(cfg.algo, cfg.searcher, cfg.algo_options)
    name = label(cfg.algo, cfg.searcher)
    shown = Path(cfg.run_dir) if cfg.run_dir else default_run_dir(loaded.name, name)
    run_dir = shown.absolute()  # once: a run() that calls os.chdir must not move logs or checkpoints
    cfg.run_dir = str(shown)
    parts = _build(cfg, loaded, run_dir, own_evaluator)
    sources = [cfg.warm_from] if isinstance(cfg.warm_from, (str, os.PathLike)) else cfg.warm_from or []
    cfg.warm_from = [str(d) for d in sources]
    warm = read_runs(cfg.warm_from, loaded.problem.to_dict(), parts.problem) if cfg.warm_from else None
    stored = {
        **asdict(cfg),
        "problem_dir": None if loaded.folder is None else str(loaded.folder),
        "problem_name": loaded.name,
        "space": loaded.problem.to_dict(),
        "multi_fidelity": type(parts.scheduler).multi_fidelity,
        "hpsearch_version": __version__,
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **(settings or {}),
    }
    kept = None
    if loaded.folder is None:
        stored["made_from"] = MADE_FROM_PYTHON
        with contextlib.suppress(Exception):  # a problem that does not pickle is passed to Study.load
            kept = pickle.dumps(loaded.problem)
    store = RunStore.create(shown, stored, loaded.problem.names,
                            warm_start=None if warm is None else warm.to_meta())
    if kept is not None:
        try:
            tmp = run_dir / (PROBLEM_FILE + ".tmp")
            tmp.write_bytes(kept)
            os.replace(tmp, run_dir / PROBLEM_FILE)
        except BaseException:
            store.close()
            raise
    if warm is not None and announce is not None:
        announce(warm.note(parts.scheduler))
        first = warm.first_asks(parts.scheduler)
        if first:
            announce(first)
    note = parts.scheduler.schedule_note()
    if note and announce is not None:
        announce(note)
    return PreparedRun(cfg, loaded, parts, store, shown)


def start_run(cfg: RunConfig, observer: Observer | None = None,
              announce: Callable[[str], None] | None = None) -> RunOutcome:
    """Validate everything, create the run directory (holding its lock), and search.

    ``announce`` is told, before the search, what the warm start gives the searcher
    (with ``cfg.warm_from``) and a note the scheduler has on its plan (e.g. that one
    Hyperband pass never gives ``bohb``'s model enough results).

    Raises:
        RunError, ProblemLoadError, SpaceError, OptionError, EvaluatorError,
        StoreError, WarmFromError: usage errors, raised before anything is written.
        StoreFull: the disk is full (nothing stored is lost; resumable).
    """
    prepared = prepare_run(cfg, announce)
    try:
        summary = prepared.engine(observer).run()
    except BaseException:
        prepared.store.close()  # the lock too
        raise
    return prepared.outcome(summary)


def _nothing_left(store: RunStore, max_evals: int | None) -> bool:
    """True when a resume would run no evaluation: none unfinished, and the run ended or hit max_evals."""
    counts = store.counts()
    if counts.get(Status.RUNNING.value, 0) or counts.get(Status.INTERRUPTED.value, 0):
        return False
    if store.completed:
        return True
    return max_evals is not None and sum(counts.values()) >= max_evals


def _ended_before(store: RunStore, max_evals: int | None) -> str:
    """Why a run that a resume finds with nothing left to run ended (see :func:`_nothing_left`)."""
    if store.completed:  # the scheduler's own reason, as stored (a run of an older release stored none)
        return store.ended or "the search is complete: the scheduler has nothing left to evaluate"
    return f"max-evals reached ({max_evals})"


def stored_summary(store: RunStore) -> RunSummary:
    """The summary of a run from its store alone (no problem folder imported): the same counts,
    best and resource spent as the engine's summary of that run (:class:`RunHistory`)."""
    history = RunHistory.from_store(store)
    s = RunSummary(workers=int(store.settings.get("workers") or 1), n_replayed=history.n_finished)
    s.take(history)
    return s


def resume_run(run_dir: str | os.PathLike, observer: Observer | None = None,
               announce: Callable[[str], None] | None = None, **overrides: Any) -> RunOutcome:
    """Continue a stopped run from its directory (holding its lock).

    The problem folder named in the store is imported only when an evaluation will
    run; ``announce`` is told which folder first.

    Args:
        run_dir: the run directory.
        announce: called with one line before the problem folder is imported.
        **overrides: settings to change (``max_evals``, ``max_resource_spent``, ``timeout``, ``workers``,
            ``evaluator``, ``dask_scheduler``, ``trial_timeout``, ``gpus``, ``gpus_per_trial``,
            ``stop_when``, ``allow_many_workers``); None means keep.

    A run that met its ``--stop-when`` condition runs nothing (its summary says
    ``stopped_by == "condition"``), unless ``stop_when`` changes the conditions.
    """
    shown = Path(run_dir)
    store = RunStore.open(shown)
    try:
        return _resume(store, shown, observer, announce, overrides)
    except BaseException:
        store.close()
        raise


#: limits of one invocation: a resume neither inherits them from the run nor stores its own.
FOR_THIS_INVOCATION = ("timeout",)


def _resume_config(store: RunStore, overrides: dict) -> tuple[RunConfig, dict, dict]:
    """The run's config from its stored settings with ``overrides`` (None: keep); also the settings
    and the changes to store."""
    settings = with_dask_scheduler(store.settings)
    if not isinstance(settings.get("space"), dict) or not settings.get("problem"):
        raise StoreError(f"{store.db_path}: damaged run store (its settings are missing or incomplete)")
    changes = {k: v for k, v in overrides.items() if v is not None}
    if changes.get("warm_from"):
        raise RunError("warm_from: a resume replays the warm start stored with the run; to warm-start "
                       "from other runs, start a new run")
    changes.pop("warm_from", None)
    settings = {k: v for k, v in settings.items() if k not in FOR_THIS_INVOCATION}
    if "stop_when" in changes:
        changes["stop_when"] = list(changes["stop_when"])
        changes["stop_met"] = None
    if changes.get("evaluator", "dask") != "dask" and "dask_scheduler" not in changes:
        changes["dask_scheduler"] = None  # the stored address belonged to the old evaluator
    if changes.get("evaluator", "process") != "process" and "gpus" not in changes:
        changes["gpus"] = None  # --gpus places the process evaluator's workers only
    if changes.get("evaluator") == "serial" and "gpus_per_trial" not in changes:
        changes["gpus_per_trial"] = None
    known = {f for f in RunConfig.__dataclass_fields__}
    try:
        cfg = RunConfig(**{k: v for k, v in {**settings, **changes}.items() if k in known})
    except TypeError as exc:
        raise StoreError(f"{store.db_path}: damaged run store settings ({exc})") from None
    _check_numbers(cfg)
    # a run stored before an option could change its behaviour resumes with that behaviour
    cfg.algo_options = options_to_resume(cfg.algo, cfg.searcher, dict(cfg.algo_options or {}))
    return cfg, settings, changes


def made_from_python(settings: dict) -> bool:
    """True for a run made with the Python API from a problem made in Python (it has no folder)."""
    return settings.get("made_from") == MADE_FROM_PYTHON


def _continue(store: RunStore, shown: Path, cfg: RunConfig, changes: dict, loaded: LoadedProblem,
              changed: str, own_evaluator: Evaluator | None = None) -> PreparedRun:
    """Build a stopped run's parts around its problem (the same space, else ``changed`` is raised)."""
    now, before = loaded.problem.to_dict(), store.settings["space"]
    if now["dims"] != before.get("dims") or now["direction"] != before.get("direction") \
            or now.get("forbidden") != before.get("forbidden") or objectives_of(now) != objectives_of(before):
        raise RunError(changed)
    parts = _build(cfg, loaded, store.run_dir, own_evaluator)
    kept = {k: v for k, v in changes.items() if k not in FOR_THIS_INVOCATION}
    if kept:
        store.update_settings(**kept)
    return PreparedRun(cfg, loaded, parts, store, shown)


def _resume(store: RunStore, shown: Path, observer: Observer | None,
            announce: Callable[[str], None] | None, overrides: dict) -> RunOutcome:
    cfg, settings, changes = _resume_config(store, overrides)
    folder = settings.get("problem_dir")
    if _nothing_left(store, cfg.max_evals):
        summary = stored_summary(store)
        summary.ended = _ended_before(store, cfg.max_evals)
        return RunOutcome(shown, summary, store, None)
    if made_from_python(settings):
        raise RunError(f"{shown}: this run was made from Python; continue it with hpsearch.Study.load("
                       f"{str(shown)!r}) or hpsearch.optimize(..., run_dir={str(shown)!r})")
    folder, moved = problem_folder(settings, shown)
    if announce is not None:
        announce(moved or f"importing the problem folder {folder} (from the run's settings)")
    loaded = load_problem(folder)
    prepared = _continue(store, shown, cfg, changes, loaded,
                         f"{Path(folder) / 'problem.py'}: the search space changed since the run started; "
                         "start a new run instead of resuming this one")
    return prepared.outcome(prepared.engine(observer).run())


def problem_folder(settings: dict, shown: Path) -> tuple[str, str | None]:
    """The folder a stored run's problem is imported from, and a note when it is not the stored one.

    A run of a bundled benchmark keeps the folder it was started from; after hpsearch moved (a
    checkout replaced by an installed wheel, another virtual environment) that path is gone, and
    the bundled benchmark of the same name is used instead (the resume still checks that its
    search space is the run's). Any other missing folder is an error: only the user has it.

    Raises:
        StoreError: the folder is gone and is not a bundled benchmark.
    """
    folder = settings.get("problem_dir")
    if folder and Path(folder).is_dir():
        return folder, None
    name = settings.get("problem_name")
    bundled = bundled_dir() / name if name else None
    was_bundled = folder and Path(folder).name == name and Path(folder).parent.name == "benchmarks"
    if was_bundled and bundled is not None and (bundled / "problem.py").is_file():
        return str(bundled), (f"the problem folder {folder} is gone; using the bundled benchmark {name} "
                              f"({bundled})")
    raise StoreError(f"{shown}: the problem folder {folder} is gone; restore it to resume")


def stored_problem(store: RunStore) -> HpProblem | None:
    """The problem a run made from Python keeps in its directory (None: it kept none)."""
    path = store.run_dir / PROBLEM_FILE
    if not path.is_file():
        return None
    try:
        problem = pickle.loads(path.read_bytes())
    except Exception as exc:  # noqa: BLE001 - unpickling raises anything (a class that moved, ...)
        raise StoreError(f"{store.shown / PROBLEM_FILE}: cannot be read ({type(exc).__name__}: {exc}); "
                         "pass the problem again") from None
    return problem if isinstance(problem, HpProblem) else None


def prepare_resume(run_dir: str | os.PathLike, loaded: LoadedProblem | None = None,
                   own_evaluator: Evaluator | None = None, **overrides: Any) -> PreparedRun:
    """Open a stopped run to continue it from Python (holding its lock); search nothing yet.

    Args:
        run_dir: the run directory.
        loaded: the problem, with the ``run`` to evaluate (made in Python: see
            :func:`hpsearch.problem.inline.from_callable`); None: the problem the run keeps in its
            directory (made from Python) or its problem folder, without a ``run`` (ask/tell).
        own_evaluator: one made already (an ask/tell study's) instead of the one the settings name.
        **overrides: settings to change, as for :func:`resume_run`; None means keep.

    Raises:
        RunError: the problem's space is not the one the run was made with.
        StoreError: not a run directory, in use, or its problem cannot be found.
    """
    shown = Path(run_dir)
    store = RunStore.open(shown)
    try:
        cfg, settings, changes = _resume_config(store, overrides)
        if loaded is None:
            loaded = _problem_of(store, shown, settings)
        changed = (f"problem: not the search space of the run in {shown} (its dimensions, direction or "
                   "forbidden combinations differ); pass the problem it was made with, or start a new run "
                   "elsewhere")
        return _continue(store, shown, cfg, changes, loaded, changed, own_evaluator)
    except BaseException:
        store.close()
        raise


def _problem_of(store: RunStore, shown: Path, settings: dict) -> LoadedProblem:
    """A stopped run's problem without its ``run``: kept in its directory, or from its folder."""
    if made_from_python(settings):
        problem = stored_problem(store)
        if problem is None:
            raise StoreError(f"{shown}: this run kept no copy of its problem (it could not be pickled); "
                             "pass the problem it was made with")
        return from_callable(None, problem, settings.get("problem_name"))
    folder, _moved = problem_folder(settings, shown)
    return load_problem(folder, with_run=False)
