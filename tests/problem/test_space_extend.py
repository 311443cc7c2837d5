"""HpProblem.add_dims_from: a folder that reuses another folder's search space (another objective on the
same model) copies every dimension, condition, forbidden combination and starting point, and loading
the other folder from its problem.py keeps each folder's sibling modules apart."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hpsearch import HpProblem, SpaceError, load_problem


def base_problem() -> HpProblem:
    p = HpProblem(objective="acc", direction="maximize")
    p.add_dim("epochs", (1, 27), default=3, resource=True)
    p.add_dim("lr", (1e-4, 1e-1, "log-uniform"), default=1e-3)
    p.add_dim("opt", ["adam", "sgd"], default="adam")
    p.add_dim("momentum", (0.0, 0.99), default=0.9, when={"opt": "sgd"})
    p.add_dim("width", [64, 128, 256], default=128)
    p.add_forbidden(opt="sgd", width=256)
    p.add_starting_point(opt="sgd", momentum=0.5, width=64)
    return p


def test_every_dimension_condition_forbidden_and_starting_point_is_copied():
    base = base_problem()
    mo = HpProblem(objectives={"acc": "maximize", "size": "minimize"})
    mo.add_dims_from(base)
    b, m = base.to_dict(), mo.to_dict()
    assert m["dims"] == b["dims"] and m["forbidden"] == b["forbidden"]
    assert mo.starting_points == base.starting_points
    assert mo.starting_points[1] == {"epochs": 3, "lr": 1e-3, "opt": "sgd", "momentum": 0.5, "width": 64}
    rng = np.random.default_rng(0)
    draws = [mo.sample(rng) for _ in range(300)]
    assert not any(d["opt"] == "sgd" and d["width"] == 256 for d in draws)  # the forbidden pair holds
    assert all(("momentum" in d) == (d["opt"] == "sgd") for d in draws)  # the condition holds
    assert mo.resource.name == "epochs" and mo.multi_objective


def test_the_copy_is_its_own_and_may_be_extended():
    base = base_problem()
    names = list(base.names)
    before = json.dumps(base.to_dict(), sort_keys=True)
    child = HpProblem(objective="acc")
    child.add_dims_from(base)
    child.add_dim("dropout", (0.0, 0.5), default=0.1)
    child.dims[1].default = 0.01  # changing the copy leaves the original alone
    assert child.names == names + ["dropout"]
    assert base.names == names and json.dumps(base.to_dict(), sort_keys=True) == before
    with pytest.raises(SpaceError, match="dimension 'epochs': declared twice .*: add_dims_from copies it"):
        child.add_dims_from(base)
    assert child.names == names + ["dropout"]  # nothing was added


def test_a_folder_that_loads_another_folders_space(make_problem, tmp_path):
    make_problem("base", problem="""
        from hpsearch import HpProblem
        import consts
        Problem = HpProblem(objective="acc")
        Problem.add_dim("units", (16, consts.MAX_UNITS, "log-uniform"), default=64)
        Problem.add_dim("epochs", (1, 9), default=3, resource=True)
    """, model_run="def run(config):\n    return 0.5\n", consts="MAX_UNITS = 1024\n")
    child = make_problem("child", problem="""
        from pathlib import Path
        from hpsearch import HpProblem, load_problem
        import consts
        Problem = HpProblem(objectives={"acc": "maximize", "size": "minimize"})
        Problem.add_dims_from(load_problem(Path(__file__).parent.parent / "base", with_run=False).problem)
        Problem.add_dim("layers", (1, consts.MAX_LAYERS), default=2)
    """, model_run="import consts\ndef run(config):\n    return {'acc': 0.5, 'size': consts.MAX_LAYERS}\n",
        consts="MAX_LAYERS = 4\n")
    lp = load_problem(child)
    assert lp.problem.names == ["units", "epochs", "layers"]
    assert lp.problem.to_dict()["dims"][0]["high"] == 1024 and lp.problem.to_dict()["dims"][2]["high"] == 4
    with lp.activate():
        assert lp.run({"units": 64, "epochs": 3, "layers": 2}) == {"acc": 0.5, "size": 4}


def test_bundled_variants_declare_the_same_space_as_the_folder_they_extend():
    mnist, mo = load_problem("mnistmlp", with_run=False).problem, load_problem("mnistmlpmo", with_run=False).problem
    assert mo.to_dict()["dims"] == mnist.to_dict()["dims"] and mo.multi_objective
    zdt, mf = load_problem("zdtshift", with_run=False).problem, load_problem("mfzdtshift", with_run=False).problem
    assert mf.to_dict()["dims"][:-1] == zdt.to_dict()["dims"] and mf.resource.name == "epochs"
