"""A function whose functional-ANOVA decomposition is known in closed form; minimise (8 dimensions).

``f(x) = sum_i a_i g_i(x_i) + b (x3 - 1/2)(x5 - 1/2)`` on ``[0, 1]^8``, with
``g`` a sine ``sin(2 pi x)`` (x1, x7), a line ``x`` (x2, x6), a cliff
``1[x > 0.8]`` (x3), a bowl ``(x - 1/2)^2`` (x4) and a V ``|x - 1/2|`` (x5),
and ``x8`` playing no part. The coefficients make the variance of ``f``
under the uniform measure 1, and the share each term explains exact: the main
effects of x1..x8 explain 0.28, 0.20, 0.145, 0.105, 0.075, 0.055, 0.04 and 0,
and the pair (x3, x5) the remaining 0.10 (a centred product has no main
effect). ``hps importance`` should rank x1 > x2 > ... > x7 > x8 and find the
pair; the benchmark ``tests/perf/bench_importance.py`` checks it against
Optuna's importance evaluators. Exact and instantaneous.
"""
from hpsearch import HpProblem

Problem = HpProblem(objective="objective", direction="minimize", kind="synthetic")
for i in range(1, 9):
    Problem.add_dim(f"x{i}", (0.0, 1.0), default=0.5)
