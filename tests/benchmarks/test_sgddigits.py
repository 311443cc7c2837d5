"""The sgddigits learning-curve benchmark: real training on scikit-learn's digits, exact warm start."""
from __future__ import annotations

import csv
import pickle
import warnings

import numpy as np
import pytest

from hpsearch.cli import cli
from hpsearch.problem.loader import load_problem
from hpsearch.trial import TrialSpec, execute_trial


@pytest.fixture(scope="module")
def lp():
    return load_problem("sgddigits")


def evaluate(lp, root, budget, previous=0, seed=3, config_id=1, **config):
    cfg = {**lp.problem.defaults, **config, "epochs": budget}
    spec = TrialSpec(trial_id=1, config_id=config_id, config=cfg, budget=budget, previous_budget=previous,
                     seed=seed, checkpoint_root=str(root), objective="val_accuracy")
    with lp.activate():
        result = execute_trial(lp.run, lp.accepts_trial, spec)
    assert result.status == "done", result.error
    return result


def model_at(root, budget, config_id=1):
    with open(root / f"config-{config_id}" / f"sgd-{budget}.pkl", "rb") as f:
        return pickle.load(f)


def test_hps_show(runner):
    out = runner.invoke(cli, ["show", "sgddigits"])
    assert out.exit_code == 0, out.output
    assert "objective: val_accuracy (maximize)" in out.output and "resource:  epochs" in out.output
    assert any(line.split()[:4] == ["epochs", "*", "ordinal", "[1,"] and "27]" in line
               for line in out.output.splitlines())


def test_splits_are_disjoint_and_come_from_the_shipped_data(lp):
    with lp.activate():
        x_tr, y_tr, x_val, y_val, x_test, y_test = lp.run.__globals__["data"]()
    assert (len(y_tr), len(y_val), len(y_test)) == (1010, 337, 450)  # 1,797 digits in all
    rows = {r.tobytes() for r in x_tr}
    assert not any(r.tobytes() in rows for r in x_val) and not any(r.tobytes() in rows for r in x_test)
    assert abs(x_tr.mean()) < 1e-9  # standardised with the training statistics only


def test_it_learns_and_reports_every_epoch(lp, tmp_path):
    r = evaluate(lp, tmp_path, 9)
    assert r.objective > 0.9 and r.metrics["test_accuracy"] > 0.85  # chance is 0.1
    assert r.metrics["epochs_trained"] == 9
    assert [rep["step"] for rep in r.reports] == list(range(1, 10))
    assert r.reports[-1]["val_accuracy"] == r.objective


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "modified_huber"])
def test_warm_start_gives_the_model_trained_straight_through(lp, tmp_path, loss):
    """1 -> 3 -> 9 epochs from checkpoints equals 9 epochs at once, bit for bit: the shuffle of an
    epoch depends only on (seed, epoch) and the step counter t_ lives in the pickled model."""
    cfg = {"loss": loss, "learning_rate": "invscaling", "penalty": "elasticnet"}
    straight = evaluate(lp, tmp_path / "a", 9, **cfg)
    evaluate(lp, tmp_path / "b", 1, **cfg)
    evaluate(lp, tmp_path / "b", 3, previous=1, **cfg)
    resumed = evaluate(lp, tmp_path / "b", 9, previous=3, **cfg)
    assert resumed.metrics["epochs_trained"] == 6
    assert [rep["step"] for rep in resumed.reports] == [4, 5, 6, 7, 8, 9]
    assert resumed.objective == straight.objective
    assert resumed.metrics["test_accuracy"] == straight.metrics["test_accuracy"]
    a, b = model_at(tmp_path / "a", 9), model_at(tmp_path / "b", 9)
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
    assert a.t_ == b.t_


def test_missing_checkpoint_trains_from_scratch_with_a_warning(lp, tmp_path):
    straight = evaluate(lp, tmp_path / "a", 5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = evaluate(lp, tmp_path / "b", 5, previous=3)
    assert any("no checkpoint, training from scratch" in str(w.message) for w in caught)
    assert resumed.metrics["epochs_trained"] == 5 and resumed.objective == straight.objective


def test_deterministic_for_a_seed_and_the_seed_matters(lp, tmp_path):
    one = evaluate(lp, tmp_path / "a", 4, seed=5)
    two = evaluate(lp, tmp_path / "b", 4, seed=5)
    evaluate(lp, tmp_path / "c", 4, seed=6)
    assert one.reports == two.reports
    assert np.array_equal(model_at(tmp_path / "a", 4).coef_, model_at(tmp_path / "b", 4).coef_)
    assert not np.array_equal(model_at(tmp_path / "a", 4).coef_, model_at(tmp_path / "c", 4).coef_)


@pytest.mark.slow
def test_short_hyperband_run_through_the_cli(runner, in_tmp):
    """One whole Hyperband pass with R = 9 and warm start: promoted configurations train only the rest."""
    out = runner.invoke(cli, ["run", "-p", "sgddigits", "--algo", "hyperband", "--max-resource", "9",
                              "--seed", "1", "--run-dir", "r", "--evaluator", "serial"])
    assert out.exit_code == 0, out.output
    assert "evaluations:   22 done, 0 failed, 0 timeout" in out.output
    with open(in_tmp / "r" / "results.csv") as f:
        rows = list(csv.DictReader(f))
    trained = [int(r["m:epochs_trained"]) for r in rows]
    budgets = [int(r["budget"]) for r in rows]
    assert budgets == [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9] + [9] * 3
    # bracket 0's promotions train 2 then 6 more epochs; bracket 1's from 3 to 9: 6 more
    assert trained == [1] * 9 + [2] * 3 + [6] + [3] * 5 + [6] + [9] * 3
    assert all(0.0 <= float(r["objective"]) <= 1.0 for r in rows)
