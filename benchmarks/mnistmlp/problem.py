"""Multilayer perceptron on MNIST (Keras): maximise validation accuracy; epochs are the resource.

The space follows DeepHyper's ``mnistmlp`` benchmark: two hidden layers, each
with its units, activation and dropout, and the batch size; plus the learning
rate and the optimizer. Units and learning rate are log-uniform. ``epochs`` is
the resource (1..9 by default, so that ``hps run --problem mnistmlp --algo
hyperband`` finishes in minutes on a laptop CPU; raise it with
``--max-resource``). A promoted configuration resumes from its checkpoint
(weights and optimizer state) and trains only the extra epochs.

Data: ``mnist.npz`` (Keras' layout) from ``$HPS_DATA_DIR``, else
``~/.keras/datasets/``, else Keras downloads it. The objective is the accuracy
on the last 6,000 of the 60,000 training images, which are not trained on; the
test set is never used for selection. ``val_loss``, ``accuracy`` and ``loss``
are stored too, and each epoch's metrics are reported as intermediate results.

Environment: ``HPS_THREADS`` (else ``OMP_NUM_THREADS``, else all cores) sets
TensorFlow's threads per worker. ``HPS_MNIST_SUBSET=N`` (or ``N,M``) trains on
the first N training images and validates on the first M (default N // 5)
validation images: a small, fast, real run for tests. On a GPU (``hps run
--gpus all``) TensorFlow grows its memory as needed instead of taking the whole
card; ``HPS_MIXED_PRECISION=1`` trains in mixed float16 (off by default).

Needs TensorFlow: ``pip install "hpsearch[tensorflow]"``.
"""
from hpsearch import HpProblem

ACTIVATIONS = ["relu", "elu", "selu", "tanh"]

Problem = HpProblem(objective="val_accuracy", direction="maximize", kind="classification")
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
