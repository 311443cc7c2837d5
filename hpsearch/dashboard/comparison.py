"""The compare page's data: the same curves and table as ``hps compare`` (compare.png, its table)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..run.compare import _best_within, _display, format_table, summarise

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
    top = max([float(s["budget"])] + [float(c.spent[-1]) for cs in cmp.curves.values() for c in cs
                                      if len(c.spent)])
    grid = np.linspace(0.0, top, GRID_POINTS)
    algos = []
    for algo, cs in cmp.curves.items():
        values = np.array([[_best_within(c, x) for x in grid] for c in cs])
        with np.errstate(invalid="ignore"):
            q = np.percentile(values, [50, 25, 75], axis=0)
        q = np.where(np.isfinite(q), q, np.nan)
        q = np.vectorize(lambda v: _display(s, v) if np.isfinite(v) else np.nan)(q)
        algos.append({"algo": algo, "seeds": len(cs), "median": _finite(q[0]),
                      "lo": _finite(np.fmin(q[1], q[2])), "hi": _finite(np.fmax(q[1], q[2])),
                      "runs": [{"name": c.name, "seed": c.seed, "key": run_keys.get(c.name)} for c in cs]})
    return {
        "problem": s.get("problem_name"), "objective": s.get("objective"), "metric": cmp.metric,
        "unit": s["unit"], "budget": s["budget"], "max_resource": s.get("max_resource"),
        "grid": [float(x) for x in grid], "algos": algos,
        "table": json.loads(format_table(cmp, "json")),
    }
