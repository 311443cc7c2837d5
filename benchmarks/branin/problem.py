"""Branin-Hoo function on [-5, 10] x [0, 15]: minimise, three global optima of 0.397887."""
from hpsearch import HpProblem

Problem = HpProblem(objective="objective", direction="minimize", optimum=0.397887357729739,
                    kind="synthetic")
Problem.add_dim("x1", (-5.0, 10.0), default=2.5)
Problem.add_dim("x2", (0.0, 15.0), default=7.5)
