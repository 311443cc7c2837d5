"""DTLZ2 with a shifted Pareto set and a categorical penalty: see problem.py for the formula."""
import math

CENTRE = (0.35, 0.72, 0.18, 0.55)
PENALTY = {"a": 0.25, "b": 0.5, "c": 0.0}


def run(config):
    g = sum((config[f"x{i}"] - c) ** 2 for i, c in zip(range(3, 7), CENTRE)) + PENALTY[config["variant"]]
    a, b = math.pi * config["x1"] / 2, math.pi * config["x2"] / 2
    r = 1.0 + g
    return {"f1": r * math.cos(a) * math.cos(b), "f2": r * math.cos(a) * math.sin(b), "f3": r * math.sin(a)}
