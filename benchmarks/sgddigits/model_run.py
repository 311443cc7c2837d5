"""Train an SGDClassifier on scikit-learn's digits, one ``partial_fit`` pass per epoch, warm-started.

The checkpoint ``sgd-<epochs>.pkl`` in ``trial.checkpoint_dir`` holds the model
after that many epochs (written to a temporary file, then moved into place).
Each epoch's shuffle depends only on ``(seed, epoch)`` and the optimiser's
state (weights, step counter ``t_``) is inside the pickled model, so resuming
from epoch k gives bit for bit the model trained straight through.
"""
import os
import pickle
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

CLASSES = np.arange(10)


@lru_cache(maxsize=1)
def data():
    """(x_train, y_train, x_val, y_val, x_test, y_test), standardised with the training statistics."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    x_tr, x_val, y_tr, y_val = train_test_split(x_rest, y_rest, test_size=0.25, random_state=1,
                                                stratify=y_rest)
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0) + 1e-8
    return tuple((a - mean) / std if i % 2 == 0 else a
                 for i, a in enumerate((x_tr, y_tr, x_val, y_val, x_test, y_test)))


def build(config, seed):
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss=config["loss"], penalty=config["penalty"], alpha=config["alpha"],
                         learning_rate=config["learning_rate"], eta0=config["eta0"],
                         power_t=config["power_t"], random_state=seed, shuffle=False)


def checkpoint(directory, epochs):
    return Path(directory) / f"sgd-{int(epochs)}.pkl"


def restore(trial):
    """(model, epochs it holds) from the previous rung's checkpoint, or (None, 0)."""
    if trial is None or not trial.previous_budget:
        return None, 0
    path = checkpoint(trial.checkpoint_dir, trial.previous_budget)
    if not path.is_file():
        warnings.warn(f"{path}: no checkpoint, training from scratch", stacklevel=2)
        return None, 0
    with open(path, "rb") as f:
        return pickle.load(f), int(trial.previous_budget)


def save(trial, model, epochs):
    try:
        directory = trial.checkpoint_dir
    except RuntimeError:  # no run directory: nothing to keep
        return
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        pickle.dump(model, f)
    os.replace(tmp, checkpoint(directory, epochs))


def run(config, trial=None):
    """Train to ``trial.budget`` epochs in all (``config["epochs"]`` without a trial)."""
    x_tr, y_tr, x_val, y_val, x_test, y_test = data()
    epochs = int(trial.budget if trial is not None else config["epochs"])
    seed = int(trial.seed if trial is not None else 0) % (2**31)
    model, start = restore(trial)
    if model is None:
        model = build(config, seed)
    for epoch in range(start, epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(y_tr))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overflow in a diverging configuration: scored as it is
            model.partial_fit(x_tr[order], y_tr[order], classes=CLASSES)
        if trial is not None and trial.report(epoch + 1, val_accuracy=model.score(x_val, y_val)):
            epochs = epoch + 1
            break
    if trial is not None:
        save(trial, model, epochs)
    return {"val_accuracy": model.score(x_val, y_val), "test_accuracy": model.score(x_test, y_test),
            "epochs_trained": epochs - start}
