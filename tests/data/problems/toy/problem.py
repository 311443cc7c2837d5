"""Toy problem whose run() behaves as the 'mode' dimension says (for evaluator tests)."""
from hpsearch import HpProblem

Problem = HpProblem(objective="objective", direction="minimize")
Problem.add_dim("mode", ["ok", "raise", "nan", "sleep", "exit", "kill", "checkpoint"], default="ok")
Problem.add_dim("x", (0.0, 1.0), default=0.5)
Problem.add_dim("sleep", (0.0, 60.0), default=0.0)
