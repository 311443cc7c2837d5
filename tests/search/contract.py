"""The contract every search backend passes (in the spirit of Optuna's shared sampler tests).

Subclass :class:`BackendContract`, set ``algo`` (and ``options``), and the
backend is checked for: suggestions valid on a mixed space with every value
of its declared Python type; the same sequence for the same seed; failed
evaluations told without crashing the search; and, through the real engine
and store, a run stopped part-way and resumed equals an uninterrupted run.
"""
from __future__ import annotations

import csv

from hpsearch.loader import load_problem
from hpsearch.runner import RunConfig, resume_run, start_run
from hpsearch.search import DONE, WAIT, Told, make_backend

from ..conftest import PROBLEMS

MIXED = PROBLEMS / "mixed"


def drive(backend, run, n: int, fail_every: int = 0) -> list:
    """Ask one at a time and tell at once, n times (or until DONE); return the suggestions."""
    out = []
    while len(out) < n:
        got = backend.ask(1)
        if got is DONE:
            break
        assert got is not WAIT, "WAIT with nothing in flight"
        assert isinstance(got, list) and 1 <= len(got) <= 1, got
        s = got[0]
        tid = len(out)
        if fail_every and tid % fail_every == 0:
            told = Told(trial_id=tid, suggestion=s, status="failed", loss=None)
        else:
            score = run(dict(s.config))
            told = Told(trial_id=tid, suggestion=s, status="done", loss=-score, objective=score)
        backend.tell(told)
        out.append(s)
    return out


def rows(run_dir) -> list[tuple]:
    with open(f"{run_dir}/results.csv", newline="") as f:
        return [(r["trial_id"], r["config_id"], r["budget"],
                 tuple(v for k, v in r.items() if k.startswith("p:")), r["objective"], r["status"])
                for r in csv.DictReader(f)]


class BackendContract:
    algo: str = ""
    options: dict = {}
    n_evals: int = 25

    def backend(self, seed: int = 0, problem=None):
        lp = load_problem(MIXED)
        return make_backend(self.algo, problem or lp.problem, seed, dict(self.options)), lp

    def test_suggestions_are_valid_and_typed(self):
        backend, lp = self.backend(seed=1)
        suggestions = drive(backend, lp.run, self.n_evals)
        assert suggestions, "no suggestion at all"
        for s in suggestions:
            checked = lp.problem.check(s.config)
            assert checked == s.config
            for name, value in s.config.items():
                assert type(value) is type(checked[name]), (name, value)
            assert isinstance(s.config_id, int)
            if s.budget is not None:
                assert s.config[lp.problem.resource.name] == s.budget

    def test_same_seed_same_sequence(self):
        a, lp = self.backend(seed=7)
        b, _ = self.backend(seed=7)
        c, _ = self.backend(seed=8)
        sa = [s.config for s in drive(a, lp.run, self.n_evals)]
        sb = [s.config for s in drive(b, lp.run, self.n_evals)]
        sc = [s.config for s in drive(c, lp.run, self.n_evals)]
        assert sa == sb
        assert sa != sc

    def test_failed_evaluations_do_not_stop_the_search(self):
        backend, lp = self.backend(seed=2)
        got = drive(backend, lp.run, self.n_evals, fail_every=2)
        assert len(got) >= min(self.n_evals, 10)

    def test_fixed_dimension_is_respected(self):
        lp = load_problem(MIXED)
        backend, _ = self.backend(seed=3, problem=lp.problem.fix({"act": "tanh", "x": "0.5"}))
        for s in drive(backend, lp.run, self.n_evals):
            assert s.config["act"] == "tanh" and s.config["x"] == 0.5

    def test_resume_equals_uninterrupted(self, tmp_path):
        n, k = self.n_evals, self.n_evals // 2 + 1
        common = dict(problem=str(MIXED), algo=self.algo, algo_options=dict(self.options), seed=11,
                      evaluator="serial")
        full = start_run(RunConfig(**common, max_evals=n, run_dir=str(tmp_path / "full")))
        full.store.close()
        part = start_run(RunConfig(**common, max_evals=k, run_dir=str(tmp_path / "part")))
        part.store.close()
        resumed = resume_run(tmp_path / "part", max_evals=n)
        resumed.store.close()
        assert resumed.summary.n_replayed == k
        assert rows(tmp_path / "part") == rows(tmp_path / "full")
