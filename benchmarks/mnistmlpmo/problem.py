"""mnistmlp with two objectives: maximise validation accuracy, minimise the number of parameters.

The same network, space, data and resource as ``mnistmlp`` (two hidden layers,
Keras, ``epochs`` the resource, warm-started across rungs; ``HPS_MNIST_SUBSET``
for a small real run); ``run`` also returns ``n_params``, the network's trainable
weights and biases (``785 u1 + (u1 + 1) u2 + 10 (u2 + 1)`` for ``u1`` and ``u2``
units), so the front trades accuracy for size. The reference point is accuracy
0 and 2,000,000 parameters (above the largest network of the space, 1,863,690).
The training code is mnistmlp's own (``model_run.py`` runs that file).

Needs TensorFlow: ``pip install "hpsearch[tensorflow]"``.
"""
from hpsearch import HpProblem

ACTIVATIONS = ["relu", "elu", "selu", "tanh"]

Problem = HpProblem(objectives={"val_accuracy": "maximize", "n_params": "minimize"},
                    reference_point={"val_accuracy": 0.0, "n_params": 2_000_000}, kind="classification")
Problem.add_dim("epochs", (1, 9), default=3, resource=True)
Problem.add_dim("units1", (16, 1024, "log-uniform"), default=256)
Problem.add_dim("activation1", ACTIVATIONS, default="relu")
Problem.add_dim("dropout1", (0.0, 0.6), default=0.2)
Problem.add_dim("units2", (16, 1024, "log-uniform"), default=256)
Problem.add_dim("activation2", ACTIVATIONS, default="relu")
Problem.add_dim("dropout2", (0.0, 0.6), default=0.2)
Problem.add_dim("batch_size", [32, 64, 128, 256, 512], default=128)
Problem.add_dim("learning_rate", (1e-4, 3e-2, "log-uniform"), default=1e-3)
Problem.add_dim("optimizer", ["adam", "nadam", "rmsprop", "sgd"], default="adam")
