"""Synthetic two-objective problems with known fronts, for the multi-objective benchmarks.

Each problem is a plain function of a configuration returning both objectives
(``f1`` and ``f2``, both minimised), an :class:`~hpsearch.problem.space.HpProblem`
declaring its space, reference point and hypervolume optimum, and its true
front (``front(name)``), so that regret = optimum - hypervolume.

* ``zdt``: ZDT1-type (convex front ``f2 = 1 - sqrt(f1)``). ``x1`` places a point
  along the front; the distance variables ``x2..x5`` must sit at interior
  values (0.3, 0.65, 0.45, 0.7), not at a bound, and the categorical
  ``variant`` adds to the distance function unless it is ``"b"``. So drawing
  the box's corners or bounds does not solve it.
* ``dtlz``: DTLZ2-type (concave quarter circle of radius 1). ``x1`` is the
  angle; ``x2..x4`` must sit at (0.25, 0.7, 0.6); ``variant`` as above.
* ``zdt_mf``: ``zdt`` with a resource ``epochs`` in 1..27: at ``epochs = b``
  both objectives carry Gaussian noise of standard deviation
  ``NOISE * (1 - b / 27)`` (none at the full budget), drawn from a generator
  seeded by the configuration and the budget, so an evaluation is
  reproducible. Its front and optimum are those of ``zdt``.

Reference point (1.1, 1.1) for all three. Shared by ``tests/perf/bench_mo.py``
and the bundled benchmark folders.
"""
from __future__ import annotations

import math
import zlib
from functools import cache

import numpy as np

from hpsearch.problem import pareto
from hpsearch.problem.space import HpProblem

__all__ = ["PROBLEMS", "REFERENCE", "NOISE", "MAX_EPOCHS", "zdt", "dtlz", "zdt_mf", "make_problem", "front",
           "hypervolume_optimum", "evaluate", "losses"]

REFERENCE = (1.1, 1.1)
NOISE = 0.25
MAX_EPOCHS = 27
PROBLEMS = ("zdt", "dtlz", "zdt_mf")

_ZDT_CENTRES = (0.3, 0.65, 0.45, 0.7)
_DTLZ_CENTRES = (0.25, 0.7, 0.6)
#: what the categorical adds to the distance function (only "b" is on the front).
VARIANT_PENALTY = {"a": 0.6, "b": 0.0, "c": 0.3, "d": 1.0}


def zdt(config: dict) -> dict:
    """ZDT1-type: f1 = x1, f2 = g (1 - sqrt(f1 / g)), g = 1 + 9 mean((x_i - c_i)^2) + penalty."""
    d = [(config[f"x{i + 2}"] - c) ** 2 for i, c in enumerate(_ZDT_CENTRES)]
    g = 1.0 + 9.0 * sum(d) / len(d) + VARIANT_PENALTY[config["variant"]]
    f1 = float(config["x1"])
    return {"f1": f1, "f2": g * (1.0 - math.sqrt(f1 / g))}


def dtlz(config: dict) -> dict:
    """DTLZ2-type: (1 + g) (cos, sin)(pi x1 / 2), g = sum((x_i - c_i)^2) + penalty."""
    g = sum((config[f"x{i + 2}"] - c) ** 2 for i, c in enumerate(_DTLZ_CENTRES)) + VARIANT_PENALTY[config["variant"]]
    a = math.pi * float(config["x1"]) / 2
    return {"f1": (1.0 + g) * math.cos(a), "f2": (1.0 + g) * math.sin(a)}


def zdt_mf(config: dict) -> dict:
    """``zdt`` at ``config["epochs"]``, noisier the lower the budget (see the module docstring)."""
    true = zdt(config)
    b = float(config["epochs"])
    sd = NOISE * (1.0 - b / MAX_EPOCHS)
    if sd <= 0:
        return true
    key = repr(sorted((k, round(float(v), 12) if not isinstance(v, str) else v) for k, v in config.items()))
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    e = rng.normal(0.0, sd, size=2)
    return {"f1": true["f1"] + float(e[0]), "f2": true["f2"] + float(e[1])}


_FUNCTIONS = {"zdt": zdt, "dtlz": dtlz, "zdt_mf": zdt_mf}


def evaluate(name: str, config: dict) -> dict:
    """The problem's objectives at ``config``."""
    return _FUNCTIONS[name](config)


def losses(name: str, config: dict) -> tuple[float, float]:
    """The objectives as a loss tuple (both are minimised)."""
    v = evaluate(name, config)
    return (v["f1"], v["f2"])


def front(name: str, n: int = 20001) -> np.ndarray:
    """``n`` points of the true front, as an ``(n, 2)`` array."""
    t = np.linspace(0.0, 1.0, n)
    if name in ("zdt", "zdt_mf"):
        return np.column_stack([t, 1.0 - np.sqrt(t)])
    if name == "dtlz":
        return np.column_stack([np.cos(np.pi * t / 2), np.sin(np.pi * t / 2)])
    raise KeyError(name)


@cache
def hypervolume_optimum(name: str) -> float:
    """The true front's hypervolume against :data:`REFERENCE` (a dense front, to ~1e-4).

    The closed forms: ``zdt`` 1.21 - 1/3 = 0.87667 (within the box), ``dtlz`` 1.21 - pi/4.
    """
    return pareto.hypervolume(front(name), REFERENCE)


def make_problem(name: str) -> HpProblem:
    """The problem's space, objectives, reference point and hypervolume optimum."""
    p = HpProblem(objectives={"f1": "minimize", "f2": "minimize"}, kind="synthetic",
                  reference_point={"f1": REFERENCE[0], "f2": REFERENCE[1]},
                  hypervolume_optimum=hypervolume_optimum(name))
    n = 5 if name in ("zdt", "zdt_mf") else 4
    for i in range(1, n + 1):
        p.add_dim(f"x{i}", (0.0, 1.0))
    p.add_dim("variant", ["a", "b", "c", "d"])
    if name == "zdt_mf":
        p.add_dim("epochs", (1, MAX_EPOCHS), resource=True)
    return p
