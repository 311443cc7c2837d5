"""Progress for long runs: a tqdm bar on a terminal, plain log lines otherwise.

Implements the engine's :class:`~hpsearch.engine.Observer` and never touches
the store or the search.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO

from ..trial import Status
from .tables import format_value

__all__ = ["Progress"]


class Progress:
    """Shows evaluations done, failures and the best objective so far.

    Args:
        total: evaluations expected in all, if known.
        stream: where to write (standard error by default).
        tty: force terminal (bar) or log-line mode; None asks the stream.
        interval: in log-line mode, the least seconds between routine lines.
    """

    def __init__(self, total: int | None = None, stream: TextIO | None = None,
                 tty: bool | None = None, interval: float = 1.0):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total = total
        self.interval = interval
        self._bar = None
        self._last_line = 0.0
        self._best_id: int | None = None
        self._shown_failure = False
        self._count = 0
        self.objectives: list[str] = []  # a multi-objective run's objectives, shown per trial

    def on_start(self, engine) -> None:
        problem = getattr(engine, "problem", None)  # an engine-like observer source may have none
        self.objectives = list(problem.objectives) if problem is not None and problem.multi_objective else []
        if self.total is None:
            self.total = engine.limits.max_evals or engine.scheduler.max_evaluations()
        done = engine.summary.n_finished
        self._count = done
        self._best_id = engine.summary.best.trial_id if engine.summary.best else None
        if self.tty:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=done, unit="eval", file=self.stream,
                             dynamic_ncols=True, mininterval=0.2, leave=True)
            if engine.summary.best is not None:
                self._bar.set_postfix_str(f"best={format_value(engine.summary.best.objective)}")
        elif done:
            self._line(f"resumed: {done} evaluations already stored")

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last_line = time.monotonic()

    def on_result(self, trial, best, summary) -> None:
        self._count += 1
        new_best = best is not None and best.trial_id != self._best_id
        if new_best:
            self._best_id = best.trial_id
        failed = trial.status not in (Status.DONE, Status.STOPPED)
        if self._bar is not None:
            self._bar.update(1)
            if new_best:
                self._bar.set_postfix_str(f"best={format_value(best.objective)}")
            elif getattr(summary, "front", None) is not None:
                self._bar.set_postfix_str(f"front={len(summary.front)}")
            if failed and not self._shown_failure:
                self._shown_failure = True
                self._bar.write(f"trial {trial.trial_id} {trial.status}: {trial.error}", file=self.stream)
            return
        now = time.monotonic()
        if not (new_best or (failed and not self._shown_failure) or now - self._last_line >= self.interval):
            return
        of = f"/{self.total}" if self.total else ""
        budget = f" budget={format_value(trial.budget)}" if trial.budget is not None else ""
        what = (f"objective={format_value(trial.objective)}" if not failed
                else f"{trial.status}: {trial.error}")
        if trial.status == Status.STOPPED:
            what = f"stopped at step {format_value(trial.step_reached)} {what}"
        best_txt = f" best={format_value(best.objective)} (trial {best.trial_id})" if best else ""
        front = getattr(summary, "front", None)
        if front is not None:  # several objectives: the front, not a best
            what = what if failed else ", ".join(f"{k}={format_value(trial.metrics.get(k))}"
                                                 for k in self.objectives) or what
            best_txt = f" front={len(front)}"
        self._shown_failure = self._shown_failure or failed
        self._line(f"[{self._count}{of}] trial {trial.trial_id}{budget} {what}{best_txt}")

    def on_end(self, summary) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
