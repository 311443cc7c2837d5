"""Multi-fidelity zdtshift: see problem.py for the bias and the noise."""
import hashlib
import math
import random

MAX_EPOCHS = 81
SIGMA = 0.2  # noise standard deviation at z = 0
SHIFT = 0.15  # how far the distance optimum moves at z = 0
CENTRE = (0.27, 0.61, 0.42, 0.76)
PENALTY = {"a": 0.6, "b": 0.0, "c": 0.3, "d": 0.9}


def fidelity(epochs):
    """z in [0, 1]: log-linear in epochs, 0 at 1 epoch, 1 at MAX_EPOCHS."""
    return math.log(min(max(epochs, 1), MAX_EPOCHS)) / math.log(MAX_EPOCHS)


def values(config, z):
    """(f1, f2) at fidelity z without noise; z = 1 is zdtshift."""
    centre = [c + SHIFT * (1.0 - z) for c in CENTRE]
    xs = [config[f"x{i}"] for i in range(2, 6)]
    g = 1.0 + 9.0 * sum(abs(x - c) for x, c in zip(xs, centre)) / len(xs) + PENALTY[config["variant"]]
    x1 = config["x1"]
    return x1, g * (1.0 - math.sqrt(x1 / g))


def noise(seed, epochs, z):
    """Two Gaussian draws of sd SIGMA (1 - z), fixed by (seed, epochs)."""
    key = hashlib.sha256(repr((int(seed), int(epochs))).encode()).digest()
    rng = random.Random(int.from_bytes(key[:8], "big"))
    return rng.gauss(0.0, SIGMA * (1.0 - z)), rng.gauss(0.0, SIGMA * (1.0 - z))


def _config_seed(config):
    return int(hashlib.sha256(repr(sorted(config.items())).encode()).hexdigest()[:8], 16)


def run(config, trial=None):
    epochs = trial.budget if trial is not None else config["epochs"]
    fixed = {k: v for k, v in config.items() if k != "epochs"}
    seed = trial.seed if trial is not None else _config_seed(fixed)
    z = fidelity(epochs)
    f1, f2 = values(config, z)
    n1, n2 = noise(seed, epochs, z)
    return {"f1": f1 + n1, "f2": f2 + n2}
