"""Branin-Hoo: a=1, b=5.1/(4 pi^2), c=5/pi, r=6, s=10, t=1/(8 pi)."""
import math


def branin(x1, x2):
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


def run(config):
    return branin(config["x1"], config["x2"])
