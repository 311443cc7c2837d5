"""Train a 64-units-10 MLP on digits (600 images to train, 600 to validate) in NumPy, one pass per epoch;
each epoch's validation error is reported, so pruners can stop a trial. Deterministic given the seed."""
import numpy as np
from sklearn.datasets import load_digits

_DATA = None


def data():
    global _DATA
    if _DATA is None:
        x, y = load_digits(return_X_y=True)
        x = (x / 16.0).astype(np.float64)
        order = np.random.default_rng(0).permutation(len(y))
        x, y = x[order], y[order]
        _DATA = (x[:600], y[:600], x[600:1200], y[600:1200])
    return _DATA


def run(config, trial=None):
    x, y, xv, yv = data()
    rng = np.random.default_rng(int(getattr(trial, "seed", 0) or 0) % (2**32))
    h, lr, wd, mom = config["units"], config["lr"], config["weight_decay"], config["momentum"]
    relu = config["activation"] == "relu"
    w1 = rng.normal(0, np.sqrt(2.0 / 64), (64, h))
    b1 = np.zeros(h)
    w2 = rng.normal(0, np.sqrt(1.0 / h), (h, 10))
    b2 = np.zeros(10)
    params = [w1, b1, w2, b2]
    vel = [np.zeros_like(p) for p in params]
    onehot = np.eye(10)[y]
    bs = config["batch_size"]
    err = 1.0
    with np.errstate(all="ignore"):
        for epoch in range(1, config["epochs"] + 1):
            order = rng.permutation(len(y))
            for i in range(0, len(y), bs):
                idx = order[i:i + bs]
                a = x[idx] @ w1 + b1
                z = np.maximum(a, 0) if relu else np.tanh(a)
                logits = z @ w2 + b2
                logits -= logits.max(axis=1, keepdims=True)
                p = np.exp(logits)
                p /= p.sum(axis=1, keepdims=True)
                g = (p - onehot[idx]) / len(idx)
                gz = g @ w2.T
                ga = gz * (a > 0) if relu else gz * (1 - z * z)
                grads = [x[idx].T @ ga + wd * w1, ga.sum(0), z.T @ g + wd * w2, g.sum(0)]
                for prm, v, gr in zip(params, vel, grads):
                    v *= mom
                    v -= lr * gr
                    prm += v
            a = xv @ w1 + b1
            z = np.maximum(a, 0) if relu else np.tanh(a)
            pred = np.argmax(z @ w2 + b2, axis=1)
            err = float(np.mean(pred != yv))
            if not np.all(np.isfinite(w2)):
                err = 0.9  # diverged: as bad as guessing
            if trial is not None and trial.report(epoch, val_error=err):
                break
    return {"val_error": err}
