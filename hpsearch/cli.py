"""The ``hps`` command line: parse, call the library, print.

Exit codes: 0 success; 1 every evaluation failed; 2 usage error (one line,
no traceback; also a run directory in use by another hps process); 3 the
disk is full (one line; nothing stored is lost; free space, then resume);
130 interrupted by Ctrl-C (143 by SIGTERM, 129 by SIGHUP), resumable.
"""
from __future__ import annotations

import functools
import signal
import sys
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource

from . import __version__
from .errors import EXIT_ALL_FAILED, EXIT_USAGE, DiskFull, UsageError, exit_code, interrupted_exit_code
from .evaluators import DEFAULT_EVALUATOR, EVALUATORS, EvaluatorError
from .problem.loader import list_problems, load_problem
from .reporting.tables import format_rows, format_value, front_lines, ranked, results_rows
from .search import ALIASES, PRESETS, SEARCHER_ALIASES, SEARCHERS, all_options
from .search.pruners import PRUNERS
from .search.pruners import all_options as pruner_options
from .store import RunHistory, RunStore
from .store.history import X_AXES
from .trial import Status

__all__ = ["cli", "main"]

class _OneLine(click.ClickException):
    """A :class:`~hpsearch.errors.UsageError` as click prints it: one line, exit code 2."""

    exit_code = EXIT_USAGE


def usage_errors(fn: Callable) -> Callable:
    """Print the library's usage errors as one line (exit 2) and a full disk as one line (exit 3)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UsageError as exc:
            raise _OneLine(str(exc)) from None
        except DiskFull as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exit_code(exc))

    return wrapper


# -- shared options (run and resume) -------------------------------------------------
class _Workers(click.ParamType):
    """``--workers``: a number or ``auto``."""

    name = "N|auto"

    def convert(self, value: Any, param: Any, ctx: Any) -> int | str:
        from .evaluators.devices import parse_workers

        try:
            return parse_workers(value)
        except EvaluatorError:
            self.fail(f"expected a number of workers or auto, got {value!r}", param, ctx)


_DASK_SCHEDULER_OPTIONS = (
    click.option("--dask-scheduler", "dask_scheduler", default=None, metavar="ADDRESS",
                 help="Dask scheduler address or scheduler file (with --evaluator dask)."),
    click.option("--scheduler", "old_scheduler", default=None, metavar="ADDRESS", hidden=True,
                 help="The old spelling of --dask-scheduler."),
)


def _dask_scheduler(new: str | None, old: str | None) -> str | None:
    """``--dask-scheduler``, or its old spelling ``--scheduler`` (saying so in one line on stderr)."""
    if old is None:
        return new
    if new is not None:
        raise UsageError("--scheduler is the old spelling of --dask-scheduler; give only --dask-scheduler")
    _say("--scheduler is now --dask-scheduler (the old spelling still works for now)")
    return old


#: ``--allow-many-workers`` (run, resume, compare): None when not given, so a resume keeps the stored choice.
_allow_many_workers = click.option(
    "--allow-many-workers", is_flag=True, default=None,
    help="Start --workers worker processes even when this machine cannot hold that many "
         "(more than 32 per core, or more than its free memory at ~20 MiB per idle worker).")


#: ``--x-axis`` (plot, compare): what the best-so-far curves are drawn against.
_x_axis = click.option(
    "--x-axis", "x_axis", type=click.Choice(X_AXES), default="budget", show_default=True,
    help="Draw the best so far against the budget spent, or against virtual time (runs of --evaluator "
         "simulated: when each evaluation ended on the simulated workers' clock).")


def _limit_options(fn: Callable) -> Callable:
    options = [
        click.option("--max-evals", type=int, default=None,
                     help="Stop asking after this many evaluations in all."),
        click.option("--timeout", type=float, default=None,
                     help="Stop after this many seconds of this command (resumable; a resume "
                          "has no time limit unless given its own)."),
        click.option("--trial-timeout", type=float, default=None,
                     help="Stop one evaluation after this many seconds; it is stored as 'timeout'."),
        click.option("--workers", type=_Workers(), default=None,
                     help="Evaluations run at once (default 1, or one per GPU slot with --gpus); auto: "
                          "one per GPU slot with --gpus, else cores / HPS_THREADS (default 1 thread per "
                          "trial)."),
        click.option("--evaluator", type=click.Choice(sorted(EVALUATORS)), default=None,
                     help=f"Where evaluations run (default {DEFAULT_EVALUATOR})."),
        *_DASK_SCHEDULER_OPTIONS,
        click.option("--gpus", default=None, metavar="all|N|IDS",
                     help="GPUs for the process evaluator's workers: all, the first N, or ids such as 0,2,3; "
                          "each worker sees its own --gpus-per-trial of them (CUDA_VISIBLE_DEVICES)."),
        click.option("--gpus-per-trial", type=int, default=None, metavar="K",
                     help="GPUs per trial (default 1 with --gpus; 0: trials without GPUs). With --evaluator "
                          "dask: each trial asks for the Dask worker resource GPU=K."),
        click.option("--stop-when", "stop_when", multiple=True, metavar="METRIC>=VALUE",
                     help="End the whole run once a finished evaluation meets this (>=, <=, >, <; "
                          "repeatable; any stored metric)."),
        _allow_many_workers,
    ]
    for opt in reversed(options):
        fn = opt(fn)
    return fn


def _click_type(opt: Any) -> Any:
    if opt.choices is not None:
        return click.Choice(list(opt.choices), case_sensitive=False)
    return opt.type


def _algo_options(fn: Callable) -> Callable:
    """One flag per option declared by any scheduler or searcher (a shared one, e.g. --eta, once)."""
    for opt, _components in reversed(all_options()):
        default = "" if opt.default is None else f" (default {opt.default:g})" \
            if isinstance(opt.default, float) else f" (default {opt.default})"
        fn = click.option(opt.flag, opt.name, type=_click_type(opt), default=None,
                          help=opt.help.rstrip(".") + default + ".")(fn)
    return fn


def _pruner_options(fn: Callable) -> Callable:
    """``--pruner NAME`` and one ``--pruner-OPTION`` flag per declared pruner option (run and compare;
    :func:`_pop_pruner_options` takes their values out of the command's keyword arguments)."""
    for opt in reversed(list(pruner_options().values())):
        fn = click.option(opt.flag, "pruner_" + opt.name, type=_click_type(opt), default=None,
                          help=opt.help)(fn)
    return click.option("--pruner", type=click.Choice(sorted(PRUNERS)), default=None,
                        help="Stop bad running trials from their trial.report(...) values.")(fn)


def _pop_pruner_options(options: dict[str, Any]) -> dict[str, Any]:
    """The ``--pruner-OPTION`` values, by option name, removed from ``options``."""
    return {k[len("pruner_"):]: options.pop(k) for k in list(options) if k.startswith("pruner_")}


_ALGO_HELP = ("Search algorithm: " + ", ".join(
    f"{n} ({p.scheduler} + {p.searcher})" for n, p in PRESETS.items())
    + "; aliases " + ", ".join(f"{a}={n}" for a, n in ALIASES.items()) + ". A+S means --algo A --searcher S.")
_SEARCHER_HELP = ("Replace the algorithm's searcher (which configurations to try): "
                  + ", ".join(SEARCHERS) + "; aliases "
                  + ", ".join(f"{a}={n}" for a, n in SEARCHER_ALIASES.items())
                  + ". E.g. --algo asha --searcher bayesian.")


def _parse_fix(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--fix: expected name=value, got {item!r}")
        out[name.strip()] = value.strip()
    return out


# -- commands ------------------------------------------------------------------------
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="hps")
def cli() -> None:
    """Hyperparameter search over problem folders.

    A problem folder holds problem.py (the search space) and model_run.py
    (def run(config) returning the objective). Find one by name (bundled or
    on HPS_PATH) or pass its path.
    """


@cli.command("list")
def list_cmd() -> None:
    """List the problem folders found (bundled and on HPS_PATH)."""
    rows = []
    for info in list_problems():
        desc = info.description if info.error is None else f"(cannot load: {info.error})"
        rows.append([info.name, info.kind, info.n_dims or "", info.resource or "", desc])
    click.echo(format_rows(["name", "kind", "dims", "resource", "description"], rows, align="left"))


@cli.command()
@click.argument("problem")
@usage_errors
def show(problem: str) -> None:
    """Show a problem's space as a tree: each dimension's kind, range, prior, default and condition."""
    lp = load_problem(problem, with_run=False)
    p = lp.problem
    click.echo(f"{lp.name}: {lp.description}" if lp.description else lp.name)
    click.echo(f"folder:    {lp.folder}")
    opt = f", known optimum {p.optimum:g}" if p.optimum is not None else ""
    if p.multi_objective:
        click.echo("objectives: " + ", ".join(f"{n} ({d})" for n, d in p.objectives.items()))
        ref = p.reference_point
        click.echo("reference point: " + (", ".join(f"{n} {v:g}" for n, v in ref.items()) if ref else
                                          "none declared (reports take the nadir of the evaluations)")
                   + (f"; hypervolume of the true front {p.hypervolume_optimum:g}"
                      if p.hypervolume_optimum is not None else ""))
    else:
        click.echo(f"objective: {p.objective} ({p.direction}{opt})")
    click.echo(f"resource:  {p.resource.name if p.resource else '-'}")
    click.echo("")
    rows = [["  " * depth + d.name + (" *" if d.resource else ""), d.kind, d.describe(), d.describe_prior(),
             repr(d.default), d.describe_condition() or "-"]
            for depth, d in p.tree()]
    click.echo(format_rows(["name", "kind", "range / choices", "prior", "default", "when"], rows,
                           align="left"))
    if p.forbidden:
        click.echo("\nforbidden combinations (never evaluated):")
        for clause in p.forbidden:
            click.echo(f"  {clause}")
    extra = len(p.starting_points) - 1
    if p.resource:
        click.echo("\n* the resource (set by multi-fidelity algorithms such as hyperband)")
    if extra > 0:
        click.echo(f"\n{extra} starting point(s) besides the defaults")


@cli.command()
@click.option("--problem", "-p", default=None, help="Problem name or folder path.")
@click.option("--algo", "-a", default="random", show_default=True, metavar="ALGO", help=_ALGO_HELP)
@click.option("--searcher", default=None, metavar="SEARCHER", help=_SEARCHER_HELP)
@click.option("--seed", type=int, default=None, help="Seed (a random one is chosen and stored if omitted).")
@click.option("--fix", multiple=True, metavar="NAME=VALUE", help="Pin a dimension (repeatable).")
@click.option("--run-dir", type=click.Path(file_okay=False), default=None,
              help="Where to store the run (default runs/<problem>-<algo>-<timestamp>).")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False), default=None,
              metavar="RUN_DIR", help="Continue a stopped run instead (same as hps resume RUN_DIR).")
@click.option("--warm-from", "warm_from", multiple=True, metavar="RUN_DIR",
              help="Start from what an earlier run on a compatible space learned (repeatable): its "
                   "finished evaluations are the searcher's observations before the first ask, not "
                   "evaluations of this run.")
@_limit_options
@_algo_options
@_pruner_options
@click.option("--stop-grace", type=float, default=None,
              help="Seconds a trial told to stop (pruned) may go on before it is stopped by force "
                   "and stored 'stopped' with its last report (default 10).")
@usage_errors
def run(problem: str | None, algo: str, searcher: str | None, seed: int | None, fix: tuple[str, ...],
        run_dir: str | None, resume_dir: str | None, warm_from: tuple[str, ...], max_evals, timeout,
        trial_timeout, workers, evaluator, dask_scheduler, old_scheduler, gpus, gpus_per_trial, stop_when,
        pruner, stop_grace, **algo_options) -> None:
    """Search a problem and store every evaluation in a run directory."""
    from .run.runner import RunConfig, resume_run, start_run

    dask_scheduler = _dask_scheduler(dask_scheduler, old_scheduler)
    pruning = _pop_pruner_options(algo_options)
    allow_many_workers = algo_options.pop("allow_many_workers")  # from _limit_options
    if resume_dir is not None:
        algo_given = click.get_current_context().get_parameter_source("algo") != ParameterSource.DEFAULT
        if problem or algo_given or fix or run_dir or seed is not None or searcher or pruner \
                or stop_grace is not None or warm_from \
                or any(v is not None for v in [*algo_options.values(), *pruning.values()]):
            raise UsageError("--resume: the run's stored settings are used; only --max-evals, --timeout, "
                                "--trial-timeout, --workers, --evaluator, --dask-scheduler, --gpus, "
                                "--gpus-per-trial and --stop-when may change")
        _finish(resume_run(resume_dir, observer=_progress(), announce=_say, max_evals=max_evals,
                           timeout=timeout, trial_timeout=trial_timeout, workers=workers,
                           evaluator=evaluator, dask_scheduler=dask_scheduler, gpus=gpus,
                           gpus_per_trial=gpus_per_trial, stop_when=stop_when or None,
                           allow_many_workers=allow_many_workers))
        return
    if problem is None:
        raise UsageError("--problem is required (a problem name or folder path; see hps list)")
    cfg = RunConfig(problem=problem, algo=algo, searcher=searcher, algo_options=algo_options, seed=seed,
                    max_evals=max_evals, timeout=timeout, trial_timeout=trial_timeout,
                    evaluator=evaluator or DEFAULT_EVALUATOR, workers=workers,
                    dask_scheduler=dask_scheduler, fix=_parse_fix(fix), run_dir=run_dir, gpus=gpus,
                    gpus_per_trial=gpus_per_trial, pruner=pruner, pruner_options=pruning,
                    stop_when=list(stop_when), warm_from=list(warm_from),
                    **({} if stop_grace is None else {"stop_grace": stop_grace}))
    cfg.allow_many_workers = bool(allow_many_workers)
    _finish(start_run(cfg, observer=_progress(), announce=_say))


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@_limit_options
@usage_errors
def resume(run_dir: str, **overrides: Any) -> None:
    """Continue a stopped run: stored evaluations are kept, unfinished ones run again."""
    from .run.runner import resume_run

    overrides["dask_scheduler"] = _dask_scheduler(overrides["dask_scheduler"], overrides.pop("old_scheduler"))
    overrides["stop_when"] = overrides.get("stop_when") or None
    _finish(resume_run(run_dir, observer=_progress(), announce=_say, **overrides))


def _say(message: str) -> None:
    click.echo(message, err=True)


def _progress():
    from .reporting.progress import Progress

    return Progress()


def _finish(outcome) -> None:
    """Print the summary and exit with the run's status.

    After a closed terminal (SIGHUP) there is nowhere to print: the exit code still says
    the run was interrupted and can be resumed.
    """
    try:
        _report(outcome)
    except OSError:
        if outcome.summary.stopped_by != "signal":
            raise
        sys.exit(interrupted_exit_code(outcome.summary.signal))


def _report(outcome) -> None:
    s, store, run_dir = outcome.summary, outcome.store, outcome.run_dir
    try:
        click.echo(f"run directory: {run_dir}")
        if outcome.placement:
            click.echo(f"workers:       {outcome.placement}")
        if outcome.loaded is None:
            click.echo("nothing left to run (the problem folder was not imported)")
        counts = f"{s.n_done} done, {s.n_failed} failed, {s.n_timeout} timeout"
        if s.n_stopped:
            counts += f", {s.n_stopped} stopped"
        if s.n_interrupted:
            counts += f", {s.n_interrupted} interrupted"
        click.echo(f"evaluations:   {counts}" + (f" ({s.n_replayed} from before the resume)"
                                                  if s.n_replayed else ""))
        if s.ended:
            click.echo(f"ended:         {s.ended}")
        timing = f"wall time:     {s.wall_s:.2f} s"
        if s.virtual_s is not None:  # the simulated evaluator: time is virtual, its workers never idle
            timing += f"; virtual time {s.virtual_s:.6g} s on {s.workers} simulated workers"
        elif s.workers == 1 and s.overhead_per_eval_s is not None:
            timing += f", engine overhead {s.overhead_per_eval_s * 1e3:.3f} ms per evaluation"
        elif s.utilisation is not None:
            timing += f", worker utilisation {s.utilisation:.0%} of {s.workers} workers"
            if s.startup_s >= 1:
                timing += f" (after {s.startup_s:.1f} s starting them)"
        click.echo(timing)
        if s.front is not None:
            history = RunHistory.from_store(store)
            for line in front_lines(history):
                click.echo(line)
            if history.front:
                click.echo(f"               hps results {run_dir} --pareto")
        if s.best is not None:
            b = s.best
            budget = f", budget {format_value(b.budget)}" if b.budget is not None else ""
            click.echo(f"best:          {format_value(b.objective)} (trial {b.trial_id}{budget})")
            for name in store.param_names:
                if name in b.params:  # an inactive conditional dimension is absent
                    click.echo(f"  {name} = {b.params[name]!r}")
    finally:
        store.close()
    if s.stopped_by == "signal":
        click.echo(f"interrupted; nothing finished is lost. Resume with: hps resume {run_dir}", err=True)
        sys.exit(interrupted_exit_code(s.signal))
    if s.stopped_by == "timeout":
        click.echo(f"stopped at --timeout. Continue with: hps resume {run_dir}", err=True)
    if s.stopped_by == "condition" and s.n_replayed and s.n_finished == s.n_replayed:
        click.echo(f"already met its condition: {s.stop_reason}; pass --stop-when to change it")
    if s.n_finished and s.n_done == 0:
        click.echo(f"every evaluation failed ({s.n_finished}); first error: {s.first_error}", err=True)
        sys.exit(EXIT_ALL_FAILED)
    click.echo(f"results:       hps results {run_dir}")


@cli.command()
@click.option("--problem", "-p", default=None, help="Problem name or folder path.")
@click.option("--algo", "-a", "algos", default=None, metavar="A,B,...",
              help="Comma-separated algorithms (default: every one that applies to the problem); "
                   "A+S is --algo A --searcher S, e.g. asha+bayesian.")
@click.option("--seeds", type=int, default=5, show_default=True, help="Runs per algorithm (seeds 0..N-1).")
@click.option("--budget", type=float, default=None,
              help="Per run: resource units when the problem has a resource (a full evaluation costs R; "
                   "default 100 R), else evaluations (default 100).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Comparison directory (default runs/compare-<problem>); rerunning continues it.")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Continue a stored comparison with its own settings.")
@click.option("--workers", type=int, default=None, help="Evaluations run at once (default 1).")
@click.option("--evaluator", type=click.Choice(sorted(EVALUATORS)), default=None,
              help=f"Where evaluations run (default {DEFAULT_EVALUATOR}).")
@_DASK_SCHEDULER_OPTIONS[0]
@_DASK_SCHEDULER_OPTIONS[1]
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@_allow_many_workers
@_x_axis
@_algo_options
@_pruner_options
@usage_errors
def compare(problem, algos, seeds, budget, out, resume_dir, workers, evaluator, dask_scheduler, old_scheduler,
            fmt, pruner, x_axis, **algo_options) -> None:
    """Compare algorithms on one problem over seeds, on equal budgets: table and compare.png.

    The budget ends every run: a scheduler's own stopping rule (Hyperband's
    --iterations, ASHA's --max-configs) defaults here to as many as the budget
    can pay for.
    """
    from .reporting.comparison import format_table, plot_comparison, summarise
    from .run.compare import CompareConfig, ComparisonInterrupted, config_from_settings, run_comparison

    dask_scheduler = _dask_scheduler(dask_scheduler, old_scheduler)
    pruning = _pop_pruner_options(algo_options)
    allow_many_workers = bool(algo_options.pop("allow_many_workers"))
    if resume_dir is not None:
        if problem or algos or budget is not None or out or pruner \
                or any(v is not None for v in [*algo_options.values(), *pruning.values()]):
            raise UsageError("--resume: the comparison's stored settings are used; only --workers, "
                                "--evaluator, --dask-scheduler and --allow-many-workers may change")
        cfg = config_from_settings(resume_dir, workers=workers, evaluator=evaluator,
                                   dask_scheduler=dask_scheduler, allow_many_workers=allow_many_workers)
    elif problem is None:
        raise UsageError("--problem is required (a problem name or folder path; see hps list)")
    else:
        names = [a.strip() for a in (algos or "").split(",") if a.strip()]
        cfg = CompareConfig(problem=problem, algos=names, seeds=seeds, budget=budget, out=out,
                            evaluator=evaluator or DEFAULT_EVALUATOR,
                            workers=1 if workers is None else workers, dask_scheduler=dask_scheduler,
                            algo_options=algo_options, pruner=pruner, pruner_options=pruning,
                            allow_many_workers=allow_many_workers)
    try:
        done = run_comparison(cfg, echo=lambda m: click.echo(m, err=True))
    except ComparisonInterrupted as exc:
        click.echo(str(exc), err=True)
        sys.exit(interrupted_exit_code(exc.signum))
    except KeyboardInterrupt:  # between two runs
        click.echo("interrupted; rerun the same command to continue", err=True)
        sys.exit(interrupted_exit_code(signal.SIGINT))
    cmp = summarise(done, algos=cfg.algos or None, seeds=cfg.seeds, x_axis=x_axis)
    png = plot_comparison(cmp)
    click.echo(format_table(cmp, fmt))
    if fmt == "table":
        click.echo(f"plot: {png}")


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="Show the best N (0 for all).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--all", "--all-rungs", "all_rungs", is_flag=True,
              help="Multi-fidelity runs: every evaluation, not only each configuration's highest rung.")
@click.option("--failed", is_flag=True,
              help="List failed, timed-out and stopped evaluations after the others.")
@click.option("--pareto", "pareto_only", is_flag=True,
              help="Multi-objective runs: only the Pareto-optimal evaluations (the front), best first.")
@usage_errors
def results(run_dir: str, top: int, fmt: str, all_rungs: bool, failed: bool, pareto_only: bool) -> None:
    """Show a run's evaluations, best first (works while the run is going).

    A multi-objective run ranks by Pareto rank, then crowding distance, and marks the
    Pareto-optimal evaluations in its ``pareto`` column.
    """
    with RunStore.open(run_dir, readonly=True) as store:
        history = RunHistory.from_store(store)
        if pareto_only and not history.multi_objective:
            raise UsageError(f"--pareto: {run_dir} is a single-objective run (objective "
                                   f"{store.objective!r}); its best is the first row of hps results")
        trials = ranked(store, all_rungs=all_rungs, include_failed=failed and not pareto_only,
                        history=history, pareto_only=pareto_only)
        if top:
            trials = trials[:top]
        head, rows = results_rows(store, trials, history)
        click.echo(format_rows(head, rows, fmt))
        if fmt == "table":
            lines = front_lines(history)
            if lines:
                click.echo("\n" + "\n".join(lines))
            counts = history.counts
            n_bad = counts.get(Status.FAILED, 0) + counts.get(Status.TIMEOUT, 0)
            running = counts.get(Status.RUNNING, 0) + counts.get(Status.INTERRUPTED, 0)
            notes = []
            if n_bad and not failed:
                notes.append(f"{n_bad} failed or timed out (--failed lists them)")
            if counts.get(Status.STOPPED.value) and not failed:
                notes.append(f"{counts['stopped']} stopped early (--failed lists them)")
            if running:
                notes.append(f"{running} running or interrupted")
            if notes:
                click.echo("\n" + "; ".join(notes))
            from .run.warm_from import sources_line

            warm = sources_line(store.warm_start())
            if warm:
                click.echo(warm)
            folder = store.settings.get("problem_dir")
            if folder:
                click.echo(f"problem folder: {folder} (hps resume imports it)")
            elif store.settings.get("made_from") == "python":
                click.echo(f"made from Python: continue it with hpsearch.Study.load({run_dir!r}) or "
                           f"hpsearch.optimize(..., run_dir={run_dir!r})")
            live = _running_lines(store)
            if live:
                click.echo("\n" + "\n".join(live))


def _running_lines(store: RunStore) -> list[str]:
    """``trial 7 running: step 12, val_accuracy 0.9712`` for each running trial that reported."""
    objective = store.objective
    last = store.last_reports()
    lines = []
    for t in store.trials():
        if t.status == Status.RUNNING and t.trial_id in last:
            rep = last[t.trial_id]
            value = rep.get(objective)
            text = f"{objective} {format_value(value)}" if value is not None else \
                ", ".join(f"{k} {format_value(v)}" for k, v in rep.items() if k != "step")
            lines.append(f"trial {t.trial_id} running: step {format_value(rep.get('step'))}, {text}")
    return lines


@cli.command()
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Where to create the folder NAME.")
@usage_errors
def new(name: str, directory: str) -> None:
    """Scaffold a problem folder NAME that runs as generated (never overwrites)."""
    from .problem.scaffold import new_problem, next_steps

    click.echo(next_steps(new_problem(name, directory)))


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Where to write the PNGs (default RUN_DIR/plots; e.g. for a run on read-only storage).")
@_x_axis
@usage_errors
def plot(run_dir: str, out: str | None, x_axis: str) -> None:
    """Draw a run's plots as PNG files in RUN_DIR/plots/ (headless).

    Best-so-far (regret on a log scale when the problem declares its optimum)
    against evaluations and against resource spent, the objective against each
    parameter, and for multi-fidelity runs the rungs. Exit code 1 when the run
    has no successful evaluation yet (nothing is written).
    """
    from .reporting.plots import NothingToPlot, plot_run

    try:
        files = plot_run(run_dir, out, x_axis=x_axis)
    except NothingToPlot as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_ALL_FAILED)
    for f in files:
        click.echo(str(f))


class _Budget(click.ParamType):
    """``--budget``: a number or ``all``."""

    name = "B|all"

    def convert(self, value: Any, param: Any, ctx: Any) -> float | str:
        if value == "all":
            return value
        try:
            return float(value)
        except (TypeError, ValueError):
            self.fail(f"expected a budget (a number) or all, got {value!r}", param, ctx)


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="Show the N most important (0 for all).")
@click.option("--budget", type=_Budget(), default=None,
              help="Multi-fidelity runs: the budget level, or all (one block each; default: the largest "
                   "budget with enough evaluations).")
@click.option("--pairs", is_flag=True, help="Also the share of each pair (their interaction), as a:b.")
@click.option("--confidence", is_flag=True, help="Add the spread of each share over the forest's trees.")
@click.option("--objective", default=None,
              help="Multi-objective runs: the objective to analyse, or all (the default: a block each).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@usage_errors
def importance(run_dir: str, top: int, budget: float | str | None, pairs: bool, confidence: bool,
               objective: str | None, fmt: str) -> None:
    """Which hyperparameters mattered: the share of the variance each explains (fANOVA).

    Functional ANOVA over a random forest fitted to the run's successful
    evaluations, computed exactly from the trees. Exit code 1 when the run has
    too few successful evaluations (one line saying how many it needs).
    """
    from .reporting.importance import ImportanceUnavailable, importance_by_budget, importance_rows

    with RunStore.open(run_dir, readonly=True) as store:
        history = RunHistory.from_store(store)
        space, fix = store.space, store.settings.get("fix")
    try:
        results = importance_by_budget(history, space, budget=budget, where=run_dir, pairs=pairs, fix=fix,
                                       objective=objective or ("all" if history.multi_objective else None))
    except ImportanceUnavailable as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_ALL_FAILED)
    head, rows = importance_rows(results, top=top, confidence=confidence, pairs=pairs)
    click.echo(format_rows(head, rows, fmt, align="left" if fmt == "table" else "right"))
    if fmt == "table":
        click.echo("")
        for r in results:
            at = f" at budget {r.budget:g}" if r.budget is not None else ""
            paired = f", the pairs {sum(r.pairs.values()):.0%}" if pairs else ""
            of = f" of {r.objective}" if r.objective is not None else ""
            click.echo(f"{r.n_evaluations} successful evaluations{at}: the hyperparameters alone explain "
                       f"{sum(r.shares.values()):.0%} of the variance{of}{paired} "
                       f"(fANOVA over {r.n_trees} trees, {r.seconds:.2f} s)")


@cli.command()
@click.option("--problem", "-p", default=None,
              help="Read R, r_min and the resource's type from this problem's resource dimension.")
@click.option("--max-resource", "-R", type=float, default=None,
              help="R: the most resource one configuration gets (e.g. epochs); default: the problem's.")
@click.option("--eta", type=int, default=3, show_default=True, help="The reduction factor (>= 2).")
@click.option("--min-resource", type=float, default=None,
              help="r_min: the least resource of any rung (default: the problem's, else 1).")
@click.option("--float", "real", is_flag=True, help="A real-valued resource (default: integer, rounded).")
@usage_errors
def plan(problem: str | None, max_resource: float | None, eta: int, min_resource: float | None,
         real: bool) -> None:
    """Print Hyperband's bracket table and its resource totals, before spending anything.

    With --problem, the defaults are what `hps run --problem P --algo hyperband` would use.
    """
    from .search.brackets import plan as make_plan
    from .search.brackets import plan_table, s_max, total_evaluations, total_resource
    from .search.fidelity import check_resources, resource_options

    if problem is not None:
        if real:
            raise UsageError("--float: with --problem, the problem's resource says whether it is real")
        opts = resource_options(load_problem(problem, with_run=False).problem,
                                {"max_resource": max_resource, "min_resource": min_resource, "eta": eta},
                                "hyperband")
        big, small, real = opts.max_resource, opts.min_resource, not opts.integer
    else:
        if max_resource is None:
            raise UsageError("--max-resource is required (or --problem P to read it from P's resource)")
        max_resource, min_resource, eta = check_resources(max_resource, min_resource, eta, integer=not real)
        big = max_resource if real else int(max_resource)
        small = min_resource if real or not float(min_resource).is_integer() else int(min_resource)
    brackets = make_plan(big, eta, small, integer=not real)
    kind = "real" if real else "integer"
    click.echo(f"Hyperband: R={format_value(big)}, eta={eta}, r_min={format_value(small)} ({kind} resource), "
               f"s_max={s_max(big, eta, small)}")
    click.echo("")
    head, rows = plan_table(brackets)
    click.echo(format_rows(head, rows))
    click.echo("")
    click.echo(f"evaluations:                       {total_evaluations(brackets)}")
    click.echo(f"total resource with warm start:    {format_value(total_resource(brackets))}")
    cold = total_resource(brackets, warm_start=False)
    click.echo(f"total resource without warm start: {format_value(cold)}")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; anything but loopback shows your runs to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0: any free port).")
@usage_errors
def dashboard(paths: tuple[str, ...], host: str, port: int) -> None:
    """Serve a live, read-only web view of runs and comparisons (default PATH: runs/).

    PATH: run directories, hps compare directories, or folders holding them.
    Needs the dashboard extra: pip install "hpsearch[dashboard]".
    """
    from .dashboard import require_extra

    require_extra()
    from .dashboard.server import LOOPBACK, make_server

    server = make_server(list(paths) or ["runs"], host, port)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"hps dashboard: http://{shown}:{server.server_port}/ (Ctrl-C stops it)")
    if host not in LOOPBACK:
        click.echo(f"--host {host}: listening beyond this machine; anyone who reaches the port can read "
                   "these runs", err=True)
    stop = _Stop.handle
    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.serve_forever()  # werkzeug swallows KeyboardInterrupt: a signal raises _Stop instead
    except _Stop as exc:
        sys.exit(interrupted_exit_code(exc.signum))
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        server.server_close()


class _Stop(BaseException):
    """Ctrl-C or SIGTERM while serving."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @classmethod
    def handle(cls, signum: int, frame: Any) -> None:
        raise cls(signum)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    cli.main(args=argv, prog_name="hps")


if __name__ == "__main__":  # pragma: no cover
    main()
