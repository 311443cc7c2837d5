"""A small mixed space (every kind of dimension) with a known optimum, for backend tests."""
from hpsearch import Categorical, HpProblem, Ordinal

Problem = HpProblem(objective="score", direction="maximize", optimum=0.0, kind="synthetic")
Problem.add_dim("lr", (1e-4, 1e-1, "log-uniform"), default=1e-2)
Problem.add_dim("x", (-5.0, 5.0), default=4.0)
Problem.add_dim("units", (8, 256, "log-uniform"), default=32)
Problem.add_dim("layers", (1, 5), default=1)
Problem.add_dim("batch", [16, 32, 64, 128], default=32)
Problem.add_dim("act", ["relu", "tanh", "sigmoid"], default="sigmoid")
Problem.add_dim("opt", Categorical(["adam", "sgd"], weights=[3, 1]), default="sgd")
Problem.add_dim("steps", Ordinal(1, 27), default=3, resource=True)
Problem.add_starting_point(lr=0.05, x=-4.0, units=200, layers=5, batch=128, act="tanh", opt="adam")
