"""mnistmlp with two objectives: maximise validation accuracy, minimise the number of parameters.

The same network, space, data and resource as ``mnistmlp`` (two hidden layers,
Keras, ``epochs`` the resource, warm-started across rungs; ``HPS_MNIST_SUBSET``
for a small real run); ``run`` also returns ``n_params``, the network's trainable
weights and biases (``785 u1 + (u1 + 1) u2 + 10 (u2 + 1)`` for ``u1`` and ``u2``
units), so the front trades accuracy for size. The reference point is accuracy
0 and 2,000,000 parameters (above the largest network of the space, 1,863,690).
The space is mnistmlp's own (copied from ``../mnistmlp/problem.py`` with
:meth:`~hpsearch.HpProblem.add_dims_from`) and so is the training code
(``model_run.py`` runs that file).

Needs TensorFlow: ``pip install "hpsearch[tensorflow]"``.
"""
from pathlib import Path

from hpsearch import HpProblem, load_problem

MNISTMLP = Path(__file__).resolve().parent.parent / "mnistmlp"

Problem = HpProblem(objectives={"val_accuracy": "maximize", "n_params": "minimize"},
                    reference_point={"val_accuracy": 0.0, "n_params": 2_000_000}, kind="classification")
Problem.add_dims_from(load_problem(MNISTMLP, with_run=False).problem)
