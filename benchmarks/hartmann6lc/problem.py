"""Hartmann 6-D as a learning curve: low epochs give a noisy, biased preview; minimise, optimum -3.32237.

For the ``simulated`` evaluator an evaluation takes 1 s per epoch trained (only the
epochs past ``previous_budget`` when warm-started), times a seeded log-normal factor
(sd 0.1 of its log), as runs on a shared cluster do: see :mod:`hpsearch.problem.runtime`.
"""
from hpsearch import HpProblem
from hpsearch.problem.runtime import RuntimeModel

Problem = HpProblem(objective="objective", direction="minimize", optimum=-3.32236801141551,
                    kind="synthetic",
                    cost=RuntimeModel(seconds_per_unit=1.0, jitter=0.1))
for i in range(6):
    Problem.add_dim(f"x{i}", (0.0, 1.0), default=0.5)
Problem.add_dim("epochs", (1, 81), default=9, resource=True)
