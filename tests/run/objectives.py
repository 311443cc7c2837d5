"""Run functions defined at module level in an importable file: what worker processes can import."""
from __future__ import annotations

import os

from hpsearch import HpProblem


def quadratic(config):
    """Minimum 0 at x = 2, y = "b"."""
    return (config["x"] - 2.0) ** 2 + (0.0 if config["y"] == "b" else 1.0)


def quadratic_with_pid(config, trial):
    """The quadratic, and which process evaluated it."""
    return {"loss": quadratic(config), "pid": os.getpid(), "budget": trial.budget}


def space(objective: str = "objective") -> HpProblem:
    problem = HpProblem(objective=objective, direction="minimize")
    problem.add_dim("x", (-5.0, 5.0), default=0.0)
    problem.add_dim("y", ["a", "b", "c"], default="a")
    return problem
