"""The objective, and the exact variance shares of its functional-ANOVA decomposition."""
import math

#: The share of the variance each dimension explains alone (the main effects), exact.
SHARES = {"x1": 0.28, "x2": 0.20, "x3": 0.145, "x4": 0.105, "x5": 0.075, "x6": 0.055, "x7": 0.04, "x8": 0.0}
#: The share the pair explains beyond its main effects; every other pair explains nothing.
PAIR_SHARES = {("x3", "x5"): 0.10}

# Each term and its variance under U[0, 1].
TERMS = {
    "x1": (lambda x: math.sin(2 * math.pi * x), 1 / 2),
    "x2": (lambda x: x, 1 / 12),
    "x3": (lambda x: 1.0 if x > 0.8 else 0.0, 0.8 * 0.2),
    "x4": (lambda x: math.exp(2 * x), (math.e ** 4 - 1) / 4 - ((math.e ** 2 - 1) / 2) ** 2),
    "x5": (lambda x: math.sqrt(x), 1 / 2 - 4 / 9),
    "x6": (lambda x: x, 1 / 12),
    "x7": (lambda x: math.sin(2 * math.pi * x), 1 / 2),
}
#: a_i = sqrt(share_i / Var g_i), so that a_i g_i(x_i) has variance share_i (the total is 1).
COEF = {n: math.sqrt(SHARES[n] / var) for n, (_g, var) in TERMS.items()}
#: b (x3 - 1/2)(x5 - 1/2) has variance b^2 / 144.
PAIR_COEF = math.sqrt(PAIR_SHARES[("x3", "x5")] * 144)


def objective(x: dict) -> float:
    """f at a configuration (a dict x1..x8)."""
    main = sum(COEF[n] * g(x[n]) for n, (g, _v) in TERMS.items())
    return main + PAIR_COEF * (x["x3"] - 0.5) * (x["x5"] - 0.5)


def run(config):
    return objective(config)
