"""Multi-fidelity ZDT1-type problem (zdtshift with epochs): low budgets are biased and noisy.

At the full budget (81 epochs) the values are exactly those of ``zdtshift``
(Pareto front ``f2 = 1 - sqrt(f1)``, hypervolume 0.876667 against (1.1,
1.1)). After ``b`` epochs, at fidelity ``z = log(b) / log(81)`` (the Hyperband
rungs 1, 3, 9, 27, 81 sit at z = 0, 1/4, 1/2, 3/4, 1), the distance optimum is
moved by ``0.15 (1 - z)`` in every coordinate (a low budget points the wrong
way) and both objectives get a Gaussian noise of standard deviation ``0.2 (1 -
z)``, drawn from a generator seeded by the trial's seed and the budget (so a run
is reproducible). The values depend only on the budget, so warm start is exact.
"""
from hpsearch import HpProblem

Problem = HpProblem(objectives={"f1": "minimize", "f2": "minimize"},
                    reference_point={"f1": 1.1, "f2": 1.1}, hypervolume_optimum=0.1 + 2 / 3 + 0.11,
                    kind="synthetic")
Problem.add_dim("x1", (0.0, 1.0), default=0.5)
for i in range(2, 6):
    Problem.add_dim(f"x{i}", (0.0, 1.0), default=0.5)
Problem.add_dim("variant", ["a", "b", "c", "d"], default="a")
Problem.add_dim("epochs", (1, 81), default=9, resource=True)
