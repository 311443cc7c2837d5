"""Hartmann 6-D seen through a learning curve, for fast multi-fidelity tests and demos.

The value after ``b`` epochs is the final Hartmann 6-D value plus a bias and a
noise that both shrink to zero at ``MAX_EPOCHS``: ``h(x) + g * (bias(x) + noise)``
with ``g = (MAX_EPOCHS - b) / (MAX_EPOCHS - 1)``. The bias depends on the
configuration (so low budgets can rank configurations wrongly) and the noise is
deterministic, drawn from a generator seeded by a hash of the configuration and
the budget. The value depends only on the budget, so warm start is trivially
exact: a run resumed from ``previous_budget`` gives what a fresh run would.
Each epoch's value is reported (``trial.report``), so pruners can stop a trial.
"""
import hashlib
import math
import random

from hartmann_constants import ALPHA, A, P

MAX_EPOCHS = 81


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6))
        total -= ALPHA[i] * math.exp(-inner)
    return total


def curve(x, epochs):
    """The objective of configuration ``x`` (six floats) after ``epochs`` epochs."""
    gap = (MAX_EPOCHS - min(epochs, MAX_EPOCHS)) / (MAX_EPOCHS - 1)
    key = repr(([round(v, 12) for v in x], epochs)).encode()
    noise = random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big")).gauss(0.0, 0.3)
    bias = 1.0 + 0.8 * math.sin(7.0 * x[0] + 3.0 * x[3])
    return hartmann6(x) + gap * (bias + noise)


def run(config, trial=None):
    """The curve's value at ``config["epochs"]``; with a trial, each epoch's value is reported on the way
    (from ``previous_budget + 1``, as a warm-started run would), and a stop decision ends it early."""
    x = [config[f"x{i}"] for i in range(6)]
    epochs = config["epochs"]
    if trial is not None:
        for e in range(int(trial.previous_budget or 0) + 1, epochs + 1):
            if trial.report(e, objective=curve(x, e)) and e < epochs:
                return {"objective": curve(x, e), "final": hartmann6(x)}
    return {"objective": curve(x, epochs), "final": hartmann6(x)}
