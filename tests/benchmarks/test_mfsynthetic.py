"""The multi-fidelity functions from the literature (mfhartmann3, mfhartmann6, mfbranin): exact at the
full budget, biased and noisier below it as designed, reproducible, and searchable through the CLI."""
from __future__ import annotations

import csv
import math
import statistics

import numpy as np
import pytest

from hpsearch.cli import cli
from hpsearch.problem.loader import load_problem
from hpsearch.trial import TrialSpec, execute_trial

R = 81
NAMES = ["mfhartmann3", "mfhartmann6", "mfbranin"]
# Published minimisers (Hartmann: Surjanovic and Bingham's library; Branin: its three optima).
MINIMISERS = {
    "mfhartmann3": [{"x0": 0.114614, "x1": 0.555649, "x2": 0.852547}],
    "mfhartmann6": [{"x0": 0.20169, "x1": 0.150011, "x2": 0.476874, "x3": 0.275332, "x4": 0.311652,
                     "x5": 0.6573}],
    "mfbranin": [{"x1": -math.pi, "x2": 12.275}, {"x1": math.pi, "x2": 2.275},
                 {"x1": 9.42478, "x2": 2.475}],
}
OPTIMA = {"mfhartmann3": -3.86278, "mfhartmann6": -3.32237, "mfbranin": 0.397887}


@pytest.fixture(scope="module", params=NAMES)
def lp(request):
    return load_problem(request.param)


def value(lp, config: dict, budget: int, seed: int = 5) -> dict:
    spec = TrialSpec(trial_id=1, config_id=1, config={**config, "epochs": budget}, budget=budget,
                     seed=seed, objective="objective")
    with lp.activate():
        result = execute_trial(lp.run, lp.accepts_trial, spec)
    assert result.status == "done", result.error
    return {"objective": result.objective, **result.metrics}


def module(lp):
    with lp.activate():
        return lp.run.__globals__


def random_configs(lp, n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{d.name: d.from_unit(rng.random()) for d in lp.problem.dims if not d.resource} for _ in range(n)]


@pytest.mark.parametrize("name", NAMES)
def test_hps_show_lists_the_space_the_resource_and_the_optimum(runner, name):
    out = runner.invoke(cli, ["show", name])
    assert out.exit_code == 0, out.output
    assert f"known optimum {OPTIMA[name]:g}" in out.output
    assert "resource:  epochs" in out.output
    assert "epochs *  ordinal     [1, 81]" in out.output


def test_the_declared_optimum_is_attained_at_the_published_minimisers_at_full_budget(lp):
    assert lp.problem.optimum == pytest.approx(OPTIMA[lp.name], abs=1e-5)
    for x in MINIMISERS[lp.name]:
        v = value(lp, x, R)
        assert v["objective"] == pytest.approx(lp.problem.optimum, abs=2e-5)
        assert v["objective"] == v["final"]  # no noise and no bias left at R
    # and nothing in a random sample beats it
    assert min(value(lp, c, R)["objective"] for c in random_configs(lp, 300)) > lp.problem.optimum


def test_full_budget_is_exact_and_independent_of_the_seed(lp):
    for c in random_configs(lp, 20, seed=1):
        assert value(lp, c, R, seed=1)["objective"] == value(lp, c, R, seed=2)["objective"] == \
            value(lp, c, R)["final"]


def test_error_shrinks_with_the_budget_and_is_gone_at_r(lp):
    """Mean |value(b) - value(R)| over configurations falls at every Hyperband rung, to 0 at R."""
    configs = random_configs(lp, 200, seed=2)
    err = {}
    for b in (1, 3, 9, 27, 81):
        err[b] = statistics.mean(abs(value(lp, c, b, seed=i)["objective"] - value(lp, c, R)["final"])
                                 for i, c in enumerate(configs))
    assert err[1] > err[3] > err[9] > err[27] > err[81] == 0.0


def test_noise_has_the_designed_scale_and_the_bias_is_boca_s(lp):
    """Noise sd = SIGMA (1 - z) with z = log(b) / log(R); the noise-free low fidelity differs from f."""
    g = module(lp)
    f = g[[k for k in g if k.startswith("mf_")][0]]
    args = (lambda c: (c["x1"], c["x2"])) if lp.name == "mfbranin" else \
        (lambda c: ([c[f"x{i}"] for i in range(len(c))],))
    configs = random_configs(lp, 400, seed=3)
    for b in (1, 9):
        z = math.log(b) / math.log(R)
        assert g["fidelity"](b) == pytest.approx(z)
        residual = [value(lp, c, b, seed=i)["objective"] - f(*args(c), z) for i, c in enumerate(configs)]
        assert statistics.stdev(residual) == pytest.approx(g["SIGMA"] * (1 - z), rel=0.15)
        assert abs(statistics.mean(residual)) < 0.2 * g["SIGMA"]
    bias = [abs(f(*args(c), 0.0) - f(*args(c), 1.0)) for c in configs]
    assert max(bias) > 0.01 and all(abs(f(*args(c), 1.0) - value(lp, c, R)["final"]) < 1e-12
                                    for c in configs[:10])


def test_deterministic_for_a_seed_and_different_across_seeds(lp):
    c = random_configs(lp, 1, seed=4)[0]
    assert value(lp, c, 3, seed=7) == value(lp, c, 3, seed=7)
    assert value(lp, c, 3, seed=7)["objective"] != value(lp, c, 3, seed=8)["objective"]
    assert value(lp, c, 3, seed=7)["objective"] != value(lp, c, 9, seed=7)["objective"]
    # without a trial the configuration itself seeds the noise: still reproducible
    with lp.activate():
        assert lp.run({**c, "epochs": 3}) == lp.run({**c, "epochs": 3})


def test_short_hyperband_run_through_the_cli(runner, in_tmp, lp):
    """One whole Hyperband pass with R = 9: brackets (9@1, 3@3, 1@9), (5@3, 1@9), (3@9)."""
    out = runner.invoke(cli, ["run", "-p", lp.name, "--algo", "hyperband", "--max-resource", "9", "--seed", "1",
                              "--run-dir", "r", "--evaluator", "serial"])
    assert out.exit_code == 0, out.output
    assert "evaluations:   22 done, 0 failed, 0 timeout" in out.output
    with open(in_tmp / "r" / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["budget"]) for r in rows] == [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9] + [9] * 3
    assert all(r["status"] == "done" for r in rows)
    # each row's stored exact value is the function at its stored configuration
    with lp.activate():
        for r in rows:
            config = {d.name: d.parse(r[f"p:{d.name}"]) for d in lp.problem.dims}
            assert lp.run(config)["final"] == pytest.approx(float(r["m:final"]))
