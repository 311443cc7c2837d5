"""Which observations a Gaussian process is fitted on once there are too many for an exact fit.

A GP's cost grows with the cube of its training points (and each prediction
with their square), so past ``limit`` observations the ``bayesian`` searcher
fits it on a bounded set: the best half by loss, where the acquisition looks
for improvements, and a sample of the rest, which keeps the model's picture
of the whole space. The sample is drawn by a fixed random key per
observation (its position in a seeded stream), so it depends only on the
seed and the observations, and it changes little as data arrives: a new
observation displaces an older one only if its key is smaller.
"""
from __future__ import annotations

import numpy as np

__all__ = ["training_subset"]


def training_subset(y: np.ndarray, limit: int, seed: int) -> np.ndarray | None:
    """Sorted indices of the observations to fit on, or None for all of them (``len(y) <= limit``).

    Args:
        y: the losses (failures already imputed), in observation order.
        limit: the most indices returned.
        seed: seeds the keys of the sample of the rest.

    >>> training_subset(np.array([5.0, 1.0, 4.0, 2.0, 3.0]), 5, 0) is None
    True
    >>> idx = training_subset(np.array([5.0, 1.0, 4.0, 2.0, 3.0, 0.5]), 4, 0)
    >>> len(idx), {1, 5} <= set(idx.tolist())
    (4, True)
    """
    n = len(y)
    if n <= limit:
        return None
    n_best = limit // 2
    order = np.argsort(y, kind="stable")
    rest = order[n_best:]
    keys = np.random.default_rng(seed).random(n)  # one key per position: a prefix of the same stream
    sample = rest[np.argsort(keys[rest], kind="stable")[:limit - n_best]]
    return np.sort(np.concatenate([order[:n_best], sample]))
