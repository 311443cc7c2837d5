"""Limits.max_resource_spent: new asks stop once the committed resource reaches the limit."""
import pytest

from hpsearch.evaluators.serial import SerialEvaluator
from hpsearch.problem.loader import load_problem
from hpsearch.run.engine import Engine, Limits
from hpsearch.run.runner import RunConfig, RunError, resume_run, start_run
from hpsearch.search import make_scheduler
from hpsearch.store import RunStore

from ..conftest import PROBLEMS

MIXED = str(PROBLEMS / "mixed")


def costs(run_dir):
    with RunStore.open(run_dir) as s:
        return [float(t.budget) - float(t.previous_budget or 0) for t in s.trials()]


def test_a_fixed_resource_run_stops_at_the_evaluation_that_crosses_the_limit(tmp_path):
    out = start_run(RunConfig(problem=MIXED, algo="random", seed=0, evaluator="serial", fix={"steps": 9},
                              max_resource_spent=50, run_dir=str(tmp_path / "r")))
    out.store.close()
    assert costs(tmp_path / "r") == [9.0] * 6  # 45 < 50 <= 54
    assert out.summary.resource_spent == 54.0


def test_multi_fidelity_runs_pay_what_they_train(tmp_path):
    out = start_run(RunConfig(problem=MIXED, algo="asha", seed=1, evaluator="serial",
                              max_resource_spent=40, run_dir=str(tmp_path / "r")))
    out.store.close()
    c = costs(tmp_path / "r")
    assert sum(c[:-1]) < 40 <= sum(c)
    assert out.summary.resource_spent == sum(c)
    assert any(x == 2.0 for x in c)  # a promotion 1 -> 3 trains 2 more steps


def test_the_limit_is_stored_and_honoured_on_resume(tmp_path):
    common = dict(problem=MIXED, algo="asha", seed=2, evaluator="serial", max_resource_spent=60)
    full = start_run(RunConfig(**common, run_dir=str(tmp_path / "full")))
    full.store.close()
    part = start_run(RunConfig(**common, max_evals=5, run_dir=str(tmp_path / "part")))
    part.store.close()
    assert len(costs(tmp_path / "part")) == 5
    resumed = resume_run(tmp_path / "part", max_evals=10_000)
    resumed.store.close()
    with RunStore.open(tmp_path / "full") as a, RunStore.open(tmp_path / "part") as b:
        assert b.settings["max_resource_spent"] == 60
        ra = [(t.config_id, t.rung, t.budget, t.objective) for t in a.trials()]
        rb = [(t.config_id, t.rung, t.budget, t.objective) for t in b.trials()]
    assert ra == rb
    assert resumed.summary.resource_spent == full.summary.resource_spent >= 60


@pytest.mark.parametrize("problem,value,message", [
    ("branin", 10, "max_resource_spent: problem 'branin' declares no resource dimension"),
    (MIXED, 0, "max_resource_spent must be > 0, got 0"),
])
def test_bad_limits_are_usage_errors(tmp_path, problem, value, message):
    with pytest.raises(RunError, match="^" + message.replace("(", r"\(")):
        start_run(RunConfig(problem=problem, algo="random", evaluator="serial", max_resource_spent=value,
                            run_dir=str(tmp_path / "r")))
    assert not (tmp_path / "r").exists()


class ThreeSlots(SerialEvaluator):
    """The serial evaluator with three evaluations in flight (they run one by one in ``wait``)."""

    @property
    def capacity(self) -> int:
        return 3


@pytest.mark.parametrize("limit", [None, 50])
def test_with_free_workers_the_limit_asks_one_evaluation_at_a_time(tmp_path, limit):
    lp = load_problem(MIXED)
    problem = lp.problem.fix({"steps": 9})
    store = RunStore.create(tmp_path / "r", {}, problem.names)
    engine = Engine(problem, make_scheduler("random", problem, 0, {}), ThreeSlots(lp.folder, loaded=lp), store,
                    Limits(max_evals=None if limit else 9, max_resource_spent=limit), seed=0)
    engine.run()
    trials = store.trials()
    store.close()
    if limit is None:
        assert [t.ask_n for t in trials][:3] == [3, 3, 3]  # one batch ask fills the free slots
    else:
        assert [t.ask_n for t in trials] == [1] * 6  # 45 < 50 <= 54: not a batch beyond the limit
