"""DTLZ2-type three-objective problem, its Pareto set moved inside the box, a categorical that matters.

Minimise ``f1 = (1 + g) cos(pi x1 / 2) cos(pi x2 / 2)``, ``f2 = (1 + g)
cos(pi x1 / 2) sin(pi x2 / 2)`` and ``f3 = (1 + g) sin(pi x1 / 2)`` with ``g =
sum_i (x_i - c_i)^2 + penalty(variant)`` over ``x3..x6`` (Deb, Thiele,
Laumanns and Zitzler 2002, DTLZ2, whose Pareto set ``x_i = 0.5`` is the box's
centre). Here ``c = (0.35, 0.72, 0.18, 0.55)`` and only ``variant = "c"`` has no
penalty (``a``: 0.25, ``b``: 0.5), so the front is not reached by sampling the
bounds or the centre, nor with the wrong categorical.

The Pareto front is the unit sphere's positive octant; against the reference
point (1.1, 1.1, 1.1) its hypervolume is ``1.1^3 - pi / 6 = 0.807401``
(declared, so reports show hypervolume regret).
"""
import math

from hpsearch import HpProblem

Problem = HpProblem(objectives={"f1": "minimize", "f2": "minimize", "f3": "minimize"},
                    reference_point={"f1": 1.1, "f2": 1.1, "f3": 1.1},
                    hypervolume_optimum=1.1**3 - math.pi / 6, kind="synthetic")
Problem.add_dim("x1", (0.0, 1.0), default=0.5)
Problem.add_dim("x2", (0.0, 1.0), default=0.5)
for i in range(3, 7):
    Problem.add_dim(f"x{i}", (0.0, 1.0), default=0.5)
Problem.add_dim("variant", ["a", "b", "c"], default="a")
