"""Multi-fidelity Branin (BOCA): bias and noise shrink with epochs; minimise, optimum 0.397887.

The value after ``b`` epochs is the Branin function at fidelity
``z = log(b) / log(81)`` (so the Hyperband rungs 1, 3, 9, 27, 81 sit at z = 0,
1/4, 1/2, 3/4, 1) as defined by Kandasamy, Dasarathy, Schneider and Poczos,
"Multi-fidelity Bayesian optimisation with continuous approximations" (BOCA,
ICML 2017), Appendix: ``a (x2 - b(z) x1^2 + c(z) x1 - r)^2 + s (1 - t(z))
cos(x1) + s`` with ``b(z) = b - 0.01 (1 - z)``, ``c(z) = c - 0.1 (1 - z)`` and
``t(z) = t + 0.05 (1 - z)`` (BOCA's three fidelity coordinates set to one
``z``), plus a Gaussian noise of standard deviation ``2 (1 - z)`` drawn from a
generator seeded by the trial's seed and the budget (so a run is
reproducible). At 81 epochs the value is the exact Branin function, whose
minimum 0.397887 is attained at (-pi, 12.275), (pi, 2.275) and (9.42478,
2.475): regret against it is exact. The value depends only on the budget, so
warm start is exact.

For the ``simulated`` evaluator an evaluation takes 1 s per epoch trained (only the
epochs past ``previous_budget`` when warm-started), times a seeded log-normal factor
(sd 0.1 of its log), as runs on a shared cluster do: see :mod:`hpsearch.problem.runtime`.
"""
from hpsearch import HpProblem
from hpsearch.problem.runtime import RuntimeModel

Problem = HpProblem(objective="objective", direction="minimize", optimum=0.397887357729739,
                    kind="synthetic",
                    cost=RuntimeModel(seconds_per_unit=1.0, jitter=0.1))
Problem.add_dim("x1", (-5.0, 10.0), default=2.5)
Problem.add_dim("x2", (0.0, 15.0), default=7.5)
Problem.add_dim("epochs", (1, 81), default=9, resource=True)
