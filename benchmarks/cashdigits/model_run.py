"""Fit the chosen classifier on two thirds of digits and return its held-out accuracy."""
import functools
import inspect
import warnings

import numpy as np


@functools.lru_cache(maxsize=1)
def load_data():
    """(x_train, y_train), (x_val, y_val): digits scaled to [0, 1], a fixed stratified 2/3 - 1/3 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_tr, x_val, y_tr, y_val = train_test_split(x / 16.0, y, test_size=1 / 3, stratify=y, random_state=0)
    return (x_tr, y_tr), (x_val, y_val)


def _logreg(config):
    from sklearn.linear_model import LogisticRegression

    kw = {"C": config["lr_C"], "solver": config["lr_solver"], "max_iter": 100, "tol": 1e-3}
    if inspect.signature(LogisticRegression).parameters["penalty"].default == "deprecated":
        kw["l1_ratio"] = 1.0 if config["lr_penalty"] == "l1" else 0.0  # scikit-learn >= 1.8
    else:
        kw["penalty"] = config["lr_penalty"]
    return LogisticRegression(**kw)


def build(config, seed=0):
    """The scikit-learn estimator a configuration describes."""
    family = config["classifier"]
    if family == "svc":
        from sklearn.svm import SVC

        kernel = config["svc_kernel"]
        kw = {"C": config["svc_C"], "kernel": kernel}
        if kernel in ("rbf", "poly"):
            kw["gamma"] = config["svc_gamma"]
        if kernel == "poly":
            kw["degree"] = config["svc_degree"]
        return SVC(**kw)
    if family == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=config["rf_n_estimators"],
                                      max_depth=config["rf_max_depth"],
                                      max_features=config["rf_max_features"], random_state=seed, n_jobs=1)
    return _logreg(config)


def run(config, trial=None):
    from threadpoolctl import threadpool_limits

    (x_tr, y_tr), (x_val, y_val) = load_data()
    model = build(config)
    # one BLAS thread: these matrices are small, and parallel workers would oversubscribe the cores
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of a short max_iter
        model.fit(x_tr, y_tr)
        accuracy = float(np.mean(model.predict(x_val) == y_val))
    return {"val_accuracy": accuracy}
