"""Hyperband: the backend contract, promotion, parallel asks, and exact resource totals through the engine."""
from hpsearch.loader import load_problem
from hpsearch.search import make_backend

from .contract import MIXED, BackendContract


class TestHyperbandContract(BackendContract):
    algo = "hyperband"
