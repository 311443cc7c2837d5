"""``hps new NAME``: write a problem folder that runs as generated.

The folder holds a small but real model (logistic regression trained with
minibatch SGD in numpy, on synthetic data) with ``epochs`` as the resource and
warm start from ``trial.checkpoint_dir``, so it works with every algorithm,
Hyperband included, before the user replaces it with their own model.

Example:
    >>> import tempfile
    >>> folder = new_problem("myproblem", tempfile.mkdtemp())
    >>> sorted(p.name for p in folder.iterdir())
    ['load_data.py', 'model_run.py', 'problem.py']
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import UsageError
from .space import display_path

__all__ = ["new_problem", "ScaffoldError", "FILES", "next_steps"]

#: Folder names ``hps new`` accepts: a letter, then letters, digits, ``_`` or ``-``.
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class ScaffoldError(UsageError):
    """The folder cannot be created as asked (a usage error; one line)."""


PROBLEM_PY = '''\
"""Logistic regression on synthetic data (a template from hps new: edit me)."""
from hpsearch import HpProblem

# objective: the key of the dict run() returns; direction: "maximize" or "minimize".
# kind and optimum are optional (shown by hps list and the docs; optimum enables regret plots).
Problem = HpProblem(objective="val_accuracy", direction="maximize", kind="classification")
# Or several objectives (run() returns each; hps results marks the Pareto-optimal evaluations and
# reports the front's hypervolume against the reference point, each objective's worst value worth counting):
# Problem = HpProblem(objectives={{"val_accuracy": "maximize", "val_loss": "minimize"}},
#                     reference_point={{"val_accuracy": 0.5, "val_loss": 1.0}}, kind="classification")

# The resource: what multi-fidelity algorithms (hyperband, asha) give more of to good configurations.
Problem.add_dim("epochs", (1, 27), default=9, resource=True)          # integer range (ordinal)
Problem.add_dim("lr", (1e-3, 1.0, "log-uniform"), default=0.1)        # continuous, log-uniform prior
Problem.add_dim("l2", (1e-6, 1e-1, "log-uniform"), default=1e-4)      # continuous
Problem.add_dim("batch_size", [16, 32, 64, 128], default=32)          # list of numbers: ordinal
Problem.add_dim("features", ["linear", "quadratic"], default="linear")  # strings: categorical

# Optional: more configurations to evaluate first (the defaults above are the first one).
Problem.add_starting_point(features="quadratic", lr=0.3)

# Optional, for tree-shaped spaces: a dimension active only under some parent values (run() then
# gets "momentum" only when optimizer is "sgd"), a combination never evaluated, and richer priors:
# Problem.add_dim("optimizer", ["adam", "sgd"], default="adam")
# Problem.add_dim("momentum", (0.0, 0.99), default=0.9, when={{"optimizer": "sgd"}})
# Problem.add_forbidden(optimizer="sgd", batch_size=16)
# Problem.add_dim("decay", (1e-5, 1e-1, "log-normal"), mu=-7.0, sigma=1.5, default=1e-3)  # log(decay) ~ N
# Problem.add_dim("hidden", (16, 512), step=16, default=64)  # 16, 32, ..., 512
'''

LOAD_DATA_PY = '''\
"""Data for {name}: replace with your own loading code.

model_run.py imports this module by its plain name (import load_data): hps puts
the problem folder on sys.path. Load once per worker process (cached), never once
per evaluation, and keep a validation split apart from any test set.
"""
import functools

import numpy as np


@functools.lru_cache(maxsize=1)
def load_data(n=2000, n_features=8, seed=0):
    """Return (x_train, y_train), (x_val, y_val): a synthetic two-class problem, 75/25 split."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    # The classes are split by a curved boundary: quadratic features help.
    score = x[:, 0] ** 2 + x[:, 1] ** 2 + 0.5 * x[:, 2] - 1.5 + 0.3 * rng.normal(size=n)
    y = (score > 0).astype(float)
    cut = int(0.75 * n)
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
'''

MODEL_RUN_PY = '''\
"""Train and evaluate one configuration of {name}: replace the model with your own.

run(config, trial) gets every dimension's value in config and returns the
objective (here a dict holding "val_accuracy"; other keys are stored as metrics).
Warm start: Hyperband trains a promoted configuration further, in rungs. The
weights are saved in trial.checkpoint_dir, and a later rung restores them and
trains epochs trial.previous_budget .. config["epochs"] only.
"""
import numpy as np
from load_data import load_data


def features(x, kind):
    return np.hstack([x, x**2]) if kind == "quadratic" else x


def run(config, trial=None):
    (x_train, y_train), (x_val, y_val) = load_data()
    x_train = features(x_train, config["features"])
    x_val = features(x_val, config["features"])
    seed = trial.seed if trial is not None else 0

    w, b, start = np.zeros(x_train.shape[1]), 0.0, 0
    checkpoint = trial.checkpoint_dir / "weights.npz" if trial is not None else None
    if checkpoint is not None and trial.previous_budget and checkpoint.exists():
        saved = np.load(checkpoint)
        w, b, start = saved["w"], float(saved["b"]), int(saved["epoch"])

    lr, l2, batch = config["lr"], config["l2"], config["batch_size"]
    for epoch in range(start, config["epochs"]):
        order = np.random.default_rng([seed, epoch]).permutation(len(x_train))
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            p = 1 / (1 + np.exp(-(x_train[idx] @ w + b)))
            err = p - y_train[idx]
            w = w - lr * (x_train[idx].T @ err / len(idx) + l2 * w)
            b = b - lr * err.mean()
        if trial is not None:
            trial.report(epoch + 1, train_loss=_log_loss(x_train, y_train, w, b))

    if checkpoint is not None:
        np.savez(checkpoint, w=w, b=b, epoch=config["epochs"])
    p_val = 1 / (1 + np.exp(-(x_val @ w + b)))
    return {{"val_accuracy": float(((p_val > 0.5) == y_val).mean()),
            "val_loss": _log_loss(x_val, y_val, w, b)}}


def _log_loss(x, y, w, b):
    p = np.clip(1 / (1 + np.exp(-(x @ w + b))), 1e-12, 1 - 1e-12)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
'''

#: file name -> template (formatted with ``name``).
FILES: dict[str, str] = {
    "problem.py": PROBLEM_PY,
    "model_run.py": MODEL_RUN_PY,
    "load_data.py": LOAD_DATA_PY,
}


def new_problem(name: str, directory: str | os.PathLike = ".") -> Path:
    """Create ``directory/name`` with a problem folder that runs as generated.

    Args:
        name: the folder's name (a letter, then letters, digits, ``_`` or ``-``).
        directory: where to create it (created if missing).

    Returns:
        The new folder.

    Raises:
        ScaffoldError: a bad name, or the folder exists already (nothing is written).
    """
    if not NAME_RE.fullmatch(name):
        raise ScaffoldError(f"NAME: expected a letter followed by letters, digits, '_' or '-', got {name!r}")
    folder = Path(directory) / name
    if folder.exists() or folder.is_symlink():
        raise ScaffoldError(f"{display_path(folder)}: already exists; choose another NAME or --dir "
                            "(hps new never overwrites)")
    base = Path(directory)
    if base.exists() and not base.is_dir():
        raise ScaffoldError(f"--dir {display_path(base)}: not a directory")
    folder.mkdir(parents=True)
    for fname, template in FILES.items():
        (folder / fname).write_text(template.format(name=name), encoding="utf-8")
    return folder


def next_steps(folder: Path) -> str:
    """What ``hps new`` prints: the files written and what to do next."""
    shown = display_path(folder)
    spec = shown if os.sep in shown else f".{os.sep}{shown}"
    return "\n".join([
        f"created {shown}{os.sep}",
        "  problem.py     the search space: dimensions, objective and direction (edit first)",
        "  model_run.py   run(config, trial): train your model, return the objective",
        "  load_data.py   load your data once per worker (imported by model_run.py)",
        "next:",
        f"  hps show {spec}",
        f"  hps run --problem {spec} --algo random --max-evals 3",
        f"  hps run --problem {spec} --algo hyperband      (epochs is the resource)",
        f"to use it by name from anywhere: export HPS_PATH={folder.resolve().parent}",
    ])
