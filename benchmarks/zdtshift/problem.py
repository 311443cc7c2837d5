"""ZDT1-type two-objective problem, its Pareto set moved off the box's bounds, a categorical that matters.

Minimise ``f1 = x1`` and ``f2 = g (1 - sqrt(f1 / g))`` with ``g = 1 + 9
mean_i |x_i - c_i| + penalty(variant)`` over ``x2..x5`` (Zitzler, Deb and
Thiele 2000, ZDT1, whose Pareto set ``x_i = 0`` lies on the box's bounds). Here
the Pareto set is ``x_i = c_i`` with ``c = (0.27, 0.61, 0.42, 0.76)``, inside
the box, and only ``variant = "b"`` has no penalty (``a``: 0.6, ``c``: 0.3,
``d``: 0.9), so sampling the bounds or ignoring the categorical does not reach
the front.

The Pareto front is ``f2 = 1 - sqrt(f1)`` for ``f1`` in [0, 1]; against the
reference point (1.1, 1.1) its hypervolume is ``0.1 + 2/3 + 0.11 =
0.876667`` (declared, so reports show hypervolume regret).
"""
from hpsearch import HpProblem

Problem = HpProblem(objectives={"f1": "minimize", "f2": "minimize"},
                    reference_point={"f1": 1.1, "f2": 1.1}, hypervolume_optimum=0.1 + 2 / 3 + 0.11,
                    kind="synthetic")
Problem.add_dim("x1", (0.0, 1.0), default=0.5)
for i in range(2, 6):
    Problem.add_dim(f"x{i}", (0.0, 1.0), default=0.5)
Problem.add_dim("variant", ["a", "b", "c", "d"], default="a")
