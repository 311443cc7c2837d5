"""The mnistmlp benchmark with real TensorFlow on a small MNIST subset (HPS_MNIST_SUBSET)."""
from __future__ import annotations

import csv
import logging
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hpsearch.cli import cli
from hpsearch.problem.loader import ProblemLoadError, load_problem
from hpsearch.trial import TrialSpec, execute_trial
from tests.conftest import REPO, hps_env, run_hps

pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

DATA_DIR = Path(os.environ.get("HPS_DATA_DIR") or REPO.parent / "shared" / "data")
SUBSET = "3000,600"


@pytest.fixture
def mnist_env(monkeypatch):
    if not (DATA_DIR / "mnist.npz").is_file():
        pytest.skip(f"no {DATA_DIR / 'mnist.npz'}")
    monkeypatch.setenv("HPS_DATA_DIR", str(DATA_DIR))
    monkeypatch.setenv("HPS_MNIST_SUBSET", SUBSET)
    monkeypatch.setenv("HPS_THREADS", "1")


@pytest.fixture
def mnist(mnist_env):
    return load_problem("mnistmlp")


def evaluate(lp, root, budget, previous=0, trial_id=1, config_id=1, **config):
    cfg = {**lp.problem.defaults, "epochs": budget, **config}
    spec = TrialSpec(trial_id=trial_id, config_id=config_id, config=cfg, budget=budget,
                     previous_budget=previous, seed=11, checkpoint_root=str(root), objective="val_accuracy")
    with lp.activate():
        result = execute_trial(lp.run, lp.accepts_trial, spec)
    assert result.status == "done", result.error
    return result


@pytest.mark.slow
def test_one_evaluation_returns_sane_metrics(mnist, tmp_path):
    r = evaluate(mnist, tmp_path, budget=1)
    assert 0.5 < r.objective <= 1.0  # 1 epoch on 3000 images: far above chance (0.1)
    assert math.isfinite(r.metrics["val_loss"]) and 0 < r.metrics["val_loss"] < 2.3  # ln(10) is chance
    assert r.metrics["epochs_trained"] == 1
    assert [rep["step"] for rep in r.reports] == [1]
    assert r.reports[0]["val_accuracy"] == pytest.approx(r.objective)


@pytest.mark.slow
def test_second_rung_continues_from_the_first(mnist, tmp_path):
    rung0 = evaluate(mnist, tmp_path, budget=1, trial_id=1)
    rung1 = evaluate(mnist, tmp_path, budget=3, previous=1, trial_id=2)

    assert rung1.metrics["epochs_trained"] == 2
    assert [rep["step"] for rep in rung1.reports] == [2, 3]  # the epoch counter continues
    # Epoch 2's training loss starts where rung 0 ended (its val_loss), not where a fresh
    # model starts (rung 0's first-epoch training loss, which includes the untrained start).
    fresh_first_epoch = rung0.reports[0]["loss"]
    continued = rung1.reports[0]["loss"]
    assert abs(continued - rung0.metrics["val_loss"]) < 0.5 * abs(continued - fresh_first_epoch)
    assert rung1.metrics["val_loss"] < rung0.metrics["val_loss"]


@pytest.mark.slow
def test_checkpoint_holds_the_trained_model(mnist, tmp_path):
    from hpsearch import warmstart
    from hpsearch.trial import Trial

    rung0 = evaluate(mnist, tmp_path, budget=1)
    cfg = {**mnist.problem.defaults, "epochs": 3}
    trial = Trial(TrialSpec(trial_id=2, config_id=1, config=cfg, budget=3, previous_budget=1,
                            checkpoint_root=str(tmp_path)))
    build = mnist.run.__globals__["build_model"]
    x_val, y_val = mnist.siblings["load_data"].load_data()[1]
    model, initial = warmstart.restore(trial, lambda: build(cfg))
    loss, accuracy = model.evaluate(x_val, y_val, verbose=0)
    assert initial == 1
    assert accuracy == pytest.approx(rung0.objective, abs=1e-6)
    assert loss == pytest.approx(rung0.metrics["val_loss"], rel=1e-5)


@pytest.mark.slow
def test_missing_checkpoint_trains_from_scratch(mnist, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="hpsearch.warmstart"):
        r = evaluate(mnist, tmp_path, budget=2, previous=1)
    assert r.metrics["epochs_trained"] == 2
    assert [rep["step"] for rep in r.reports] == [1, 2]
    assert "no checkpoint for epoch 1" in caplog.text and "training from scratch for 2 epochs" in caplog.text


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """An empty HPS_DATA_DIR, an empty home (no Keras cache), and a download that fails."""
    empty, home = tmp_path / "empty", tmp_path / "home"
    empty.mkdir()
    home.mkdir()
    monkeypatch.setenv("HPS_DATA_DIR", str(empty))
    monkeypatch.setenv("HOME", str(home))
    calls = []

    def offline(*args, **kwargs):
        calls.append(args)
        raise ConnectionError("<urlopen error [Errno -3] Temporary failure\n in name resolution>")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    return empty, home, calls


def test_no_data_gives_one_clear_line(no_data):
    empty, home, calls = no_data
    with pytest.raises(ProblemLoadError) as info:
        load_problem("mnistmlp")
    msg = str(info.value)
    assert calls, "the download must be tried (and fail) before giving up"
    assert "\n" not in msg
    assert "load_data.py" in msg and "DataUnavailable: MNIST not found: put mnist.npz (Keras' format) in" in msg
    assert str(empty) in msg and str(home / ".keras" / "datasets") in msg
    assert "Temporary failure in name resolution" in msg


def test_no_data_cli_exit_2(no_data, runner, in_tmp):
    result = runner.invoke(cli, ["run", "--problem", "mnistmlp", "--algo", "random", "--max-evals", "1",
                                 "--evaluator", "serial"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "MNIST not found: put mnist.npz" in lines[0]
    assert not (in_tmp / "runs").exists()


def test_without_tensorflow_says_how_to_install(mnist_env, monkeypatch, runner, in_tmp):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow -> ImportError
    with pytest.raises(ProblemLoadError, match=r'needs TensorFlow: pip install "hpsearch\[tensorflow\]"'):
        load_problem("mnistmlp")
    result = runner.invoke(cli, ["run", "--problem", "mnistmlp", "--max-evals", "1", "--evaluator", "serial"])
    assert result.exit_code == 2
    assert 'pip install "hpsearch[tensorflow]"' in result.output
    shown = runner.invoke(cli, ["show", "mnistmlp"])
    assert shown.exit_code == 0 and "val_accuracy (maximize)" in shown.output


def test_list_and_show_do_not_import_tensorflow():
    code = ("import sys; from hpsearch.cli import main; sys.argv = ['hps', 'list']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "from hpsearch.loader import load_problem; load_problem('mnistmlp')\n"
            "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print('imported:', bad)")
    proc = subprocess.run([sys.executable, "-c", code], env=hps_env({"HPS_DATA_DIR": str(DATA_DIR)}), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "mnistmlp" in proc.stdout and "imported: []" in proc.stdout


NOISE = ("oneDNN", "cuda", "TF_ENABLE", "tensorflow/", "absl", "I0000", "W0000", "E0000", "Downloading")


# TF_CPP_MIN_LOG_LEVEL=0: as on a machine whose TensorFlow build prints its start-up lines anyway
@pytest.mark.slow
@pytest.mark.parametrize("tf_env", [{}, {"TF_CPP_MIN_LOG_LEVEL": "0"}], ids=["default", "verbose-tf"])
def test_cli_run_small(mnist_env, tmp_path, tf_env):
    run_dir = tmp_path / "run"
    proc = run_hps("run", "--problem", "mnistmlp", "--algo", "random", "--max-evals", "2", "--seed", "1",
                   "--evaluator", "serial", "--fix", "epochs=1", "--run-dir", run_dir,
                   env={"HPS_MNIST_SUBSET": "1000,200", "HPS_THREADS": "1", **tf_env}, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(run_dir / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["done", "done"]
    for r in rows:
        assert r["p:epochs"] == "1"
        assert 0 < float(r["objective"]) <= 1 and math.isfinite(float(r["m:val_loss"]))
    # TensorFlow's start-up chatter stays out of the user's terminal.
    noise = [line for line in proc.stderr.splitlines() if any(w in line for w in NOISE)]
    assert noise == []


@pytest.mark.slow
def test_missing_data_is_one_line_without_tensorflow_noise(tmp_path):
    empty, home = tmp_path / "empty", tmp_path / "home"
    empty.mkdir()
    home.mkdir()
    proc = run_hps("run", "--problem", "mnistmlp", "--max-evals", "1", "--evaluator", "serial", cwd=tmp_path,
                   env={"HPS_DATA_DIR": str(empty), "HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "0"},
                   timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "MNIST not found: put mnist.npz" in lines[0], proc.stderr


@pytest.mark.parametrize("env, expected", [({"HPS_THREADS": "3", "OMP_NUM_THREADS": "5"}, 3),
                                           ({"OMP_NUM_THREADS": "5"}, 5), ({}, None)])
def test_threads_come_from_the_environment(mnist, monkeypatch, env, expected):
    monkeypatch.delenv("HPS_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert mnist.run.__globals__["threads"]() == (expected or os.cpu_count())


def test_bad_thread_count_is_named(mnist, monkeypatch):
    monkeypatch.setenv("HPS_THREADS", "two")
    with pytest.raises(ValueError, match="HPS_THREADS must be a whole number of threads >= 1, got 'two'"):
        mnist.run.__globals__["threads"]()


@pytest.mark.parametrize("text, sizes", [("3000", (3000, 600)), ("100,50", (100, 50)),
                                         ("999999", (54000, 6000))])
def test_subset_sizes(mnist, monkeypatch, text, sizes):
    monkeypatch.setenv("HPS_MNIST_SUBSET", text)
    assert mnist.siblings["load_data"].subset_sizes() == sizes


@pytest.mark.slow
def test_validation_is_the_last_6000_training_images(mnist, monkeypatch):
    import numpy as np

    monkeypatch.delenv("HPS_MNIST_SUBSET")
    (x, y), (x_val, y_val) = mnist.siblings["load_data"].load_data()
    with np.load(DATA_DIR / "mnist.npz") as f:
        raw_x, raw_y = f["x_train"], f["y_train"]
    assert (len(x), len(x_val)) == (54000, 6000)
    np.testing.assert_array_equal(y_val, raw_y[54000:])
    np.testing.assert_array_equal(x_val[0], raw_x[54000].reshape(-1) / np.float32(255))


@pytest.mark.slow
def test_rerun_at_the_checkpoint_budget_trains_nothing(mnist, tmp_path):
    first = evaluate(mnist, tmp_path, budget=1)
    again = evaluate(mnist, tmp_path, budget=1, previous=1, trial_id=2)
    assert again.metrics["epochs_trained"] == 0 and again.reports == []
    assert again.objective == pytest.approx(first.objective, abs=1e-6)


GPU_SETUP = """
import tensorflow as tf
grown = []
tf.config.list_physical_devices = lambda kind=None: ["GPU:0", "GPU:1"] if kind == "GPU" else []
tf.config.experimental.set_memory_growth = lambda device, on: grown.append((device, on))
from hpsearch import load_problem
load_problem("mnistmlp").run.__globals__["configure_tensorflow"]()
import keras
print(grown, keras.mixed_precision.global_policy().name)
"""


@pytest.mark.slow
@pytest.mark.parametrize("mixed, policy", [(None, "float32"), ("1", "mixed_float16")])
def test_gpus_grow_their_memory_and_mixed_precision_is_opt_in(mnist_env, mixed, policy):
    env = hps_env({"HPS_MIXED_PRECISION": mixed} if mixed else {})
    if not mixed:
        env.pop("HPS_MIXED_PRECISION", None)
    p = subprocess.run([sys.executable, "-c", GPU_SETUP], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"[('GPU:0', True), ('GPU:1', True)] {policy}"


def test_bad_mixed_precision_is_named(mnist, monkeypatch):
    monkeypatch.setenv("HPS_MIXED_PRECISION", "fp16")
    with pytest.raises(ValueError, match="HPS_MIXED_PRECISION must be 1 or 0, got 'fp16'"):
        mnist.run.__globals__["mixed_precision"]()
