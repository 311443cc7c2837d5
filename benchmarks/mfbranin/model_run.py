"""Multi-fidelity Branin (Kandasamy et al. 2017, BOCA): see problem.py for the formula."""
import hashlib
import math
import random

MAX_EPOCHS = 81
SIGMA = 2.0  # noise standard deviation at z = 0 (ours: BOCA's functions are noise-free)


def fidelity(epochs):
    """z in [0, 1]: log-linear in epochs, 0 at 1 epoch, 1 at MAX_EPOCHS."""
    return math.log(min(max(epochs, 1), MAX_EPOCHS)) / math.log(MAX_EPOCHS)


def mf_branin(x1, x2, z):
    """BOCA's multi-fidelity Branin at fidelity z (noise-free); z = 1 is Branin-Hoo."""
    a, r, s = 1.0, 6.0, 10.0
    b = 5.1 / (4 * math.pi**2) - 0.01 * (1.0 - z)
    c = 5 / math.pi - 0.1 * (1.0 - z)
    t = 1 / (8 * math.pi) + 0.05 * (1.0 - z)
    return a * (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


def noise(seed, epochs, z):
    """Gaussian noise of sd SIGMA (1 - z), fixed by (seed, epochs)."""
    key = hashlib.sha256(repr((int(seed), int(epochs))).encode()).digest()
    return random.Random(int.from_bytes(key[:8], "big")).gauss(0.0, SIGMA * (1.0 - z))


def _config_seed(x):
    return int(hashlib.sha256(repr(x).encode()).hexdigest()[:8], 16)


def run(config, trial=None):
    x1, x2 = config["x1"], config["x2"]
    epochs = trial.budget if trial is not None else config["epochs"]
    # without a trial, the seed comes from the configuration itself
    seed = trial.seed if trial is not None else _config_seed([x1, x2])
    z = fidelity(epochs)
    return {"objective": mf_branin(x1, x2, z) + noise(seed, epochs, z), "final": mf_branin(x1, x2, 1.0)}
