"""The bundled multi-objective benchmarks: their declared fronts and hypervolumes are right, the categorical
matters, the multi-fidelity variant is zdtshift at the full budget and noisy below, and mnistmlpmo runs for
real on the MNIST subset."""
from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hpsearch.problem import pareto
from hpsearch.problem.loader import load_problem
from tests.conftest import REPO, run_hps


def front_configs(name: str, n: int = 4001):
    """Points of the declared Pareto set: the position variables swept, the rest at the optimum."""
    lp = load_problem(name)
    centre = lp.run.__globals__["CENTRE"]
    best = next(k for k, v in lp.run.__globals__["PENALTY"].items() if v == 0)
    if name == "dtlzshift":
        g = np.linspace(0.0, 1.0, int(math.sqrt(n)))
        pos = [{"x1": a, "x2": b} for a in g for b in g]
        rest = {f"x{i}": c for i, c in zip(range(3, 7), centre)}
    else:
        pos = [{"x1": a} for a in np.linspace(0.0, 1.0, n)]
        rest = {f"x{i}": c for i, c in zip(range(2, 6), centre)}
    return lp, [{**p, **rest, "variant": best} for p in pos]


@pytest.mark.parametrize("name", ["zdtshift", "dtlzshift"])
def test_the_declared_front_and_its_hypervolume(name):
    lp, configs = front_configs(name, n=4001 if name == "zdtshift" else 250 ** 2)
    p = lp.problem
    losses = [p.to_losses(lp.run(c)) for c in configs]
    assert pareto.pareto_mask(losses).all()  # the Pareto set maps onto a front: nothing dominated
    if name == "zdtshift":
        assert all(abs(f2 - (1 - math.sqrt(f1))) < 1e-12 for f1, f2 in losses)
    else:
        assert all(abs(math.hypot(*lo) - 1.0) < 1e-12 for lo in losses)  # the unit sphere
    hv = pareto.hypervolume(losses, p.reference_losses)
    # a dense sample of the front falls short of the whole front's hypervolume by a little
    assert hv == pytest.approx(p.hypervolume_optimum, rel=5e-3) and hv <= p.hypervolume_optimum


@pytest.mark.parametrize("name", ["zdtshift", "dtlzshift"])
def test_the_categorical_and_the_box_bounds_do_not_solve_it(name):
    lp, configs = front_configs(name, n=101)
    p = lp.problem
    choices = p["variant"].values if hasattr(p["variant"], "values") else p["variant"].choices
    def dominated(c, front_point):
        a, b = np.asarray(p.to_losses(lp.run(c))), np.asarray(p.to_losses(lp.run(front_point)))
        return bool(np.all(a >= b) and np.any(a > b))

    for c in configs[::10]:
        assert all(dominated({**c, "variant": other}, c) for other in choices if other != c["variant"])
    # the distance variables at a bound of the box (all 0, or all 1): dominated too
    distance = [k for k in configs[0] if k.startswith("x") and k not in ("x1", "x2")]
    if name == "zdtshift":
        distance.append("x2")
    for c in configs[::10]:
        for bound in (0.0, 1.0):
            assert dominated({**c, **{k: bound for k in distance}}, c)


def test_the_multi_fidelity_variant_is_zdtshift_at_full_budget_and_noisy_below():
    mf, zdt = load_problem("mfzdtshift"), load_problem("zdtshift")
    _, configs = front_configs("zdtshift", n=11)
    for i, c in enumerate(configs):
        full = mf.run({**c, "epochs": 81}, SimpleNamespace(budget=81, seed=i))
        assert full == pytest.approx(zdt.run(c))
    c = configs[5]
    low = [mf.run({**c, "epochs": 1}, SimpleNamespace(budget=1, seed=s))["f2"] for s in range(40)]
    assert np.std(low) > 0.1  # noisy at one epoch
    assert mf.run({**c, "epochs": 1}, SimpleNamespace(budget=1, seed=3)) == \
        mf.run({**c, "epochs": 1}, SimpleNamespace(budget=1, seed=3))  # reproducible
    assert mf.problem.resource.name == "epochs" and mf.problem.objectives == zdt.problem.objectives


def test_mnistmlpmo_counts_the_parameters_of_mnistmlps_network():
    lp = load_problem("mnistmlpmo", with_run=False)
    assert lp.problem.objectives == {"val_accuracy": "maximize", "n_params": "minimize"}
    assert [d.to_dict() for d in lp.problem.dims] == [d.to_dict() for d in load_problem(
        "mnistmlp", with_run=False).problem.dims]
    source = (REPO / "benchmarks" / "mnistmlpmo" / "model_run.py").read_text()
    namespace: dict = {}
    exec(source.split("def run(")[0].split("_train = run")[1], namespace)  # n_params only
    assert namespace["n_params"]({"units1": 1024, "units2": 1024}) == 1_863_690
    assert namespace["n_params"]({"units1": 16, "units2": 16}) < lp.problem.reference_point["n_params"]


@pytest.mark.slow
def test_mnistmlpmo_runs_for_real_on_the_mnist_subset(tmp_path):
    pytest.importorskip("tensorflow")
    data = Path(os.environ.get("HPS_DATA_DIR") or REPO.parent / "shared" / "data")
    if not (data / "mnist.npz").is_file():
        pytest.skip(f"no {data / 'mnist.npz'}")
    run_dir = tmp_path / "run"
    proc = run_hps("run", "--problem", "mnistmlpmo", "--algo", "random", "--max-evals", "3", "--seed", "1",
                   "--evaluator", "serial", "--fix", "epochs=1", "--run-dir", run_dir,
                   env={"HPS_MNIST_SUBSET": "1000,200", "HPS_THREADS": "1", "HPS_DATA_DIR": str(data)},
                   timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Pareto front:" in proc.stdout
    with open(run_dir / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["done"] * 3
    for r in rows:
        assert 0 < float(r["m:val_accuracy"]) <= 1
        u1, u2 = int(r["p:units1"]), int(r["p:units2"])
        assert int(float(r["m:n_params"])) == 785 * u1 + (u1 + 1) * u2 + 10 * (u2 + 1)
    assert any(r["pareto"] == "True" for r in rows)
