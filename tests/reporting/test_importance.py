"""hps importance: on functions whose variance decomposition is known in closed form, the ranking is
exact and every share within TOL of the truth; multi-fidelity runs give a block per budget; too few
evaluations say so in one line."""
from __future__ import annotations

import json
from types import SimpleNamespace as Sub

import numpy as np
import pytest

from hpsearch.cli import cli
from hpsearch.reporting.importance import NotEnoughEvaluations, importance, importance_of
from hpsearch.store import RunStore
from hpsearch.trial import TrialResult

#: How far an estimated share may be from the closed form (absolute, on 1,000 evaluations).
TOL = 0.03
N = 1000


def cont(name, low=0.0, high=1.0, prior="uniform", **extra):
    return {"name": name, "kind": "continuous", "low": low, "high": high, "prior": prior, **extra}


def uniform_configs(names, n, seed):
    X = np.random.default_rng(seed).random((n, len(names)))
    return X, [dict(zip(names, map(float, x))) for x in X]


def write_run(run_dir, space, configs, objectives, budgets=None):
    """A finished run written through the store: one evaluation per configuration, all done."""
    names = [d["name"] for d in space["dims"]]
    mf = budgets is not None
    settings = {"problem_name": "t", "algo": "hyperband" if mf else "random", "space": space,
                "multi_fidelity": mf}
    store = RunStore.create(run_dir, settings, names)
    n = len(configs)
    store.add_trials(list(range(n)), [
        Sub(config=c, config_id=i, budget=budgets[i] if mf else None, previous_budget=None,
            bracket=0 if mf else None, rung=0 if mf else None, info={}) for i, c in enumerate(configs)],
        ask_seq=0, ask_n=n)
    for i, y in enumerate(objectives):
        store.finish_trial(TrialResult(i, "done", objective=float(y), duration_s=0.0), tell_seq=i + 1)
    store.close()
    return run_dir


def test_additive_function_shares_and_a_parameter_that_never_matters():
    # f = 3 x1 + 2 x2 + x3 (x4 plays no part): shares 9/14, 4/14, 1/14, 0.
    names = ["x1", "x2", "x3", "x4"]
    X, configs = uniform_configs(names, N, seed=0)
    imp = importance_of({"dims": [cont(n) for n in names]}, configs, X @ [3, 2, 1, 0])
    assert imp.ranking == ("x1", "x2", "x3", "x4")
    truth = {"x1": 9 / 14, "x2": 4 / 14, "x3": 1 / 14, "x4": 0.0}
    for n in names:
        assert abs(imp.shares[n] - truth[n]) < TOL, (n, imp.shares[n], truth[n])
    assert imp.shares["x4"] < 0.005
    assert imp.n_evaluations == N and imp.n_trees == 32


def test_an_interaction_is_a_pair_share_not_a_main_effect():
    # f = 2 x1 + x2 + 4 (x1 - 1/2)(x2 - 1/2): variance 4/12 + 1/12 + 16/144 = 19/36, so the mains
    # explain 12/19 and 3/19 and the pair 4/19; x3 plays no part.
    names = ["x1", "x2", "x3"]
    X, configs = uniform_configs(names, N, seed=1)
    y = 2 * X[:, 0] + X[:, 1] + 4 * (X[:, 0] - 0.5) * (X[:, 1] - 0.5)
    imp = importance_of({"dims": [cont(n) for n in names]}, configs, y, pairs=True)
    assert imp.ranking == ("x1", "x2", "x3")
    for n, truth in (("x1", 12 / 19), ("x2", 3 / 19), ("x3", 0.0)):
        assert abs(imp.shares[n] - truth) < TOL, (n, imp.shares[n], truth)
    assert imp.pair_ranking[0] == ("x1", "x2")
    assert abs(imp.pairs[("x1", "x2")] - 4 / 19) < TOL
    assert imp.pairs[("x1", "x3")] < 0.01 and imp.pairs[("x2", "x3")] < 0.01


def test_each_kind_of_dimension_in_its_own_scale():
    # A log-uniform rate (its term linear in log10), an integer range, a categorical and an
    # ordered list: each variance is taken on the dimension's own scale, its values equally likely.
    rng = np.random.default_rng(2)
    u, n, act, b = rng.random(N), rng.integers(1, 11, N), rng.integers(0, 4, N), rng.integers(0, 4, N)
    space = {"dims": [cont("lr", 1e-4, 1.0, "log-uniform"),
                      {"name": "n", "kind": "ordinal", "low": 1, "high": 10, "prior": "uniform"},
                      {"name": "act", "kind": "categorical", "choices": ["a", "b", "c", "d"]},
                      {"name": "batch", "kind": "ordinal", "values": [16, 32, 64, 128]}]}
    configs = [{"lr": float(10 ** (4 * u[i] - 4)), "n": int(n[i]), "act": "abcd"[act[i]],
                "batch": [16, 32, 64, 128][b[i]]} for i in range(N)]
    y = 4 * u + 0.2 * n + np.array([0.0, 1.0, 0.0, 2.0])[act] + 0.3 * b
    parts = {"lr": 16 / 12, "n": 0.04 * 99 / 12, "act": 0.6875, "batch": 0.09 * 1.25}
    total = sum(parts.values())
    imp = importance_of(space, configs, y)
    assert imp.ranking == ("lr", "act", "n", "batch")
    for name, v in parts.items():
        assert abs(imp.shares[name] - v / total) < TOL, (name, imp.shares[name], v / total)
    m = imp.marginal("act")
    assert m.values == (["a", "b", "c", "d"],) and m.categorical == (True,)
    assert np.argmax(m.mean) == 3 and abs((m.mean[3] - m.mean[0]) - 2.0) < 0.2
    lr = imp.marginal("lr")
    assert lr.log_scale == (True,) and lr.values[0][0] == pytest.approx(1e-4)
    assert lr.mean[-1] - lr.mean[0] == pytest.approx(4.0, abs=0.4)  # 4 u across the log range


def test_conditional_space_inactive_is_not_a_level():
    # branch a: 6 x_a; branch b: 1 + 2 x_b; plus 2.5 z. On the product measure (x_a counts only under
    # a, x_b only under b): branch 1/4, x_a 3/4, x_b 1/12, z 6.25/12, the pairs (branch, x_a) 3/4 and
    # (branch, x_b) 1/12, out of 2.4375.
    rng = np.random.default_rng(4)
    space = {"dims": [{"name": "branch", "kind": "categorical", "choices": ["a", "b"]},
                      cont("x_a", when={"branch": ["a"]}), cont("x_b", when={"branch": ["b"]}), cont("z")]}
    br, xa, xb, z = rng.integers(0, 2, N), rng.random(N), rng.random(N), rng.random(N)
    configs = [({"branch": "a", "x_a": float(xa[i])} if br[i] == 0 else {"branch": "b", "x_b": float(xb[i])})
               | {"z": float(z[i])} for i in range(N)]
    y = np.where(br == 0, 6 * xa, 1 + 2 * xb) + 2.5 * z
    imp = importance_of(space, configs, y, pairs=True)
    total = 2.4375
    assert imp.ranking == ("x_a", "z", "branch", "x_b")
    for name, v in (("x_a", 0.75), ("z", 6.25 / 12), ("branch", 0.25), ("x_b", 1 / 12)):
        assert abs(imp.shares[name] - v / total) < TOL, (name, imp.shares[name], v / total)
    assert abs(imp.pairs[("branch", "x_a")] - 0.75 / total) < TOL
    assert imp.pairs[("x_a", "x_b")] < 0.005  # never active together
    m = imp.marginal("x_a")  # where x_a is active: 6 x_a + 2.5 E[z]
    assert m.active_share == pytest.approx(0.5)
    assert m.mean[0] == pytest.approx(1.25, abs=0.4) and m.mean[-1] == pytest.approx(7.25, abs=0.4)


def test_fixed_and_single_valued_dimensions_are_left_out():
    X, configs = uniform_configs(["x1", "x2"], 200, seed=5)
    for c in configs:
        c.update(k=3, mode="on")
    space = {"dims": [cont("x1"), cont("x2"), {"name": "k", "kind": "ordinal", "low": 1, "high": 5},
                      {"name": "mode", "kind": "categorical", "choices": ["on"]}], "fixed": {"k": 3}}
    imp = importance_of(space, configs, X[:, 0])
    assert set(imp.ranking) == {"x1", "x2"} and imp.ranking[0] == "x1"


def mf_run(run_dir):
    """Budget 1: only x2 matters; budget 9: mostly x1; budget 27: too few evaluations (3)."""
    rng = np.random.default_rng(6)
    space = {"direction": "maximize", "dims": [cont("x1"), cont("x2"),
                                               {"name": "epochs", "kind": "ordinal", "low": 1, "high": 27,
                                                "resource": True}]}
    configs, ys, budgets = [], [], []
    for budget, n in ((1, 60), (9, 40), (27, 3)):
        for x1, x2 in rng.random((n, 2)):
            configs.append({"x1": float(x1), "x2": float(x2), "epochs": budget})
            ys.append(x2 if budget == 1 else 3 * x1 + 0.5 * x2)
            budgets.append(budget)
    return write_run(run_dir, space, configs, ys, budgets)


def test_multi_fidelity_runs_give_a_block_per_budget(tmp_path, runner):
    run = mf_run(tmp_path / "mf")
    default = importance(run)
    assert default.budget == 9 and default.n_evaluations == 40 and default.ranking[0] == "x1"
    assert "epochs" not in default.shares  # the resource is what the budgets vary
    assert importance(run, budget=1).ranking[0] == "x2"

    out = runner.invoke(cli, ["importance", str(run), "--budget", "all", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert [(r["budget"], r["rank"], r["parameter"]) for r in rows] == [
        (9, 1, "x1"), (9, 2, "x2"), (1, 1, "x2"), (1, 2, "x1")]
    assert {r["budget"]: r["evaluations"] for r in rows} == {9: 40, 1: 60}

    out = runner.invoke(cli, ["importance", str(run)])  # the table: the largest budget with enough
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split() == ["budget", "rank", "parameter", "share", "evaluations"]
    assert lines[2].split()[:3] == ["9", "1", "x1"] and len(lines) == 6
    assert lines[-1].startswith("40 successful evaluations at budget 9: the hyperparameters alone explain")

    out = runner.invoke(cli, ["importance", str(run), "--budget", "27"])
    assert out.exit_code == 1
    assert out.output.strip() == (f"Error: {run}: importance needs at least 10 successful evaluations at "
                                  "budget 27 (2 per dimension, at least 10), got 3")
    out = runner.invoke(cli, ["importance", str(run), "--budget", "5"])
    assert out.exit_code == 2
    assert out.output.strip() == (f"Error: {run}: --budget 5: no successful evaluation at that budget "
                                  "(budgets: 1, 9, 27)")


def test_too_few_evaluations_say_so_in_one_line(tmp_path, runner):
    space = {"dims": [cont("x1"), cont("x2")]}
    X, configs = uniform_configs(["x1", "x2"], 6, seed=7)
    run = write_run(tmp_path / "few", space, configs, X[:, 0])
    out = runner.invoke(cli, ["importance", str(run)])
    assert out.exit_code == 1
    assert out.output.strip() == (f"Error: {run}: importance needs at least 10 successful evaluations "
                                  "(2 per dimension, at least 10), got 6")
    with pytest.raises(NotEnoughEvaluations, match="needs at least 10 .* got 6"):
        importance(run)
    out = runner.invoke(cli, ["importance", str(tmp_path / "nowhere")])
    assert out.exit_code == 2 and "not a run directory" in out.output


def test_cli_formats_pairs_and_spread(tmp_path, runner):
    names = ["x1", "x2", "x3"]
    X, configs = uniform_configs(names, 300, seed=8)
    y = 2 * X[:, 0] + X[:, 1] + 4 * (X[:, 0] - 0.5) * (X[:, 1] - 0.5)
    run = write_run(tmp_path / "r", {"dims": [cont(n) for n in names]}, configs, y)

    out = runner.invoke(cli, ["importance", str(run), "--format", "csv", "--confidence", "--pairs", "--top", "2"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "rank,parameter,share,spread,evaluations"
    assert [line.split(",")[:2] for line in lines[1:]] == [["1", "x1"], ["2", "x2"], ["1", "x1:x2"], ["2", "x1:x3"]]
    share, spread = map(float, lines[1].split(",")[2:4])
    assert 0.5 < share < 0.75 and 0 < spread < 0.1

    out = runner.invoke(cli, ["importance", str(run)])
    assert out.exit_code == 0, out.output
    assert [line.split()[:2] for line in out.output.splitlines()[2:5]] == [["1", "x1"], ["2", "x2"], ["3", "x3"]]
    assert "300 successful evaluations: the hyperparameters alone explain" in out.output

    # The same seed gives the same shares.
    a = runner.invoke(cli, ["importance", str(run), "--format", "json"]).output
    assert a == runner.invoke(cli, ["importance", str(run), "--format", "json"]).output


def write_mo_run(run_dir, n=300, seed=11):
    """acc (maximised) depends on x1 only, size (minimised) on x2 only; x3 on neither. Every 10th
    evaluation returned no size (a missing metric counts for acc only)."""
    names = ["x1", "x2", "x3"]
    X, configs = uniform_configs(names, n, seed=seed)
    space = {"objectives": {"acc": "maximize", "size": "minimize"}, "dims": [cont(m) for m in names]}
    store = RunStore.create(run_dir, {"problem_name": "t", "algo": "random", "space": space}, names)
    store.add_trials(list(range(n)), [
        Sub(config=c, config_id=i, budget=None, previous_budget=None, bracket=None, rung=None, info={})
        for i, c in enumerate(configs)], ask_seq=0, ask_n=n)
    for i, x in enumerate(X):
        metrics = {} if i % 10 == 0 else {"size": float(3 * x[1])}
        store.finish_trial(TrialResult(i, "done", objective=float(x[0]), metrics=metrics, duration_s=0.0),
                           tell_seq=i + 1)
    store.close()
    return run_dir


def test_a_multi_objective_run_is_analysed_one_objective_at_a_time(tmp_path, runner):
    run = write_mo_run(tmp_path / "mo")
    assert importance(run).ranking[0] == "x1"  # the first objective by default
    size = importance(run, objective="size")
    assert size.ranking[0] == "x2" and size.objective == "size" and size.n_evaluations == 270
    assert size.shares["x2"] > 0.9

    out = runner.invoke(cli, ["importance", str(run), "--format", "json"])  # every objective
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert [r["objective"] for r in rows] == ["acc"] * 3 + ["size"] * 3  # declared order, a block each
    assert [(r["objective"], r["parameter"]) for r in rows if r["rank"] == 1] == [("acc", "x1"), ("size", "x2")]
    assert {r["objective"]: r["evaluations"] for r in rows} == {"acc": 300, "size": 270}

    out = runner.invoke(cli, ["importance", str(run), "--objective", "size", "--top", "1"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split() == ["objective", "rank", "parameter", "share", "evaluations"]
    assert lines[2].split()[:3] == ["size", "1", "x2"]
    assert "of the variance of size" in lines[-1]

    out = runner.invoke(cli, ["importance", str(run), "--objective", "latency"])
    assert out.exit_code == 2
    assert out.output.strip() == (f"Error: {run}: --objective: expected one of acc, size or all, "
                                  "got 'latency'")


def test_plot_draws_the_importance_of_each_objective(tmp_path):
    from hpsearch.reporting.plots import plot_run

    run = write_mo_run(tmp_path / "mo", n=60)
    names = {p.name for p in plot_run(run)}
    assert {"importance_acc.png", "importance_size.png", "marginal_acc_x1.png",
            "marginal_size_x2.png"} <= names
    assert "importance.png" not in names


def test_an_objective_with_too_few_values_is_left_out_of_all_and_named_alone(tmp_path, runner):
    run = write_mo_run(tmp_path / "mo", n=40)  # 36 evaluations with a size: enough (10) for each
    names = ["x1", "x2", "x3"]
    X, configs = uniform_configs(names, 12, seed=3)
    space = {"objectives": {"acc": "maximize", "size": "minimize"}, "dims": [cont(m) for m in names]}
    store = RunStore.create(tmp_path / "few", {"problem_name": "t", "algo": "random", "space": space}, names)
    store.add_trials(list(range(12)), [
        Sub(config=c, config_id=i, budget=None, previous_budget=None, bracket=None, rung=None, info={})
        for i, c in enumerate(configs)], ask_seq=0, ask_n=12)
    for i, x in enumerate(X):  # size returned by 4 evaluations only
        store.finish_trial(TrialResult(i, "done", objective=float(x[0]),
                                       metrics={"size": 1.0 + i} if i < 4 else {}, duration_s=0.0),
                           tell_seq=i + 1)
    store.close()
    out = runner.invoke(cli, ["importance", str(tmp_path / "few"), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert {r["objective"] for r in json.loads(out.output)} == {"acc"}
    out = runner.invoke(cli, ["importance", str(tmp_path / "few"), "--objective", "size"])
    assert out.exit_code == 1
    assert out.output.strip() == (f"Error: {tmp_path / 'few'}: size: importance needs at least 10 "
                                  "successful evaluations (2 per dimension, at least 10), got 4")
    assert runner.invoke(cli, ["importance", str(run)]).exit_code == 0
