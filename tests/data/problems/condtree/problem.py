"""A conditional space with every feature (chains, two parents, forbidden pairs, priors, steps, a resource).

score = 0 at opt='sgd', lr=1e-2, momentum=0.9, nesterov=False, layers=3, units2=64, units3=64,
act3='relu', slope=0.1, dropout=0.2; below elsewhere.
"""
import math

from hpsearch import Categorical, HpProblem

Problem = HpProblem(objective="score", direction="maximize", optimum=0.0, kind="synthetic")
Problem.add_dim("opt", ["adam", "sgd", "rmsprop"], default="adam")
Problem.add_dim("lr", (1e-4, 1e-1, "log-normal"), mu=math.log(1e-2), sigma=1.5, default=1e-3)
Problem.add_dim("momentum", (0.0, 0.9), step=0.1, default=0.5, when={"opt": ["sgd", "rmsprop"]})
Problem.add_dim("nesterov", Categorical([True, False], when={"opt": "sgd"}), default=False)
Problem.add_dim("layers", (1, 4), default=2)
Problem.add_dim("units2", (8, 256, "log-uniform"), default=32, when={"layers": [2, 3, 4]})
Problem.add_dim("units3", (8, 256), step=8, default=32, when={"layers": [3, 4]})
Problem.add_dim("act3", ["relu", "tanh"], default="tanh", when={"layers": [3, 4], "opt": ["adam", "sgd"]})
Problem.add_dim("slope", (0.0, 0.3), default=0.2, when={"act3": "relu"})   # a child of a child
Problem.add_dim("dropout", (0.0, 0.5, "normal"), mu=0.2, sigma=0.1, default=0.1)
Problem.add_dim("steps", (1, 9), default=3, resource=True)
Problem.add_forbidden(nesterov=True, layers=4)
Problem.add_forbidden(opt="rmsprop", layers=[1, 2])
Problem.add_starting_point(opt="sgd", momentum=0.9, layers=3, act3="relu", slope=0.1)
