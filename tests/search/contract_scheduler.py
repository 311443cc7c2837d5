"""The contract every scheduler passes, alone (random searcher) and with every searcher.

Driven directly: starting points first, batch asks, WAIT and DONE changing
nothing, failures never promoted, determinism. Through the real engine and
store (``test_contracts.py``), for every scheduler x searcher pair: a run
stopped part-way and resumed equals an uninterrupted one, serially and with
several evaluations in flight.
"""
from __future__ import annotations

import csv

from hpsearch.evaluators.base import Evaluator
from hpsearch.problem.loader import load_problem
from hpsearch.run.engine import Engine, Limits
from hpsearch.search import DONE, PRESETS, WAIT, Told, make_scheduler
from hpsearch.store import RunStore
from hpsearch.trial import Status, execute_trial

from ..conftest import run_full_and_resumed
from .contract_searcher import MIXED, SEARCHER_OPTIONS, mixed_multi_objective, mo_losses

#: small schedules on the mixed problem's resource (steps 1..27).
SCHEDULER_OPTIONS = {"hyperband": {"max_resource": 9}, "asha": {"max_resource": 9}}


def preset_of(scheduler: str) -> str:
    """An ``--algo`` preset that runs ``scheduler``."""
    return next(name for name, p in PRESETS.items() if p.scheduler == scheduler)


def options(scheduler: str, searcher: str, extra: dict | None = None) -> dict:
    return {**SCHEDULER_OPTIONS.get(scheduler, {}), **SEARCHER_OPTIONS.get(searcher, {}), **(extra or {})}


def make(scheduler: str, searcher: str = "random", seed: int = 0, problem=None, algo: str | None = None,
         extra: dict | None = None):
    """The scheduler of ``algo`` (default: a preset that runs ``scheduler``) with ``extra`` options."""
    lp = load_problem(MIXED)
    backend = make_scheduler(algo or preset_of(scheduler), problem or lp.problem, seed,
                             options(scheduler, searcher, extra), searcher=searcher)
    assert backend.name == scheduler
    return backend, lp


def drive(backend, run, n: int = 1, limit: int = 40, fail=lambda s: False, extra_asks: int = 0,
          losses=None) -> list:
    """Ask up to ``n`` at a time, tell the oldest in-flight evaluation, repeat until DONE or ``limit``.

    ``extra_asks``: after a WAIT or DONE, ask that many more times (they must change nothing).
    Returns every suggestion, in ask order.
    """
    out, flight, tid = [], [], 0
    while len(out) < limit:
        got = backend.ask(n - len(flight)) if len(flight) < n else WAIT
        if got is WAIT or got is DONE:
            for _ in range(extra_asks if len(flight) < n else 0):
                assert backend.ask(n - len(flight)) is got
            if got is DONE and not flight:
                break
            assert flight, "WAIT with nothing in flight"
        else:
            assert isinstance(got, list) and 1 <= len(got) <= n - len(flight), got
            out += got
            flight += got
            continue
        s = flight.pop(0)
        if fail(s):
            told = Told(trial_id=tid, suggestion=s, status=Status.FAILED, loss=None)
        else:
            score = run(dict(s.config))
            loss = -score if losses is None else losses(s.config)
            told = Told(trial_id=tid, suggestion=s, status=Status.DONE, loss=loss, objective=score)
        backend.tell(told)
        tid += 1
    return out


def key(s) -> tuple:
    return s.config_id, s.rung, s.budget, repr(sorted(s.config.items()))


def rows(run_dir) -> list[tuple]:
    with open(f"{run_dir}/results.csv", newline="") as f:
        return [(r["trial_id"], r["config_id"], r["budget"],
                 tuple(v for k, v in r.items() if k.startswith("p:")), r["objective"], r["status"])
                for r in csv.DictReader(f)]


class ParallelFake(Evaluator):
    """Runs trials in this process, ``capacity`` at a time, finishing the newest first (out of order);
    raises KeyboardInterrupt (a Ctrl-C) at wait number ``stop_after + 1``."""

    name = "fake"

    def __init__(self, loaded, capacity, stop_after=None):
        super().__init__(loaded.folder, capacity)
        self.loaded, self.queue, self.waits, self.stop_after = loaded, [], 0, stop_after
        self.overlaps = set()  # brackets in flight together

    def submit(self, spec):
        self.queue.append(spec)

    def in_flight(self):
        return [s.trial_id for s in self.queue]

    def cancel(self):
        ids, self.queue = self.in_flight(), []
        return ids

    def wait(self, timeout=None, deadline=None):
        self.waits += 1
        if self.stop_after is not None and self.waits > self.stop_after:
            raise KeyboardInterrupt
        self.overlaps.add(frozenset(s.bracket for s in self.queue))
        spec = self.queue.pop()
        with self.loaded.activate():
            return [execute_trial(self.loaded.run, self.loaded.accepts_trial, spec, worker="fake")]


class SchedulerContract:
    """Set ``scheduler`` (and ``searcher``, default random; ``algo`` and its ``extra`` options to run a
    preset that chooses its scheduler from them, e.g. bohb with ``{"schedule": "async"}``)."""

    scheduler: str = ""
    searcher: str = "random"
    algo: str | None = None
    extra: dict | None = None

    def backend(self, seed=0, problem=None):
        return make(self.scheduler, self.searcher, seed, problem, self.algo, self.extra)

    def preset(self) -> str:
        return self.algo or preset_of(self.scheduler)

    def options(self) -> dict:
        return options(self.scheduler, self.searcher, self.extra)

    def test_starting_points_first(self):
        b, lp = self.backend(seed=1)
        starts = lp.problem.starting_points
        res = lp.problem.resource.name
        got = drive(b, lp.run, n=1, limit=len(starts))
        strip = [{k: v for k, v in c.items() if k != res} for c in starts]
        assert [{k: v for k, v in s.config.items() if k != res} for s in got] == strip

    def test_batch_asks_are_valid_and_never_hand_out_one_configuration_twice_at_once(self):
        b, lp = self.backend(seed=2)
        out, flight = [], {}
        for _ in range(6):
            got = b.ask(4)
            if not isinstance(got, list):
                break
            assert 1 <= len(got) <= 4
            for s in got:
                assert lp.problem.check(s.config) == s.config
                assert s.config_id not in flight, "a configuration handed out while in flight"
                if s.budget is not None:
                    assert s.config[lp.problem.resource.name] == s.budget
                flight[s.config_id] = s
            out += got
            first = next(iter(flight))
            s = flight.pop(first)
            v = lp.run(dict(s.config))
            b.tell(Told(trial_id=len(out), suggestion=s, status=Status.DONE, loss=-v, objective=v))
        assert out

    def test_wait_and_done_change_nothing(self):
        plain, lp = self.backend(seed=3)
        poked, _ = self.backend(seed=3)
        a = drive(plain, lp.run, n=3, limit=40)
        b = drive(poked, lp.run, n=3, limit=40, extra_asks=2)
        assert [key(s) for s in a] == [key(s) for s in b]

    def test_failures_are_never_promoted(self):
        b, lp = self.backend(seed=4)

        def fail(s):
            return s.config_id % 3 == 1

        got = drive(b, lp.run, n=2, limit=60, fail=fail)
        for cid in {s.config_id for s in got if fail(s)}:
            assert sum(s.config_id == cid for s in got) == 1, f"failed configuration {cid} was promoted"

    def test_same_seed_same_sequence(self):
        runs = [drive(self.backend(seed=s)[0], load_problem(MIXED).run, n=2, limit=30) for s in (5, 5, 6)]
        assert [key(s) for s in runs[0]] == [key(s) for s in runs[1]]
        assert [key(s) for s in runs[0]] != [key(s) for s in runs[2]]

    def test_multi_objective_same_seed_same_sequence_and_failures_never_promoted(self):
        lp = load_problem(MIXED)

        def fail(s):
            return s.config_id % 4 == 1

        runs = [drive(self.backend(seed=s, problem=mixed_multi_objective())[0], lp.run, n=2, limit=40,
                      fail=fail, losses=lambda c: mo_losses(lp, c)) for s in (5, 5, 6)]
        assert [key(s) for s in runs[0]] == [key(s) for s in runs[1]]
        assert [key(s) for s in runs[0]] != [key(s) for s in runs[2]]
        for cid in {s.config_id for s in runs[0] if fail(s)}:
            assert sum(s.config_id == cid for s in runs[0]) == 1, f"failed configuration {cid} was promoted"
        if self.scheduler != "fifo":
            assert any(s.rung for s in runs[0]), "nothing was promoted"

    # -- through the real engine ------------------------------------------------------------
    def test_resume_equals_uninterrupted(self, tmp_path):
        n, k = 20, 9
        common = dict(problem=str(MIXED), algo=self.preset(), searcher=self.searcher,
                      algo_options=self.options(), seed=11, evaluator="serial")
        full, resumed = run_full_and_resumed(tmp_path, common, k, n)
        assert resumed.n_replayed == k
        assert rows(tmp_path / "part") == rows(tmp_path / "full")
        if self.scheduler == "asha":  # its 9 configurations (R = 9) and their promotions end it first
            assert full.ended == resumed.ended == (
                "the search is complete: asha's --max-configs (9) configurations were all evaluated")
            assert len(rows(tmp_path / "full")) < n
        else:  # one Hyperband pass with R = 9 is 22 evaluations: the limit ends it, as it ends fifo
            assert full.ended == resumed.ended == f"max-evals reached ({n})"
            assert len(rows(tmp_path / "full")) == n

    def test_parallel_run_interrupted_and_resumed_equals_uninterrupted(self, tmp_path):
        lp = load_problem(MIXED)

        def engine(store, evaluator):
            backend = make_scheduler(self.preset(), lp.problem, 3, self.options(), searcher=self.searcher)
            return Engine(lp.problem, backend, evaluator, store, Limits(max_evals=24), seed=3)

        settings = {"multi_fidelity": self.scheduler != "fifo"}
        with RunStore.create(tmp_path / "full", settings, lp.problem.names) as store:
            engine(store, ParallelFake(lp, 3)).run()
            want = [(t.config_id, t.rung, t.budget, t.params, t.objective) for t in store.trials()]
        store = RunStore.create(tmp_path / "part", settings, lp.problem.names)
        summary = engine(store, ParallelFake(lp, 3, stop_after=8)).run()
        assert summary.stopped_by == "signal"
        store.close()
        with RunStore.open(tmp_path / "part") as store:
            summary = engine(store, ParallelFake(lp, 3)).run()
            got = [(t.config_id, t.rung, t.budget, t.params, t.objective) for t in store.trials()]
        assert summary.n_replayed == 8
        assert got == want and len(got) > 8
