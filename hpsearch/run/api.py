"""``hpsearch.optimize``: search a ``run`` callable and a problem made in Python, no folder needed.

It is ``hps run`` from Python: the same engine, schedulers, searchers, pruners
and evaluators, the same options checked the same way, and an ordinary run
directory (``hps results``, ``plot`` and ``dashboard`` read it;
``optimize(..., run_dir=it)`` or :meth:`hpsearch.Study.load` continue it).

    >>> import tempfile
    >>> from hpsearch import HpProblem
    >>> problem = HpProblem(direction="minimize")
    >>> _ = problem.add_dim("x", (-5.0, 5.0), default=1.0)
    >>> run = optimize(lambda config: (config["x"] - 2) ** 2, problem, seed=0, max_evals=20,
    ...                run_dir=tempfile.mkdtemp() + "/r")
    >>> round(run.best.objective, 3), run.ended
    (0.087, 'max-evals reached (20)')
"""
from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

from ..errors import UsageError, interrupted_exit_code
from ..problem.inline import from_callable, importing_main
from ..problem.space import HpProblem
from ..store import Run, is_run_dir
from .engine import Observer
from .runner import RunError, config_from_keywords, prepare_resume, prepare_run

__all__ = ["optimize", "CONTINUE_OVERRIDES"]

#: what ``optimize(..., run_dir=RUN)`` may change in a stopped run (what ``hps resume`` may change)
CONTINUE_OVERRIDES = ("max_evals", "timeout", "max_resource_spent", "trial_timeout", "workers", "evaluator",
                      "dask_scheduler", "gpus", "gpus_per_trial", "stop_when", "allow_many_workers")


def optimize(run: Callable, problem: HpProblem, *, algo: str | None = None, searcher: str | None = None,
             run_dir: str | os.PathLike | None = None, seed: int | None = None, max_evals: int | None = None,
             timeout: float | None = None, max_resource_spent: float | None = None, workers: int | str = 1,
             evaluator: str | None = None, pruner: str | None = None, stop_when: str | list | None = None,
             observer: Observer | None = None, **options: Any) -> Run:
    """Search ``run`` over ``problem``; return the run (read-only) once the search ends.

    Args:
        run: ``run(config)`` or ``run(config, trial)`` (as a problem folder's ``model_run.run``),
            returning the objective or a dict holding it and other metrics.
        problem: the search space and objective.
        algo: an ``--algo`` preset (``random`` for a new run, the default; ``bayesian``,
            ``hyperband``, ``asha``, ``bohb``) or ``ALGO+SEARCHER``.
        searcher: the ``--searcher`` replacing the preset's.
        run_dir: where to store the run (default ``runs/<run's name>-<algo>-<timestamp>``). One that
            holds a stopped run made from Python is continued (the same problem space, its stored
            settings; only the limits, ``workers``, ``evaluator`` and ``stop_when`` may change).
        seed: the seed (a random one is chosen and stored if omitted).
        max_evals, timeout, max_resource_spent: limits, as ``--max-evals``, ``--timeout`` (seconds),
            ``--max-resource-spent``; with none, a fifo search runs 100 evaluations and Hyperband
            and ASHA end by themselves.
        workers: evaluations at once (or ``"auto"``).
        evaluator: ``"serial"`` (in this process; the default with one worker), ``"process"``
            (worker processes; the default with more) or ``"dask"``. Workers import ``run`` by
            name: a lambda, a closure or a function defined in a notebook cannot be sent to them
            (a one-line :class:`UsageError` says so before anything starts).
        pruner: a ``--pruner`` (``median``, ``asha``, ``hyperband``); its options as
            ``pruner_NAME=value``.
        stop_when: ``"METRIC>=VALUE"`` conditions (one or a list) that end the search once met.
        observer: progress callbacks (see :class:`~hpsearch.run.engine.Observer`).
        **options: any other ``hps run`` option by its keyword (``fix``, ``trial_timeout``,
            ``gpus``, ...), and the scheduler's and searcher's options (``eta=3``,
            ``max_resource=81``, ``n_initial=10``, ...), checked as the CLI checks them.

    Returns:
        the run directory as a read-only :class:`~hpsearch.store.view.Run`.

    Ctrl-C ends the search as in ``hps run``: the evaluations in flight are stored
    ``interrupted`` and ``optimize`` returns the run (``run.ended`` is
    ``"interrupted (SIGINT)"``), which ``optimize(..., run_dir=run.run_dir)`` continues.
    SIGTERM or SIGHUP end it the same way, then raise :class:`SystemExit` (143, 129), as ``hps``
    exits.

    Raises:
        UsageError: a bad option, problem or ``run`` (one line), before anything is written.
        DiskFull: the disk is full (what was stored is kept; continue once space is freed).
    """
    if importing_main() is not None:
        raise UsageError(f"optimize() was called while a worker process imported the script "
                         f"{importing_main()} to find run(); put the search under "
                         "'if __name__ == \"__main__\":' in that script")
    loaded = from_callable(run, problem)
    chosen = evaluator or ("serial" if workers == 1 else "process")
    if run_dir is not None and is_run_dir(run_dir):
        given = {"algo": algo, "searcher": searcher, "seed": seed, "pruner": pruner, **options}
        changed = [k for k, v in given.items() if v is not None and k not in CONTINUE_OVERRIDES]
        if changed:
            raise RunError(f"optimize: {run_dir} holds a run: its stored settings are used ({changed[0]} "
                           f"cannot change); only {', '.join(CONTINUE_OVERRIDES)} may")
        prepared = prepare_resume(run_dir, loaded, max_evals=max_evals, timeout=timeout,
                                  max_resource_spent=max_resource_spent, workers=workers, evaluator=chosen,
                                  stop_when=[stop_when] if isinstance(stop_when, str) else stop_when,
                                  **options)
    else:
        limits = {"max_evals": max_evals, "timeout": timeout, "max_resource_spent": max_resource_spent}
        cfg = config_from_keywords(loaded.name, algo or "random", searcher, seed, run_dir, **limits,
                                   workers=workers, evaluator=chosen, pruner=pruner, stop_when=stop_when,
                                   **options)
        prepared = prepare_run(cfg, loaded=loaded)
    try:
        summary = prepared.engine(observer).run()
    finally:
        prepared.store.close()
    if summary.stopped_by == "signal" and summary.signal not in (None, signal.SIGINT):
        raise SystemExit(interrupted_exit_code(summary.signal))
    return Run(prepared.shown)
