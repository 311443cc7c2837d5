"""Warm start for Keras models in one line of ``model_run.py``.

Hyperband promotes a configuration from budget ``r_(i-1)`` to ``r_i``; the
trial then says ``trial.previous_budget`` (epochs the checkpoint holds) and
``trial.budget`` (epochs the model must have in all). This helper restores the
weights *and* the optimizer state saved by the previous rung, trains only the
missing epochs with Keras' ``initial_epoch`` (as Keras Tuner does), and saves
the result for the next rung::

    from hpsearch import warmstart

    def run(config, trial=None):
        model, initial_epoch = warmstart.restore(trial, lambda: build_model(config))
        history = warmstart.fit(model, trial, x, y, epochs=config["epochs"],
                                validation_data=(xv, yv), batch_size=128)
        return history.history["val_accuracy"][-1]

A checkpoint is a file ``warmstart-<budget>.npz`` in ``trial.checkpoint_dir``,
written to a temporary file and moved into place with :func:`os.replace`, so a
crash never leaves a half-written one, and named by the budget it holds, so a
stale checkpoint is never mistaken for the one asked for. When no checkpoint
holds ``previous_budget`` (a crashed rung, a deleted folder, a changed model),
the model trains from scratch for the whole budget and a warning says so.

``build`` must return a compiled, built model (declare its input shape, e.g.
with ``keras.Input``); it is called on every rung, so the architecture and the
optimizer come from the code and only the numbers come from the checkpoint.
Without a ``trial`` (``run(config)`` called directly) the helper just trains.

:func:`fit` also honours pruning: when ``trial.should_stop`` turns True (a
``trial.report`` in an epoch-end callback returned True), training ends after
that epoch, and the checkpoint saved is named by the epochs actually trained.

TensorFlow/Keras is imported only when these functions run.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["restore", "fit", "save", "checkpoint_path", "find_checkpoints"]

log = logging.getLogger("hpsearch.warmstart")

_PATTERN = re.compile(r"^warmstart-(\d+)\.npz$")
#: initial epoch found by :func:`restore`, per model (read by :func:`fit`).
_INITIAL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _checkpoint_dir(trial: Any) -> Path | None:
    if trial is None:
        return None
    try:
        return Path(trial.checkpoint_dir)
    except (AttributeError, RuntimeError):  # no run directory: nothing to keep
        return None


def _as_epoch(value: Any, what: str) -> int:
    epoch = int(round(float(value)))
    if epoch < 0 or abs(float(value) - epoch) > 1e-9:
        raise ValueError(f"warmstart: {what} must be a whole number of epochs >= 0, got {value!r}")
    return epoch


def checkpoint_path(directory: str | os.PathLike, budget: int) -> Path:
    """The checkpoint file that holds a model trained for ``budget`` epochs."""
    return Path(directory) / f"warmstart-{int(budget)}.npz"


def find_checkpoints(directory: str | os.PathLike) -> dict[int, Path]:
    """budget -> checkpoint file, for every checkpoint in ``directory``."""
    found: dict[int, Path] = {}
    d = Path(directory)
    if d.is_dir():
        for p in d.iterdir():
            m = _PATTERN.match(p.name)
            if m:
                found[int(m.group(1))] = p
    return found


def _optimizer_variables(model: Any) -> list:
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return []
    if not getattr(opt, "built", True):
        opt.build(model.trainable_variables)
    return list(opt.variables)


def save(model: Any, trial: Any, budget: int | None = None) -> Path | None:
    """Save ``model``'s weights and optimizer state as the checkpoint for ``budget``.

    Args:
        model: a compiled Keras model.
        trial: the evaluation's trial (None: nothing is saved).
        budget: epochs the model holds (default ``trial.budget``).

    Returns:
        The checkpoint file, or None when there is no checkpoint directory.
    """
    directory = _checkpoint_dir(trial)
    if directory is None:
        return None
    budget = _as_epoch(trial.budget if budget is None else budget, "budget")
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {f"w{i}": np.asarray(v.numpy()) for i, v in enumerate(model.weights)}
    arrays.update({f"o{i}": np.asarray(v.numpy()) for i, v in enumerate(_optimizer_variables(model))})
    arrays["budget"] = np.asarray(budget)
    target = checkpoint_path(directory, budget)
    fd, tmp = tempfile.mkstemp(prefix=".warmstart-", suffix=".npz.tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def _load_into(model: Any, path: Path, budget: int) -> str | None:
    """Assign a checkpoint's arrays to ``model``; the reason it does not fit, else None."""
    try:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as exc:
        return f"cannot read {path.name}: {exc}"
    if int(arrays.get("budget", -1)) != budget:
        return f"{path.name} holds budget {int(arrays.get('budget', -1))}, not {budget}"
    weights = model.weights
    opt_vars = _optimizer_variables(model)
    n_w = sum(1 for k in arrays if k.startswith("w"))
    n_o = sum(1 for k in arrays if k.startswith("o"))
    if n_w != len(weights) or n_o != len(opt_vars):
        return (f"{path.name} holds {n_w} weights and {n_o} optimizer variables, the model has "
                f"{len(weights)} and {len(opt_vars)}")
    pairs = [(v, arrays[f"w{i}"]) for i, v in enumerate(weights)]
    pairs += [(v, arrays[f"o{i}"]) for i, v in enumerate(opt_vars)]
    for v, a in pairs:
        if tuple(v.shape) != tuple(a.shape):
            return f"{path.name}: variable {v.path} has shape {tuple(v.shape)}, checkpoint {a.shape}"
    for v, a in pairs:
        v.assign(a)
    return None


def restore(trial: Any, build: Callable[[], Any]) -> tuple[Any, int]:
    """Build the model and, when the trial continues an earlier rung, load its checkpoint.

    Args:
        trial: the evaluation's trial, or None.
        build: returns a new compiled, built Keras model.

    Returns:
        ``(model, initial_epoch)``: ``initial_epoch`` is ``trial.previous_budget``
        when its checkpoint was restored, else 0 (train from scratch).
    """
    model = build()
    # Optimizer slots made now, eagerly, not inside the first traced train step: variables
    # created there leave their initializer functions in TensorFlow's library, one set per model.
    _optimizer_variables(model)
    initial = 0
    previous = 0 if trial is None else _as_epoch(getattr(trial, "previous_budget", 0) or 0,
                                                 "previous_budget")
    directory = _checkpoint_dir(trial) if previous > 0 else None
    if previous > 0:
        where = f"trial {getattr(trial, 'id', '?')}"
        if directory is None:
            log.warning("%s: no checkpoint directory; training from scratch for %s epochs instead of "
                        "resuming from epoch %d", where, trial.budget, previous)
        else:
            path = checkpoint_path(directory, previous)
            reason = _load_into(model, path, previous) if path.is_file() else \
                f"no checkpoint for epoch {previous} in {directory}"
            if reason is None:
                initial = previous
            else:
                log.warning("%s: %s; training from scratch for %s epochs", where, reason, trial.budget)
    _INITIAL[model] = initial
    return model, initial


def fit(model: Any, trial: Any, *args: Any, initial_epoch: int | None = None,
        epochs: int | None = None, **fit_kwargs: Any) -> Any:
    """``model.fit`` from the restored epoch to the trial's budget, then save the checkpoint.

    Args:
        model: the model from :func:`restore` (or any compiled model).
        trial: the evaluation's trial, or None.
        *args: passed to ``model.fit`` (``x``, ``y``, ...).
        initial_epoch: default: what :func:`restore` found for this model, else 0.
        epochs: total epochs; ``trial.budget`` wins when the trial has one.
        **fit_kwargs: passed to ``model.fit``.

    Returns:
        Keras' ``History``; ``history.epoch`` lists the epochs trained in this call.
    """
    budget = getattr(trial, "budget", None) if trial is not None else None
    if budget is None:
        budget = epochs
    if budget is None:
        raise ValueError("warmstart.fit: pass epochs= (the trial has no budget)")
    total = _as_epoch(budget, "budget")
    start = _INITIAL.get(model, 0) if initial_epoch is None else _as_epoch(initial_epoch, "initial_epoch")
    if start > total:
        raise ValueError(f"warmstart.fit: initial_epoch {start} is past the budget {total}")
    if trial is not None and hasattr(trial, "should_stop"):
        fit_kwargs["callbacks"] = [*(fit_kwargs.get("callbacks") or []), _stopper(trial)]
    history = model.fit(*args, initial_epoch=start, epochs=total, **fit_kwargs)
    reached = min(start + len(history.epoch), total)  # fewer than total when the trial was stopped
    if save(model, trial, reached) is not None:
        _prune(_checkpoint_dir(trial), keep_from=start)
    return history


def _stopper(trial: Any) -> Any:
    """A Keras callback that ends ``fit`` after the epoch in which the trial was told to stop
    (it runs after the caller's callbacks, so it sees the decision of this epoch's report)."""
    import keras

    class StopWhenTold(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if trial.should_stop:
                self.model.stop_training = True

    return StopWhenTold()


def _prune(directory: Path | None, keep_from: int) -> None:
    """Delete checkpoints older than ``keep_from``: no rung can ask for them again."""
    if directory is None:
        return
    for budget, path in find_checkpoints(directory).items():
        if budget < keep_from:
            with contextlib.suppress(OSError):
                path.unlink()
