"""Hyperband's bracket schedule (Li et al., JMLR 18, 2018, Algorithm 1), in exact arithmetic.

No floating-point logarithms: the rung levels come from
:func:`~hpsearch.search.fidelity.rung_ladder` and every quantity is an ``int``
or a :class:`fractions.Fraction` until the end, so the schedule is exactly the
paper's. Example (the paper's R=81, eta=3)::

    >>> [(b.s, [(r.n, r.r) for r in b.rungs]) for b in plan(81)][1]
    (3, [(34, 3), (11, 9), (3, 27), (1, 81)])
    >>> total_resource(plan(81)), total_resource(plan(81), warm_start=False)
    (1581, 1902)
"""
from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

from .fidelity import Number, as_fraction, rung_ladder

__all__ = ["Rung", "Bracket", "plan", "s_max", "total_resource", "total_evaluations", "as_fraction",
           "plan_table"]


class Rung(NamedTuple):
    """One rung: ``n`` configurations each trained to the *cumulative* resource ``r``."""

    n: int
    r: int | float


class Bracket(NamedTuple):
    """Bracket ``s``: its rungs i = 0..s (successive halving with eta)."""

    s: int
    rungs: tuple[Rung, ...]


def s_max(max_resource: Number, eta: int = 3, min_resource: Number = 1) -> int:
    """The largest s with ``min_resource * eta**s <= max_resource`` (floor(log_eta(R/r_min)))."""
    return len(rung_ladder(max_resource, eta, min_resource)) - 1


def plan(max_resource: Number, eta: int = 3, min_resource: Number = 1, integer: bool = True,
         ) -> list[Bracket]:
    """The brackets s = s_max, ..., 0 of one Hyperband pass.

    ``n = ceil(B/R * eta**s / (s+1))`` with ``B = (s_max+1) R``, ``n_i = floor(n eta**-i)``,
    ``r_i = R eta**(i-s)``: bracket s runs the top s+1 rungs of
    :func:`~hpsearch.search.fidelity.rung_ladder`. With ``integer`` resources r_i is
    rounded to the nearest integer (ties up) and never below ``min_resource``;
    otherwise it is a float.

    Args:
        max_resource: R, the most resource one configuration gets.
        eta: the reduction factor (an integer >= 2).
        min_resource: r_min, the least resource in any rung.
        integer: the resource is an integer (epochs, steps).
    """
    ladder = rung_ladder(max_resource, eta, min_resource, integer=integer)
    top = len(ladder) - 1
    out = []
    for s in range(top, -1, -1):
        n = _ceil(Fraction((top + 1) * eta**s, s + 1))  # B/R = s_max + 1
        rungs = tuple(Rung(n // eta**i, _level(ladder[top - s + i])) for i in range(s + 1))
        out.append(Bracket(s, rungs))
    return out


def _ceil(x: Fraction) -> int:
    return -((-x.numerator) // x.denominator)


def _level(r: int | Fraction) -> int | float:
    return r if isinstance(r, int) else float(r)


def total_resource(brackets: list[Bracket], warm_start: bool = True) -> int | float:
    """Resource one pass spends: with warm start ``sum n_i (r_i - r_(i-1))``, else ``sum n_i r_i``."""
    total = Fraction(0)
    floats = False
    for b in brackets:
        previous: Number = 0
        for rung in b.rungs:
            floats = floats or isinstance(rung.r, float)
            total += rung.n * (as_fraction(rung.r) - (as_fraction(previous) if warm_start else 0))
            previous = rung.r
    if floats:
        return float(total)
    return int(total) if total.denominator == 1 else float(total)


def total_evaluations(brackets: list[Bracket]) -> int:
    """Evaluations one pass runs (every rung of every bracket)."""
    return sum(rung.n for b in brackets for rung in b.rungs)


def plan_table(brackets: list[Bracket]) -> tuple[list[str], list[list]]:
    """Header and rows for printing a plan: one row per rung.

    Columns: bracket s, rung i, n_i, r_i, the resource the rung adds to each
    configuration with warm start (r_i - r_(i-1)), and the rung's total resource
    with and without warm start.
    """
    head = ["bracket", "rung", "n_i", "r_i", "r_i - r_i-1", "warm", "cold"]
    rows = []
    for b in brackets:
        previous: Number = 0
        for i, rung in enumerate(b.rungs):
            step = _plain(as_fraction(rung.r) - as_fraction(previous), rung.r)
            rows.append([b.s, i, rung.n, rung.r, step, _plain(rung.n * as_fraction(step), rung.r),
                         _plain(rung.n * as_fraction(rung.r), rung.r)])
            previous = rung.r
    return head, rows


def _plain(x: Fraction, like: int | float) -> int | float:
    return float(x) if isinstance(like, float) else int(x)
