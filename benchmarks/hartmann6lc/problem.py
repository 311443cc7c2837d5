"""Hartmann 6-D as a learning curve: low epochs give a noisy, biased preview; minimise, optimum -3.32237."""
from hpsearch import HpProblem

Problem = HpProblem(objective="objective", direction="minimize", optimum=-3.32236801141551,
                    kind="synthetic")
for i in range(6):
    Problem.add_dim(f"x{i}", (0.0, 1.0), default=0.5)
Problem.add_dim("epochs", (1, 81), default=9, resource=True)
