"""SGD linear classifier on scikit-learn's digits, trained epoch by epoch: maximise validation accuracy.

A real learning curve that trains in well under a second, offline: scikit-learn's
``load_digits`` (1,797 8x8 images shipped inside scikit-learn, no download) is
split once, stratified and with a fixed seed, into a test set (25 %, never used
for selection; reported as ``test_accuracy``) and a training part, from which a
validation set (25 % of it) is carved. An ``SGDClassifier`` is trained with
``partial_fit``, one pass over the standardised training images per epoch in an
order drawn from ``(trial.seed, epoch)``; ``epochs`` is the resource (1..27, so
that a full budget trains in about half a second).
After each evaluation the model is pickled to ``trial.checkpoint_dir``, and a
promoted configuration resumes from ``previous_budget`` (from scratch when the
checkpoint is missing), so warm start gives exactly the model trained straight
through. Each epoch's ``val_accuracy`` is reported as an intermediate result.
There is no known optimum: comparisons report the best objective.
"""
from hpsearch import HpProblem

Problem = HpProblem(objective="val_accuracy", direction="maximize", kind="classification")
Problem.add_dim("epochs", (1, 27), default=9, resource=True)
Problem.add_dim("loss", ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"],
                default="hinge")
Problem.add_dim("penalty", ["l2", "l1", "elasticnet"], default="l2")
Problem.add_dim("alpha", (1e-7, 1e-1, "log-uniform"), default=1e-4)
Problem.add_dim("learning_rate", ["constant", "invscaling", "optimal"], default="optimal")
Problem.add_dim("eta0", (1e-5, 1.0, "log-uniform"), default=0.01)
Problem.add_dim("power_t", (0.1, 0.9), default=0.5)
