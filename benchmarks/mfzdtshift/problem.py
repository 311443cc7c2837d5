"""Multi-fidelity ZDT1-type problem (zdtshift with epochs): low budgets are biased and noisy.

At the full budget (81 epochs) the values are exactly those of ``zdtshift``
(Pareto front ``f2 = 1 - sqrt(f1)``, hypervolume 0.876667 against (1.1,
1.1)). After ``b`` epochs, at fidelity ``z = log(b) / log(81)`` (the Hyperband
rungs 1, 3, 9, 27, 81 sit at z = 0, 1/4, 1/2, 3/4, 1), the distance optimum is
moved by ``0.15 (1 - z)`` in every coordinate (a low budget points the wrong
way) and both objectives get a Gaussian noise of standard deviation ``0.2 (1 -
z)``, drawn from a generator seeded by the trial's seed and the budget (so a run
is reproducible). The values depend only on the budget, so warm start is exact.
The space is zdtshift's own (copied with :meth:`~hpsearch.HpProblem.add_dims_from`)
plus the resource.
"""
from pathlib import Path

from hpsearch import HpProblem, load_problem

ZDTSHIFT = Path(__file__).resolve().parent.parent / "zdtshift"

Problem = HpProblem(objectives={"f1": "minimize", "f2": "minimize"},
                    reference_point={"f1": 1.1, "f2": 1.1}, hypervolume_optimum=0.1 + 2 / 3 + 0.11,
                    kind="synthetic")
Problem.add_dims_from(load_problem(ZDTSHIFT, with_run=False).problem)
Problem.add_dim("epochs", (1, 81), default=9, resource=True)
