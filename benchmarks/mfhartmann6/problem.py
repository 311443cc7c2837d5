"""Multi-fidelity Hartmann 6-D (BOCA): bias and noise shrink with epochs; minimise, optimum -3.32237.

The value after ``b`` epochs is the Hartmann 6-D function at fidelity
``z = log(b) / log(81)`` (so the Hyperband rungs 1, 3, 9, 27, 81 sit at z = 0,
1/4, 1/2, 3/4, 1) as defined by Kandasamy, Dasarathy, Schneider and Poczos,
"Multi-fidelity Bayesian optimisation with continuous approximations" (BOCA,
ICML 2017), Appendix: ``-sum_i alpha'_i exp(-sum_j A_ij (x_j - P_ij)^2)`` with
``alpha' = alpha - 0.1 (1 - z)`` on the first coefficient (a one-dimensional
fidelity, as in BoTorch's AugmentedHartmann), plus a Gaussian noise of standard
deviation ``0.25 (1 - z)`` drawn from a generator seeded by the trial's seed and
the budget (so a run is reproducible). At 81 epochs the value is the exact
Hartmann 6-D function, whose minimum -3.32237 is at (0.20169, 0.150011,
0.476874, 0.275332, 0.311652, 0.6573): regret against it is exact. Unlike
``hartmann6lc`` (an ad-hoc learning curve, linear in epochs), the bias here is
the published one and the fidelity is log-spaced. The value depends only on the
budget, so warm start is exact.

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
