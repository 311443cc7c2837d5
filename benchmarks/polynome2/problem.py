"""Ten-dimensional negative sphere (DeepHyper's polynome2): maximise -sum(x_i^2), optimum 0."""
from hpsearch import HpProblem

Problem = HpProblem(objective="objective", direction="maximize", optimum=0.0, kind="synthetic")
for i in range(10):
    # Defaults sit away from the optimum so the first starting point is not the answer.
    Problem.add_dim(f"e{i}", (-10.0, 10.0), default=5.0)
