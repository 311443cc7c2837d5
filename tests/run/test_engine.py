"""The engine through runner.start_run: failures recorded, search goes on, limits, resume."""
import pytest

from hpsearch.run.runner import RunConfig, RunError, resume_run, start_run
from hpsearch.store import RunStore

from ..conftest import PROBLEMS

FAILING = """
import math
def run(config):
    i = round(config["x"] * 1000) % 5
    if i == 0:
        raise RuntimeError("bad luck")
    if i == 1:
        return math.nan
    if i == 2:
        return "high"
    if i == 3:
        return {"acc": 1.0}
    return config["x"]
"""
PROBLEM = """
from hpsearch import HpProblem
Problem = HpProblem(objective="objective", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.0)
"""


def run(problem, tmp_path, **kw):
    kw.setdefault("evaluator", "serial")
    kw.setdefault("seed", 0)
    out = start_run(RunConfig(problem=str(problem), run_dir=str(tmp_path / "run"), **kw))
    out.store.close()
    return out


def test_failures_are_recorded_with_reasons_and_the_search_goes_on(make_problem, tmp_path):
    folder = make_problem("fails", problem=PROBLEM, model_run=FAILING)
    out = run(folder, tmp_path, max_evals=40)
    with RunStore.open(tmp_path / "run") as s:
        trials = s.trials()
    assert len(trials) == 40
    errors = {t.error.split(":")[0] for t in trials if t.status == "failed"}
    assert any(e.startswith("RuntimeError") for e in errors)
    reasons = " | ".join(t.error for t in trials if t.status == "failed")
    assert "RuntimeError: bad luck (model_run.py:6)" in reasons
    assert "objective is nan (not a finite number)" in reasons
    assert "run() returned str 'high'; expected a number or a dict with the key 'objective'" in reasons
    assert "run() returned a dict without the objective 'objective' (keys: acc)" in reasons
    assert out.summary.n_done == sum(t.status == "done" for t in trials) > 0
    assert out.summary.n_failed == 40 - out.summary.n_done


def test_trial_timeout_in_the_serial_evaluator(make_problem, tmp_path):
    folder = make_problem("slow", problem=PROBLEM, model_run="""
import time
def run(config):
    if config["x"] == 0.0:
        time.sleep(3600)  # only the trial timeout ends it
    return config["x"]
""")
    out = run(folder, tmp_path, max_evals=3, trial_timeout=0.5)
    with RunStore.open(tmp_path / "run") as s:
        statuses = [t.status for t in s.trials()]
    assert statuses == ["timeout", "done", "done"]
    assert out.summary.n_timeout == 1


@pytest.mark.slow
def test_run_timeout_stops_and_resume_finishes(make_problem, tmp_path):
    folder = make_problem("slow", problem=PROBLEM, model_run="""
import time
from pathlib import Path
CALLS = Path(__file__).with_name("calls")
def run(config):
    n = int(CALLS.read_text()) + 1 if CALLS.exists() else 1
    CALLS.write_text(str(n))
    if n == 3:
        time.sleep(3600)  # the third call runs until the run's timeout ends it
    return config["x"]
""")
    out = run(folder, tmp_path, max_evals=8, timeout=5.0)
    assert out.summary.stopped_by == "timeout"
    assert out.summary.n_done == 2 and out.summary.n_interrupted == 1
    again = resume_run(tmp_path / "run", timeout=60)
    again.store.close()
    assert again.summary.n_done == 8 and again.summary.stopped_by is None


def test_max_evals_and_fix(tmp_path):
    out = run(PROBLEMS / "mixed", tmp_path, max_evals=12, fix={"act": "relu", "layers": "3"})
    with RunStore.open(tmp_path / "run") as s:
        configs = [t.params for t in s.trials()]
    assert len(configs) == 12 and out.summary.n_done == 12
    assert {c["act"] for c in configs} == {"relu"} and {c["layers"] for c in configs} == {3}


@pytest.mark.parametrize("kw, message", [
    ({"max_evals": 0}, "--max-evals must be >= 1, got 0"),
    ({"workers": 0}, "--workers must be >= 1, got 0"),
    ({"timeout": -1.0}, "--timeout must be > 0 seconds, got -1"),
])
def test_bad_limits_are_usage_errors_and_write_nothing(tmp_path, kw, message):
    with pytest.raises(RunError, match=message):
        run(PROBLEMS / "mixed", tmp_path, **kw)
    assert not (tmp_path / "run").exists()
