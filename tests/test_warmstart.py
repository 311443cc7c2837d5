"""hpsearch.warmstart with a tiny Keras model: a warm-started run equals an uninterrupted one."""
from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest

from hpsearch import warmstart
from hpsearch.trial import Trial, TrialSpec
from tests.conftest import hps_env

keras = pytest.importorskip("keras")


def make_trial(root, budget, previous=0, config_id=7, trial_id=1):
    return Trial(TrialSpec(trial_id=trial_id, config_id=config_id, config={}, budget=budget,
                           previous_budget=previous, seed=0,
                           checkpoint_root=None if root is None else str(root)))


def build(units=8):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(units, activation="tanh"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32") + 0.1)[:, None]
    return x, y


def train(trial, data, epochs=None):
    model, initial = warmstart.restore(trial, build)
    history = warmstart.fit(model, trial, *data, epochs=epochs, batch_size=64, shuffle=False, verbose=0)
    return model, initial, history


@pytest.mark.slow
def test_two_rungs_equal_one_uninterrupted_run(tmp_path, data):
    straight, _, _ = train(make_trial(tmp_path / "a", 3), data)

    _, initial0, h0 = train(make_trial(tmp_path / "b", 1), data)
    resumed, initial1, h1 = train(make_trial(tmp_path / "b", 3, previous=1), data)

    assert (initial0, h0.epoch) == (0, [0])
    assert (initial1, h1.epoch) == (1, [1, 2])  # the epoch counter continues
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    assert int(resumed.optimizer.iterations.numpy()) == 3


@pytest.mark.slow
def test_optimizer_state_matters(tmp_path, data):
    """Restoring the weights alone would not give the uninterrupted result: Adam's moments count."""
    straight, _, _ = train(make_trial(tmp_path / "a", 3), data)
    first, _, _ = train(make_trial(tmp_path / "b", 1), data)
    weights_only = build()
    for v, w in zip(weights_only.weights, first.weights):
        v.assign(w.numpy())
    weights_only.fit(*data, initial_epoch=1, epochs=3, batch_size=64, shuffle=False, verbose=0)
    diff = max(float(np.abs(a.numpy() - b.numpy()).max())
               for a, b in zip(straight.weights, weights_only.weights))
    assert diff > 1e-3


@pytest.mark.slow
def test_restored_model_has_the_saved_loss(tmp_path, data):
    model, _, _ = train(make_trial(tmp_path, 20), data)
    restored, initial = warmstart.restore(make_trial(tmp_path, 25, previous=20), build)
    assert initial == 20
    assert restored.evaluate(*data, verbose=0) == pytest.approx(model.evaluate(*data, verbose=0), rel=1e-6)
    assert build().evaluate(*data, verbose=0) > 2 * model.evaluate(*data, verbose=0)


@pytest.mark.slow
def test_checkpoint_is_named_by_budget_and_old_ones_pruned(tmp_path, data):
    train(make_trial(tmp_path, 1), data)
    folder = make_trial(tmp_path, 1).checkpoint_dir
    assert sorted(warmstart.find_checkpoints(folder)) == [1]
    train(make_trial(tmp_path, 3, previous=1), data)
    assert sorted(warmstart.find_checkpoints(folder)) == [1, 3]  # rung 1 may be re-run: keep epoch 1
    train(make_trial(tmp_path, 9, previous=3), data)
    assert sorted(warmstart.find_checkpoints(folder)) == [3, 9]
    assert [p.name for p in folder.iterdir() if not p.name.startswith("warmstart-")] == []


def test_stale_checkpoint_is_not_used(tmp_path, data, caplog):
    train(make_trial(tmp_path, 1), data)
    with caplog.at_level(logging.WARNING, logger="hpsearch.warmstart"):
        model, initial, history = train(make_trial(tmp_path, 3, previous=2), data)
    assert initial == 0 and history.epoch == [0, 1, 2]
    assert "no checkpoint for epoch 2" in caplog.text and "training from scratch for 3 epochs" in caplog.text
    assert int(model.optimizer.iterations.numpy()) == 3


def test_checkpoint_of_another_model_falls_back(tmp_path, data, caplog):
    train(make_trial(tmp_path, 1), data)
    with caplog.at_level(logging.WARNING, logger="hpsearch.warmstart"):
        model, initial = warmstart.restore(make_trial(tmp_path, 3, previous=1), lambda: build(units=16))
    assert initial == 0
    assert "shape" in caplog.text and "training from scratch" in caplog.text


def test_corrupt_checkpoint_falls_back(tmp_path, data, caplog):
    trial = make_trial(tmp_path, 3, previous=1)
    warmstart.checkpoint_path(trial.checkpoint_dir, 1).write_bytes(b"not a zip")
    with caplog.at_level(logging.WARNING, logger="hpsearch.warmstart"):
        _, initial, history = train(trial, data)
    assert initial == 0 and history.epoch == [0, 1, 2]
    assert "cannot read warmstart-1.npz" in caplog.text


def test_failed_save_leaves_no_checkpoint(tmp_path, data, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        train(make_trial(tmp_path, 1), data)
    assert list(make_trial(tmp_path, 1).checkpoint_dir.iterdir()) == []


def test_without_trial_it_just_trains(data):
    model, initial = warmstart.restore(None, build)
    history = warmstart.fit(model, None, *data, epochs=2, verbose=0)
    assert initial == 0 and history.epoch == [0, 1]
    with pytest.raises(ValueError, match="pass epochs="):
        warmstart.fit(model, None, *data, verbose=0)


def test_trial_without_run_directory_trains_from_scratch(data, caplog):
    with caplog.at_level(logging.WARNING, logger="hpsearch.warmstart"):
        _, initial, history = train(make_trial(None, 2, previous=1), data)
    assert initial == 0 and history.epoch == [0, 1]
    assert "no checkpoint directory" in caplog.text


def test_hpsearch_does_not_import_tensorflow():
    code = ("import sys, hpsearch, hpsearch.warmstart, hpsearch.cli; "
            "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    proc = subprocess.run([sys.executable, "-c", code], env=hps_env(), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_fit_stops_after_the_epoch_in_which_the_trial_was_told_to_stop(tmp_path, data):
    decisions = iter([False, True, True, True])
    trial = Trial(TrialSpec(trial_id=1, config_id=7, config={}, budget=6, seed=0,
                            checkpoint_root=str(tmp_path)), reporter=lambda rep: next(decisions))

    class Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            trial.report(epoch + 1, loss=float(logs["loss"]))

    model, _ = warmstart.restore(trial, build)
    history = warmstart.fit(model, trial, *data, batch_size=64, shuffle=False, verbose=0, callbacks=[Report()])
    assert history.epoch == [0, 1] and trial.should_stop  # told at epoch 2's report: trained 2 of 6
    assert sorted(warmstart.find_checkpoints(tmp_path / "config-7")) == [2]  # named by what it holds
