"""CASH on scikit-learn's digits: choose SVC, random forest or logistic regression and its hyperparameters.

The combined algorithm selection and hyperparameter (CASH) problem of
Auto-WEKA and auto-sklearn, small enough to run in about a second per
evaluation: ``classifier`` picks the family, and each family's
hyperparameters are active only under it (``when=``). The SVC kernel
conditions ``gamma`` (rbf, poly) and ``degree`` (poly), a chain two levels
deep; logistic regression forbids the l1 penalty with the lbfgs and
newton-cg solvers (``add_forbidden``), which only saga supports here. The objective is the
accuracy on a fixed stratified third of the 1797 images held out from
training (scikit-learn ships the data: no download).
"""
from hpsearch import HpProblem

Problem = HpProblem(objective="val_accuracy", direction="maximize", kind="classification")
Problem.add_dim("classifier", ["svc", "random_forest", "logreg"], default="svc")

Problem.add_dim("svc_C", (1e-2, 1e3, "log-uniform"), default=10.0, when={"classifier": "svc"})
Problem.add_dim("svc_kernel", ["rbf", "poly", "linear"], default="rbf", when={"classifier": "svc"})
Problem.add_dim("svc_gamma", (1e-5, 1e-1, "log-uniform"), default=1e-3,
                when={"svc_kernel": ["rbf", "poly"]})
Problem.add_dim("svc_degree", (2, 4), default=3, when={"svc_kernel": "poly"})

Problem.add_dim("rf_n_estimators", (10, 100), step=10, default=50, when={"classifier": "random_forest"})
Problem.add_dim("rf_max_depth", (2, 32, "log-uniform"), default=8, when={"classifier": "random_forest"})
Problem.add_dim("rf_max_features", (0.1, 0.5), step=0.1, default=0.3, when={"classifier": "random_forest"})

Problem.add_dim("lr_C", (1e-3, 1e2, "log-normal"), mu=0.0, sigma=2.0, default=1.0,
                when={"classifier": "logreg"})
Problem.add_dim("lr_penalty", ["l2", "l1"], default="l2", when={"classifier": "logreg"})
Problem.add_dim("lr_solver", ["lbfgs", "newton-cg", "saga"], default="lbfgs", when={"classifier": "logreg"})
Problem.add_forbidden(lr_penalty="l1", lr_solver=["lbfgs", "newton-cg"])  # l1 needs saga

Problem.add_starting_point(classifier="random_forest")
Problem.add_starting_point(classifier="logreg")
