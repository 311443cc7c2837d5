"""The serial evaluator passes the evaluator contract."""
import pytest

from hpsearch.evaluators import make_evaluator as build

from .contract import TOY, EvaluatorContract


class TestSerialEvaluator(EvaluatorContract):
    def capacity_for(self, workers: int) -> int:
        return 1

    @pytest.fixture
    def make_evaluator(self, tmp_path):
        made = []

        def make(workers=1, trial_timeout=None):
            ev = build("serial", TOY, workers=workers, trial_timeout=trial_timeout, run_dir=tmp_path)
            ev.start()
            made.append(ev)
            return ev

        yield make
        for ev in made:
            ev.close()
