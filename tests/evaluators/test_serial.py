"""The serial evaluator passes the evaluator contract."""
import pytest

from .contract import EvaluatorContract, started


class TestSerialEvaluator(EvaluatorContract):
    def capacity_for(self, workers: int) -> int:
        return 1

    @pytest.fixture
    def make_evaluator(self, tmp_path):
        with started("serial", tmp_path) as make:
            yield make
