"""The compare page's data: the same curves and table as ``hps compare`` (compare.png, its table)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..reporting.comparison import bands, budget_grid, format_table, summarise

__all__ = ["comparison_data", "GRID_POINTS"]

#: Points of the common resource grid the median and IQR are taken on (as compare.png).
GRID_POINTS = 200


def _finite(a: np.ndarray) -> list:
    return [float(x) if math.isfinite(x) else None for x in a]


def comparison_data(out: Path, run_keys: dict[str, str]) -> dict:
    """Median and interquartile band of the best-so-far per algorithm on a common grid, and the table.

    Args:
        out: the comparison directory.
        run_keys: run directory name -> dashboard key (to link each run).
    """
    cmp = summarise(out)
    s = cmp.settings
    algos = []
    for b in bands(cmp, GRID_POINTS):
        runs = [{"name": c.name, "seed": c.seed, "key": run_keys.get(c.name)} for c in b.runs]
        algos.append({"algo": b.algo, "seeds": len(b.runs), "median": _finite(b.median),
                      "lo": _finite(b.lo), "hi": _finite(b.hi), "runs": runs})
    return {
        "problem": s.get("problem_name"), "objective": s.get("objective"), "metric": cmp.metric,
        "unit": s["unit"], "budget": s["budget"], "max_resource": s.get("max_resource"),
        "grid": [float(x) for x in budget_grid(cmp, GRID_POINTS)], "algos": algos,
        "table": json.loads(format_table(cmp, "json")),
    }
