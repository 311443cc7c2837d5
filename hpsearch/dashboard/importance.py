"""The importance panel's data: fANOVA shares per budget and the marginals of the top hyperparameters.

Computed on demand from a run snapshot (:func:`hpsearch.reporting.importance.importance_by_budget`,
the numbers ``hps importance`` prints) and cached with it: a snapshot is replaced when the run's
store changes, so the panel follows a live run without recomputing between changes.
"""
from __future__ import annotations

import math
from typing import Any

from ..reporting.importance import Importance, ImportanceUnavailable, importance_by_budget
from ..reporting.importance_plots import PAIRS_AMONG, TOP_MARGINALS
from .query import RunSnapshot

__all__ = ["importance_data"]

CACHE_KEY = "importance"


def _num(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _result(r: Importance) -> dict[str, Any]:
    return {"budget": r.budget, "evaluations": r.n_evaluations, "trees": r.n_trees,
            "seconds": round(r.seconds, 3),
            "parameters": [{"name": n, "share": r.shares[n], "spread": r.spread[n]} for n in r.ranking],
            "pairs": [{"names": list(p), "share": r.pairs[p], "spread": r.pair_spread[p]}
                      for p in r.pair_ranking]}


def _marginal(r: Importance, names: tuple[str, ...]) -> dict[str, Any]:
    m = r.marginal(*names)
    return {"names": list(m.names), "values": [list(v) for v in m.values],
            "mean": [[_num(x) for x in row] for row in m.mean.tolist()] if m.mean.ndim == 2
            else [_num(x) for x in m.mean.tolist()],
            "spread": m.spread.tolist(), "categorical": list(m.categorical), "log_scale": list(m.log_scale),
            "active_share": m.active_share}


def importance_data(snap: RunSnapshot) -> dict[str, Any]:
    """``{"results": [per budget, largest first], "marginals": [...], "error": None}``, or with
    ``error`` saying why there is nothing yet (too few successful evaluations)."""
    cached = snap.derived.get(CACHE_KEY)
    if cached is not None:
        return cached
    try:
        results = importance_by_budget(snap.history, snap.space, budget="all", where=snap.path.name,
                                       pairs=PAIRS_AMONG, fix=snap.settings.get("fix"))
    except ImportanceUnavailable as exc:  # too few evaluations, or too many activity cells
        data: dict[str, Any] = {"results": [], "marginals": [], "error": str(exc)}
    else:
        main = results[0]  # the largest budget with enough evaluations
        tops = [(n,) for n in main.ranking[:TOP_MARGINALS]] + list(main.pair_ranking[:1])
        if not main.n_trees:  # a constant objective: no marginal
            tops = []
        data = {"results": [_result(r) for r in results], "budget": main.budget,
                "marginals": [_marginal(main, names) for names in tops], "error": None}
    snap.derived[CACHE_KEY] = data
    return data
