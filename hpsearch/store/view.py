"""A run directory for Python code, read-only: what ``hpsearch.optimize`` returns and ``hpsearch.load_run``
opens.

Every read opens the store read-only (no lock, nothing written, so it works on
read-only storage and beside a driver still running) and reads it afresh: a
run that goes on shows its new evaluations at the next call. The figures come
from :class:`~hpsearch.store.history.RunHistory`, as for ``hps results`` and
``hps plot``.

    >>> import tempfile
    >>> from types import SimpleNamespace as Sub
    >>> from hpsearch.trial import TrialResult
    >>> run_dir = tempfile.mkdtemp() + "/run"
    >>> with RunStore.create(run_dir, {"space": {"direction": "minimize"}}, ["x"]) as store:
    ...     store.add_trials([0, 1], [Sub(config={"x": x}, config_id=i, budget=None, previous_budget=None,
    ...                                   bracket=None, rung=None, info={}) for i, x in enumerate((1, 2))],
    ...                      ask_seq=0, ask_n=2)
    ...     _ = store.finish_trial(TrialResult(1, "done", objective=0.5), tell_seq=1)
    ...     _ = store.finish_trial(TrialResult(0, "done", objective=0.7), tell_seq=2)
    >>> run = load_run(run_dir)
    >>> run.best.trial_id, list(run.results()["p:x"]), list(run.history()["best"])
    (1, [2, 1], [0.5, 0.5])
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .history import RunHistory
from .runstore import RunStore, StoredTrial

__all__ = ["Run", "load_run"]


class Run:
    """A run directory, read-only.

    Args:
        run_dir: the run directory.

    Raises:
        StoreError: not a run directory, or not a readable one.
    """

    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        with self._open():
            pass  # a usage error now rather than at the first read

    def _open(self) -> RunStore:
        return RunStore.open(self.run_dir, readonly=True)

    @property
    def settings(self) -> dict:
        """The run's stored settings (problem, algorithm, options, seed, space, ...)."""
        with self._open() as store:
            return dict(store.settings)

    def results(self, finished_only: bool = True) -> Any:
        """The evaluations as a pandas DataFrame with the columns of ``results.csv``, in completion
        order (``finished_only=False``: running and interrupted ones too)."""
        with self._open() as store:
            return store.dataframe(finished_only=finished_only)

    def _history(self) -> RunHistory:
        with self._open() as store:
            return RunHistory.from_store(store)

    @property
    def best(self) -> StoredTrial | list[StoredTrial] | None:
        """The best successful evaluation (a larger budget first in a multi-fidelity run), or None;
        for a multi-objective run, the Pareto front (:meth:`pareto`)."""
        h = self._history()
        return list(h.front) if h.multi_objective else h.incumbent

    def pareto(self) -> list[StoredTrial]:
        """The Pareto-optimal evaluations, best first (Pareto rank, then crowding distance; full-budget
        ones only in a multi-fidelity run); for a single-objective run, ``[best]`` (or ``[]``).
        ``results()`` flags them in its ``pareto`` column."""
        h = self._history()
        if h.multi_objective:
            return list(h.front)
        return [] if h.incumbent is None else [h.incumbent]

    def history(self) -> Any:
        """The best-so-far curve the plots draw, one row per finished evaluation in completion order
        (a pandas DataFrame): ``trial_id``, ``status``, ``evaluations`` (finished so far),
        ``resource`` (resource trained so far), ``seconds`` (inside evaluations so far),
        ``objective`` (this evaluation's, if it succeeded), ``best`` and ``best_id`` (the incumbent's
        objective and trial_id); a multi-objective run has no incumbent (``best`` is empty) and a
        ``hypervolume`` column instead (the front's so far, against :attr:`RunHistory.reference`)."""
        import pandas as pd

        from .history import Point

        h = self._history()
        df = pd.DataFrame(list(h.points), columns=list(Point._fields))
        if h.multi_objective:
            df["hypervolume"] = list(h.hypervolumes) if h.hypervolumes else [None] * len(df)
        return df

    def trials(self) -> list[StoredTrial]:
        """Every stored evaluation (running and interrupted ones too), by trial_id."""
        with self._open() as store:
            return store.trials()

    @property
    def ended(self) -> str | None:
        """Why the run's last session ended, one line (``max-evals reached (60)``,
        ``interrupted (SIGINT)``, ...); None while it runs."""
        with self._open() as store:
            return store.ended

    def __repr__(self) -> str:
        h = self._history()
        t = h.incumbent
        best = "" if t is None else f", best {t.objective:.6g} (trial {t.trial_id})"
        if h.multi_objective:
            best = f", Pareto front of {len(h.front)}"
        return f"Run({str(self.run_dir)!r}: {h.counts['done']} done of {h.n_finished} finished{best})"


def load_run(run_dir: str | os.PathLike) -> Run:
    """Open a run directory read-only (works on read-only storage and while the run goes on).

    Raises:
        StoreError: not a run directory, or not a readable one.
    """
    return Run(run_dir)
