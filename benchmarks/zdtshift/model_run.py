"""ZDT1 with a shifted Pareto set and a categorical penalty: see problem.py for the formula."""
import math

CENTRE = (0.27, 0.61, 0.42, 0.76)
PENALTY = {"a": 0.6, "b": 0.0, "c": 0.3, "d": 0.9}


def distance(config, centre=CENTRE):
    """ZDT1's g: 1 at the Pareto set (x_i = centre_i and variant b)."""
    xs = [config[f"x{i}"] for i in range(2, 6)]
    return 1.0 + 9.0 * sum(abs(x - c) for x, c in zip(xs, centre)) / len(xs) + PENALTY[config["variant"]]


def objectives(x1, g):
    """(f1, f2) for position x1 and distance g."""
    return x1, g * (1.0 - math.sqrt(x1 / g))


def run(config):
    f1, f2 = objectives(config["x1"], distance(config))
    return {"f1": f1, "f2": f2}
