"""Hartmann 6-D (Dixon and Szego's constants); imports its constants from a sibling module."""
import math

from hartmann_constants import ALPHA, A, P


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6))
        total -= ALPHA[i] * math.exp(-inner)
    return total


def run(config):
    return hartmann6([config[f"x{i}"] for i in range(6)])
