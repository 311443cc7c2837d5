"""Random search samples each prior."""
import math

import numpy as np

from hpsearch.problem.loader import load_problem
from hpsearch.search import make_scheduler

from .contract_searcher import MIXED


def test_starting_points_come_first_then_samples():
    lp = load_problem(MIXED)
    b = make_scheduler("random", lp.problem, 0, {})
    first = [s.config for s in b.ask(3)]
    assert first[0] == lp.problem.defaults
    assert first[1]["act"] == "tanh" and first[1]["units"] == 200
    assert first[2] not in first[:2]


def test_priors_are_honoured():
    lp = load_problem(MIXED)
    p = lp.problem
    rng = np.random.default_rng(0)
    draws = [p.sample(rng) for _ in range(4000)]
    lr = np.array([d["lr"] for d in draws])
    # log-uniform on [1e-4, 1e-1]: a quarter of the mass in each third of the decades... median at 10^-2.5
    assert abs(np.median(np.log10(lr)) + 2.5) < 0.1
    assert lr.min() >= 1e-4 and lr.max() <= 1e-1
    opt = [d["opt"] for d in draws]
    assert abs(opt.count("adam") / len(opt) - 0.75) < 0.03  # weights 3:1
    batch = {d["batch"] for d in draws}
    assert batch == {16, 32, 64, 128}
    layers = [d["layers"] for d in draws]
    assert set(layers) == {1, 2, 3, 4, 5}
    units = np.array([d["units"] for d in draws])
    assert units.min() >= 8 and units.max() <= 256
    assert abs(np.median(np.log2(units)) - math.log2(math.sqrt(8 * 257))) < 0.3
