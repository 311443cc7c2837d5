"""hps plot draws importance.png and the marginals of the top parameters and pair, per budget for a
multi-fidelity run, and nothing of it for a run with too few evaluations."""
from __future__ import annotations

import json

import numpy as np

from hpsearch.cli import cli
from hpsearch.reporting.plots import plot_run

from .test_importance import cont, mf_run, uniform_configs, write_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plot_adds_importance_and_marginals(tmp_path, runner):
    names = ["x1", "x2", "x3", "x4"]
    X, configs = uniform_configs(names, 200, seed=9)
    y = 3 * X[:, 0] + 2 * X[:, 1] + 8 * (X[:, 1] - 0.5) * (X[:, 2] - 0.5)
    for c, k in zip(configs, np.arange(200) % 3):  # a categorical x4 that plays no part
        c["x4"] = "abc"[k]
    space = {"dims": [cont("x1"), cont("x2"), cont("x3"), {"name": "x4", "kind": "categorical",
                                                            "choices": ["a", "b", "c"]}]}
    run = write_run(tmp_path / "r", space, configs, y)
    out = runner.invoke(cli, ["plot", str(run)])
    assert out.exit_code == 0, out.output
    files = [line.rsplit("/", 1)[1] for line in out.output.splitlines()]
    assert files[-5:] == ["importance.png", "marginal_x1.png", "marginal_x2.png", "marginal_x3.png",
                          "marginal_x2-x3.png"]
    for name in files[-5:]:
        data = (run / "plots" / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 2000


def test_plot_of_a_multi_fidelity_run_and_of_a_run_with_too_few(tmp_path):
    files = [f.name for f in plot_run(mf_run(tmp_path / "mf"))]
    assert "importance.png" in files and "marginal_x1.png" in files and "rungs.png" in files

    X, configs = uniform_configs(["x1", "x2"], 6, seed=7)
    few = write_run(tmp_path / "few", {"dims": [cont("x1"), cont("x2")]}, configs, X[:, 0])
    files = [f.name for f in plot_run(few)]
    assert files == ["best_vs_evaluations.png", "best_vs_resource.png", "param_x1.png", "param_x2.png"]


def test_a_constant_objective_explains_nothing_and_plots_no_marginal(tmp_path, runner):
    X, configs = uniform_configs(["x1", "x2"], 30, seed=3)
    run = write_run(tmp_path / "flat", {"dims": [cont("x1"), cont("x2")]}, configs, np.ones(30))
    files = [f.name for f in plot_run(run)]
    assert files[-1] == "importance.png" and not any(f.startswith("marginal_") for f in files)
    out = runner.invoke(cli, ["importance", str(run), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert [r["share"] for r in json.loads(out.output)] == [0.0, 0.0]
