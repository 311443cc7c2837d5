"""A one-hidden-layer MLP (NumPy, minibatch SGD with momentum) on scikit-learn's digits: a real, cheap learning curve."""
from hpsearch import HpProblem

Problem = HpProblem(objective="val_error", direction="minimize")
Problem.add_dim("lr", (1e-4, 3.0, "log-uniform"), default=0.05)
Problem.add_dim("units", (4, 64, "log-uniform"), default=32)
Problem.add_dim("batch_size", [16, 32, 64, 128, 256], default=64)
Problem.add_dim("weight_decay", (1e-7, 1e-1, "log-uniform"), default=1e-4)
Problem.add_dim("momentum", (0.0, 0.99), default=0.9)
Problem.add_dim("activation", ["relu", "tanh"], default="relu")
Problem.add_dim("epochs", (1, 27), default=27, resource=True)
