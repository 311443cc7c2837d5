"""Train the mnistmlp network: two hidden layers, Keras, warm-started across Hyperband rungs.

TensorFlow is imported inside :func:`run`, not here, so that importing this
file (the driver does, to check it) stays fast. Importing it checks that
TensorFlow is installed (else the error says how to install it) and that the
data file is there (else the error says where to put it).
"""
from __future__ import annotations

import importlib.util
import logging
import math
import os

import load_data

from hpsearch import warmstart

if importlib.util.find_spec("tensorflow") is None:
    raise ImportError('the mnistmlp benchmark needs TensorFlow: pip install "hpsearch[tensorflow]"')
# Find (or download) the data once, in the driver, before any worker starts: a missing file is
# reported at once, and workers never race to download it.
load_data.locate()

_configured = False

# TensorFlow keeps a few MiB per trained model that no Python code can free (a traced training
# step per model; tensorflow#61791): the process evaluator starts a fresh worker after this many.
MAX_TRIALS_PER_WORKER = 20


def threads() -> int:
    """TensorFlow threads for this process: ``$HPS_THREADS``, else ``$OMP_NUM_THREADS``, else all cores."""
    for var in ("HPS_THREADS", "OMP_NUM_THREADS"):
        text = os.environ.get(var, "").strip()
        if text:
            try:
                n = int(text)
            except ValueError:
                raise ValueError(f"{var} must be a whole number of threads >= 1, got {text!r}") from None
            if n < 1:
                raise ValueError(f"{var} must be a whole number of threads >= 1, got {text!r}")
            return n
    return os.cpu_count() or 1


def mixed_precision() -> bool:
    """``HPS_MIXED_PRECISION=1`` trains in float16 on a GPU (Keras' ``mixed_float16``); off by default."""
    text = os.environ.get("HPS_MIXED_PRECISION", "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"HPS_MIXED_PRECISION must be 1 or 0, got {text!r}")


def configure_tensorflow() -> None:
    """Quiet logs, thread counts and GPU memory, once per process, before TensorFlow's runtime starts.

    Each visible GPU (``CUDA_VISIBLE_DEVICES``, which ``hps run --gpus`` sets per
    worker) gets memory growth, so TensorFlow takes only the memory it uses
    instead of the whole card and trials can share one.
    """
    global _configured
    if _configured:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    n = threads()
    with load_data.quiet_native_output():  # TensorFlow's C++ start-up lines stay off the terminal
        import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with TensorFlow
        pass
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(min(n, 2))
    except RuntimeError:  # the runtime was started by someone else: keep its threads
        pass
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):  # already initialised by someone else: keep its setting
            pass
    if mixed_precision():
        import keras

        keras.mixed_precision.set_global_policy("mixed_float16")
    _configured = True


def build_model(config: dict):
    """The compiled network for a configuration."""
    import keras

    layers = [keras.Input(shape=(784,))]
    for i in (1, 2):
        layers.append(keras.layers.Dense(config[f"units{i}"], activation=config[f"activation{i}"]))
        if config[f"dropout{i}"] > 0:
            layers.append(keras.layers.Dropout(config[f"dropout{i}"]))
    layers.append(keras.layers.Dense(10, activation="softmax", dtype="float32"))  # stable under mixed_float16
    model = keras.Sequential(layers)
    lr = config["learning_rate"]
    optimizers = {
        "adam": lambda: keras.optimizers.Adam(lr),
        "nadam": lambda: keras.optimizers.Nadam(lr),
        "rmsprop": lambda: keras.optimizers.RMSprop(lr),
        "sgd": lambda: keras.optimizers.SGD(lr, momentum=0.9, nesterov=True),
    }
    model.compile(optimizer=optimizers[config["optimizer"]](), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    _build_metrics(model)
    return model


def _build_metrics(model) -> None:
    """Create the metrics' variables now, eagerly (see warmstart.restore: less left behind per trial)."""
    import numpy as np

    metrics = getattr(model, "_compile_metrics", None)
    if metrics is not None and not getattr(metrics, "built", True):
        try:
            metrics.build(np.zeros((1,), "int64"), model(np.zeros((1, 784), "float32")))
        except Exception:  # noqa: BLE001 - private Keras API: if it changes, fit builds them itself
            pass


def _reporter(trial):
    import keras

    class Report(keras.callbacks.Callback):
        """Each epoch's metrics as an intermediate result of the trial (step = epochs so far)."""

        def on_epoch_end(self, epoch, logs=None):
            trial.report(epoch + 1, **{k: float(v) for k, v in (logs or {}).items()})

    return Report()


def run(config: dict, trial=None) -> dict:
    """Train for ``trial.budget`` epochs in all (``config["epochs"]`` without a trial).

    Returns:
        ``val_accuracy`` (the objective), ``val_loss``, ``accuracy``, ``loss`` at the last epoch,
        and ``epochs_trained`` (epochs run by this call: fewer than the budget when warm-started).
    """
    configure_tensorflow()
    import keras

    (x, y), (x_val, y_val) = load_data.load_data()
    keras.backend.clear_session()
    seed = int(getattr(trial, "seed", 0) or 0) % (2**31)
    keras.utils.set_random_seed(seed)
    model, initial_epoch = warmstart.restore(trial, lambda: build_model(config))
    if initial_epoch:  # a promoted configuration: new shuffles, same initial weights
        keras.utils.set_random_seed((seed + 7919 * initial_epoch) % (2**31))
    callbacks = [_reporter(trial)] if trial is not None else []
    history = warmstart.fit(model, trial, x, y, epochs=config["epochs"], batch_size=config["batch_size"],
                            validation_data=(x_val, y_val), callbacks=callbacks, verbose=0)
    last = {k: float(v[-1]) for k, v in history.history.items() if v}
    if not history.epoch:  # the checkpoint already holds the whole budget: nothing to train
        last["val_loss"], last["val_accuracy"] = map(float, model.evaluate(x_val, y_val, verbose=0))
        last["loss"], last["accuracy"] = map(float, model.evaluate(x, y, verbose=0))
    del model
    keras.backend.clear_session()
    out = {"val_accuracy": last["val_accuracy"], "val_loss": last["val_loss"],
           "accuracy": last["accuracy"], "loss": last["loss"], "epochs_trained": len(history.epoch)}
    if not math.isfinite(out["val_loss"]):
        raise FloatingPointError(f"training diverged: val_loss is {out['val_loss']}")
    return out
