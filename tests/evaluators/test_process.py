"""The process evaluator passes the evaluator contract, and survives hangs, crashes and kills."""
import pytest

from hpsearch.evaluators import make_evaluator as build

from .contract import TOY, EvaluatorContract


@pytest.fixture
def make_process_evaluator(tmp_path):
    made = []

    def make(workers=1, trial_timeout=None, **options):
        ev = build("process", TOY, workers=workers, trial_timeout=trial_timeout, run_dir=tmp_path,
                   **options)
        ev.start()
        made.append(ev)
        return ev

    yield make
    for ev in made:
        ev.close()


class TestProcessEvaluator(EvaluatorContract):
    @pytest.fixture
    def make_evaluator(self, make_process_evaluator):
        return make_process_evaluator
