"""A conditional synthetic function: three branches with their own sub-spaces; minimise, optimum 0.

``branch`` picks one of three sub-functions, each with its own dimensions
(active only under it). The global optimum, 0, lies in branch ``b`` at
``n_b=4, y_b=0.3, z_b=0.7``, where ``z_b`` exists only when ``n_b >= 3`` (a
condition on a condition). Branch ``a`` bottoms out at 1 and branch ``c`` at
0.27, so a search must find the right branch and then the right sub-branch.
Branch ``c`` forbids ``mode="slow"`` with ``k_c=3``. Exact and instantaneous,
for tests and ``hps compare``.
"""
from hpsearch import HpProblem

Problem = HpProblem(objective="objective", direction="minimize", optimum=0.0, kind="synthetic")
Problem.add_dim("branch", ["a", "b", "c"], default="a")
Problem.add_dim("x_a", (-5.0, 5.0, "normal"), mu=0.0, sigma=2.0, default=0.0, when={"branch": "a"})
Problem.add_dim("n_b", (1, 4), default=2, when={"branch": "b"})
Problem.add_dim("y_b", (0.0, 1.0), default=0.5, when={"branch": "b"})
Problem.add_dim("z_b", (0.0, 1.0), default=0.5, when={"n_b": [3, 4]})
Problem.add_dim("mode", ["fast", "slow"], default="fast", when={"branch": "c"})
Problem.add_dim("k_c", (1, 3), default=2, when={"branch": "c"})
Problem.add_dim("w_c", (0.0, 1.0), step=0.1, default=0.0, when={"branch": "c"})
Problem.add_forbidden(mode="slow", k_c=3)
