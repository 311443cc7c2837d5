"""A comparison directory (``hps compare``) for Python code, read-only: ``hpsearch.load_comparison``.

The summary is the table ``hps compare --format csv`` prints (from
:func:`~hpsearch.reporting.comparison.summarise`), as a pandas DataFrame; each
run of the comparison is a :class:`~hpsearch.store.view.Run`.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store import Run, is_run_dir
from ..store.comparisons import load_settings, run_name
from .comparison import Comparison, summarise, table_rows

__all__ = ["LoadedComparison", "load_comparison"]


@dataclass
class LoadedComparison:
    """A comparison directory, read-only.

    Attributes:
        out: the directory.
        settings: its ``compare.json`` (problem, algorithms, seeds, budget, unit, ...).
        runs: each run started so far, by name (``<algo>-seed<k>``).
    """

    out: Path
    settings: dict
    runs: dict[str, Run]

    def summary(self) -> Comparison:
        """The comparison as ``hps compare`` reads it: curves per run, rows per algorithm."""
        return summarise(self.out)

    def table(self) -> Any:
        """The per-algorithm table as a pandas DataFrame, one row per algorithm: the best (or regret,
        with a known optimum) at 10, 25, 50 and 100% of the budget (median and quartiles over seeds),
        evaluations, resource spent and wall time (medians), with the budget and its unit (the columns of
        ``hps compare --format csv``; NaN where no run has a full-budget result yet)."""
        import pandas as pd

        head, rows = table_rows(self.summary())
        return pd.DataFrame([[math.nan if c is None else c for c in row] for row in rows], columns=head)


def load_comparison(out: str | os.PathLike) -> LoadedComparison:
    """Open a comparison directory (``hps compare --out DIR``) read-only.

    Raises:
        CompareError: not a comparison directory (no ``compare.json``), or an unreadable one.
    """
    out = Path(out)
    settings = load_settings(out)
    runs = {}
    for algo in settings.get("algos", []):
        for seed in range(int(settings.get("seeds", 0))):
            name = run_name(algo, seed)
            if is_run_dir(out / name):
                runs[name] = Run(out / name)
    return LoadedComparison(out, settings, runs)
