"""Which budgets a model searcher learns from under a multi-fidelity scheduler (``--fidelities``).

``largest`` (BOHB's rule, Falkner et al., ICML 2018): the model is fitted on the
observations of the largest budget with at least d + 2 successes; until some
budget has that many, proposals are random draws.

``all``: the same once some budget has d + 2 successes; until then, instead
of random draws, the model learns from every budget at once. Each budget's
losses are turned into ranks within that budget (:func:`budget_scores`:
normal scores of the ranks, failures last), so budgets whose losses live on
different scales are pooled on one scale; each budget's points count with a
weight (:func:`budget_weights`): the Kendall rank agreement (clipped at 0)
between its losses and those of the largest budget observed, over the
configurations observed at both, as HyperTune's bracket weights (Li et al.,
VLDB 2022) and MFES-HB's (Li et al., AAAI 2021) measure how far a low
fidelity can be trusted. The largest budget weighs 1, and so does a budget
with fewer than :data:`MIN_PAIRS` configurations in common with it (no
evidence yet, e.g. in the first bracket of a Hyperband pass). The model
proposes as soon as all the budgets together hold d + 2 successes, so a short
schedule (one Hyperband pass on a problem with many dimensions, where no budget
gets d + 2 results) is guided by its model rather than drawn at random.

Pooling every budget for the whole run was measured too and left out: on
mfhartmann3 (5 seeds, ``tests/perf/bench_mf.py``) its median regret at 100 %
of the budget was 8.6e-3 against 9.9e-6 for BOHB's rule, since ranks at the
full budget cannot tell apart the near-optimal configurations whose losses a
model fitted on that budget alone resolves.

    >>> w = budget_weights({1: [0.1, 0.2, 0.3, 0.4, 0.5], 9: [1.0, 2.0, 3.0, 5.0, 4.0]},
    ...                    {1: list("abcde"), 9: list("abcde")})
    >>> round(w[1], 3), w[9]
    (0.8, 1.0)
    >>> budget_scores([0.3, None, 0.1]).round(3).tolist()
    [0.0, 0.967, -0.967]
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..options import Option

__all__ = ["FIDELITIES_OPTION", "FIDELITIES", "MIN_PAIRS", "POOLED", "rank_agreement", "comparable",
           "budget_weights", "budget_scores", "top_budget"]

FIDELITIES = ("largest", "all")

#: shared by the model searchers (one ``--fidelities`` flag).
FIDELITIES_OPTION = Option(
    "fidelities", str, "largest",
    "Model searchers under hyperband or asha: 'largest' fits the model on the largest budget with d + 2 "
    "results (BOHB; random draws until one has them); 'all' does too, but until one has them fits it on "
    "every budget's results ranked within their budget, each budget weighted by its rank agreement with "
    "the largest budget (no effect under fifo).",
    choices=FIDELITIES, absent="largest")

#: configurations observed at a budget and at the largest one before the budget's agreement is trusted.
MIN_PAIRS = 5

#: what a searcher files its pooled model under (no budget is a string).
POOLED = "all budgets"


def top_budget(budgets: Sequence[Any]) -> Any:
    """The largest budget (None, fifo's one fidelity, counts as the full budget)."""
    return max(budgets, key=lambda b: math.inf if b is None else float(b))


def comparable(pairs: list[tuple[Any, Any]]) -> list[tuple[float, float]]:
    """Pairs of losses as numbers Kendall's tau can rank: tuples (several objectives) become their
    non-dominated rank among the pairs' members at the same budget."""
    if not pairs or not isinstance(pairs[0][0], tuple):
        return pairs
    from ...problem import pareto

    low = pareto.pareto_rank([a for a, _ in pairs])
    high = pareto.pareto_rank([b for _, b in pairs])
    return [(float(a), float(b)) for a, b in zip(low, high)]


def rank_agreement(pairs: list[tuple[float, float]]) -> float:
    """Kendall's tau-b between the two members of ``pairs`` (1: same ranking, -1: reversed).

    >>> rank_agreement([(1, 10), (2, 20), (3, 30)]), rank_agreement([(1, 3), (2, 2), (3, 1)])
    (1.0, -1.0)
    """
    from scipy.stats import kendalltau

    tau = kendalltau([a for a, _ in pairs], [b for _, b in pairs]).statistic
    return 0.0 if tau is None or not math.isfinite(tau) else float(tau)


def budget_weights(losses: dict[Any, list[Any]], keys: dict[Any, list[str]]) -> dict[Any, float]:
    """Each budget's weight: its rank agreement with the largest budget (see the module docstring).

    Args:
        losses: budget -> losses in observation order (None: failed; tuples for several objectives).
        keys: budget -> the configurations' keys, in the same order.
    """
    if not losses:
        return {}
    top = top_budget(list(losses))
    ref = {k: v for k, v in zip(keys[top], losses[top]) if v is not None}
    out = {}
    for b, ys in losses.items():
        if b == top:
            out[b] = 1.0
            continue
        pairs = [(v, ref[k]) for k, v in zip(keys[b], ys) if v is not None and k in ref]
        out[b] = 1.0 if len(pairs) < MIN_PAIRS else max(rank_agreement(comparable(pairs)), 0.0)
    return out


def budget_scores(values: Sequence[float | None]) -> np.ndarray:
    """Normal scores of the ranks of one budget's losses (lower is better; failures rank last, tied).

    The i-th smallest of n gets ``Phi^-1((i - 1/2) / n)``, ties their average rank, so every budget's
    scores spread alike whatever the scale of its losses.
    """
    from scipy.special import ndtri
    from scipy.stats import rankdata

    v = np.array([math.inf if x is None else float(x) for x in values])
    if not len(v):
        return v
    ranks = rankdata(v, method="average")
    return ndtri((ranks - 0.5) / len(v))
