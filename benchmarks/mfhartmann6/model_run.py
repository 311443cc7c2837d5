"""Multi-fidelity Hartmann 6-D (Kandasamy et al. 2017, BOCA): see problem.py for the formula."""
import hashlib
import math
import random

MAX_EPOCHS = 81
DELTA = 0.1  # BOCA: alpha'_1 = alpha_1 - DELTA (1 - z)
SIGMA = 0.25  # noise standard deviation at z = 0 (ours: BOCA's functions are noise-free)
ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
P = [[1e-4 * v for v in row] for row in (
    (1312, 1696, 5569, 124, 8283, 5886),
    (2329, 4135, 8307, 3736, 1004, 9991),
    (2348, 1451, 3522, 2883, 3047, 6650),
    (4047, 8828, 8732, 5743, 1091, 381),
)]


def fidelity(epochs):
    """z in [0, 1]: log-linear in epochs, 0 at 1 epoch, 1 at MAX_EPOCHS."""
    return math.log(min(max(epochs, 1), MAX_EPOCHS)) / math.log(MAX_EPOCHS)


def mf_hartmann6(x, z):
    """BOCA's multi-fidelity Hartmann 6-D at fidelity z (noise-free); z = 1 is Hartmann 6-D."""
    total = 0.0
    for i in range(4):
        alpha = ALPHA[i] - (DELTA * (1.0 - z) if i == 0 else 0.0)
        total -= alpha * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6)))
    return total


def noise(seed, epochs, z):
    """Gaussian noise of sd SIGMA (1 - z), fixed by (seed, epochs)."""
    key = hashlib.sha256(repr((int(seed), int(epochs))).encode()).digest()
    return random.Random(int.from_bytes(key[:8], "big")).gauss(0.0, SIGMA * (1.0 - z))


def run(config, trial=None):
    x = [config[f"x{i}"] for i in range(6)]
    epochs = trial.budget if trial is not None else config["epochs"]
    # without a trial, the seed comes from the configuration itself
    seed = trial.seed if trial is not None else int(hashlib.sha256(repr(x).encode()).hexdigest()[:8], 16)
    z = fidelity(epochs)
    return {"objective": mf_hartmann6(x, z) + noise(seed, epochs, z), "final": mf_hartmann6(x, 1.0)}
