"""mfhartmann6 in the shape of mnistmlp's schedule: ten dimensions (Hartmann 6-D's six and four that play no
part) and epochs 1..9, so one Hyperband pass (R = 9, eta = 3) gives at most 9 results at one budget, fewer
than the d + 2 = 12 BOHB's model waits for. The value after ``b`` epochs is BOCA's multi-fidelity Hartmann
6-D (``benchmarks/mfhartmann6``) at fidelity ``z = log(b) / log(9)``, with its noise; optimum -3.32237."""
from hpsearch import HpProblem

Problem = HpProblem(objective="objective", direction="minimize", optimum=-3.32236801141551, kind="synthetic")
for i in range(10):
    Problem.add_dim(f"x{i}", (0.0, 1.0), default=0.5)
Problem.add_dim("epochs", (1, 9), default=3, resource=True)
