"""The contract every evaluator passes. Subclass :class:`EvaluatorContract` and
provide the ``make_evaluator`` fixture: ``make_evaluator(workers=1, trial_timeout=None)``
returns a *started* evaluator on the toy problem folder (closed by the fixture).

The toy folder's ``run`` behaves as its ``mode`` says (see tests/data/problems/toy).
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hpsearch.evaluators import make_evaluator
from hpsearch.trial import TrialSpec

from ..conftest import PROBLEMS

TOY = PROBLEMS / "toy"


@contextlib.contextmanager
def started(name: str, run_dir: Path, folder: Path = TOY, **fixed) -> Iterator:
    """Yield ``make(workers=1, trial_timeout=None, **options)``, which builds and starts an evaluator;
    every evaluator made is closed on exit."""
    made = []

    def make(workers: int = 1, trial_timeout: float | None = None, **options):
        ev = make_evaluator(name, folder, workers=workers, trial_timeout=trial_timeout, run_dir=run_dir,
                            **fixed, **options)
        ev.start()
        made.append(ev)
        return ev

    try:
        yield make
    finally:
        for ev in made:
            ev.close()


def spec(tid: int, mode: str = "ok", x: float = 0.5, sleep: float = 0.0, config_id: int | None = None,
         root: str | None = None, timeout: float | None = None) -> TrialSpec:
    return TrialSpec(trial_id=tid, config_id=tid if config_id is None else config_id,
                     config={"mode": mode, "x": x, "sleep": sleep}, seed=tid,
                     checkpoint_root=root, objective="objective", timeout=timeout)


def collect(ev, n: int, limit: float = 60.0) -> dict:
    """Wait for n results; return trial_id -> result."""
    out = {}
    end = time.monotonic() + limit
    while len(out) < n:
        assert time.monotonic() < end, f"only {len(out)} of {n} results after {limit} s"
        for r in ev.wait(timeout=1.0):
            assert r.trial_id not in out, f"trial {r.trial_id} returned twice"
            out[r.trial_id] = r
    return out


class EvaluatorContract:
    """Shared tests; ``capacity_for(workers)`` may be overridden (serial is always 1)."""

    def capacity_for(self, workers: int) -> int:
        return workers

    def test_runs_a_trial_and_imports_siblings(self, make_evaluator):
        ev = make_evaluator()
        ev.submit(spec(0, x=0.25))
        r = collect(ev, 1)[0]
        assert r.status == "done", r.error
        assert r.objective == pytest.approx(0.25)  # double(x) / 2, from the sibling module
        assert r.worker and r.duration_s >= 0 and r.finished_at >= r.started_at
        assert ev.in_flight() == []

    def test_exception_and_nan_fail_only_their_trial(self, make_evaluator):
        ev = make_evaluator()
        for tid, mode in enumerate(["raise", "nan", "ok"]):
            ev.submit(spec(tid, mode=mode))
        got = collect(ev, 3)
        assert got[0].status == "failed" and "ZeroDivisionError" in got[0].error
        assert got[1].status == "failed" and "nan" in got[1].error
        assert got[2].status == "done"

    def test_trial_timeout_stops_the_trial(self, make_evaluator):
        ev = make_evaluator(trial_timeout=1.0)
        ev.submit(spec(0, mode="sleep", sleep=3600.0, timeout=1.0))  # collect() gives up long before
        ev.submit(spec(1, timeout=1.0))
        got = collect(ev, 2, limit=120)
        assert got[0].status == "timeout"
        assert got[1].status == "done"

    def test_many_trials_each_returned_once(self, make_evaluator):
        ev = make_evaluator(workers=2)
        assert ev.capacity == self.capacity_for(2)
        for tid in range(12):
            ev.submit(spec(tid, x=tid / 20))
        got = collect(ev, 12)
        assert sorted(got) == list(range(12))
        assert all(r.status == "done" for r in got.values())
        assert [got[t].objective for t in range(12)] == pytest.approx([t / 20 for t in range(12)])

    def test_checkpoint_dir_persists_across_rungs(self, make_evaluator, tmp_path):
        ev = make_evaluator()
        root = str(tmp_path / "checkpoints")
        ev.submit(spec(0, mode="checkpoint", config_id=7, root=root))
        assert collect(ev, 1)[0].objective == 1.0
        ev.submit(spec(1, mode="checkpoint", config_id=7, root=root))
        assert collect(ev, 1)[1].objective == 2.0
        assert (tmp_path / "checkpoints" / "config-7" / "count.txt").read_text() == "2"

    def test_cancel_returns_what_was_in_flight(self, make_evaluator):
        ev = make_evaluator()
        ev.submit(spec(0, mode="sleep", sleep=30.0))
        ev.submit(spec(1, mode="sleep", sleep=30.0))
        assert sorted(ev.in_flight()) == [0, 1]
        assert sorted(ev.cancel()) == [0, 1]
        assert ev.in_flight() == []
