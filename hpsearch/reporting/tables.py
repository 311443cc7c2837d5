"""Tables of results: best-first ranking, text/CSV/JSON output. Reads only the store."""
from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from ..store import RunHistory, RunStore, StoredTrial
from ..trial import Status

__all__ = ["ranked", "results_rows", "format_rows", "format_value", "front_lines", "format_point"]


def ranked(store: RunStore, all_rungs: bool = False, include_failed: bool = False,
           history: RunHistory | None = None, pareto_only: bool = False) -> list[StoredTrial]:
    """Finished evaluations, best first (:meth:`RunHistory.ranked`: the run's incumbent first).

    For a multi-fidelity run each configuration appears once, at its highest
    rung (``all_rungs`` shows every evaluation), and larger budgets rank first.
    A multi-objective run ranks by Pareto rank, then crowding distance (the
    front first); ``pareto_only`` keeps only the front.
    Failed evaluations follow, in trial order, when ``include_failed``.
    ``history`` is the store's history when the caller has already read it.
    """
    history = history or RunHistory.from_store(store)
    if pareto_only:
        return list(history.front)
    failed = sorted((t for t in history.finished if t.status != Status.DONE), key=lambda t: t.trial_id) \
        if include_failed else []
    return history.ranked(all_rungs) + failed


def results_rows(store: RunStore, trials: Sequence[StoredTrial], history: RunHistory | None = None
                 ) -> tuple[list[str], list[list[Any]]]:
    """Header and rows for a results table (rank first, then the results.csv columns).

    A multi-objective run shows each objective under its name and a ``pareto``
    column (True on the Pareto front, from ``history``) instead of ``objective``.
    A last column ``devices`` (the GPU ids, e.g. ``2,3``) appears when any of the
    trials ran on GPUs.
    """
    mf = store.multi_fidelity
    names = store.param_names
    objectives = list(store.objectives) if store.multi_objective else []
    metrics = [m for m in store.metric_names if m not in objectives]
    gpus = any(t.devices for t in trials)
    stopped = any(t.status == Status.STOPPED for t in trials)  # then: the step each trial reached
    if objectives:
        front = (history or RunHistory.from_store(store)).pareto_ids
    head = ["rank", "trial_id", "config_id"] + (["bracket", "rung", "budget"] if mf else []) \
        + (objectives + ["pareto"] if objectives else ["objective"]) + names + [f"m:{m}" for m in metrics] \
        + ["status"] + (["step_reached"] if stopped else []) + ["duration_s"] + (["devices"] if gpus else [])
    rows = []
    for i, t in enumerate(trials, 1):
        values = ([t.metrics.get(o, t.objective if o == store.objective else None) for o in objectives]
                  + [t.trial_id in front]) if objectives else [t.objective]
        rows.append([i if t.status == Status.DONE else "-", t.trial_id, t.config_id]
                    + ([t.bracket, t.rung, t.budget] if mf else [])
                    + values + [t.params.get(n) for n in names]
                    + [t.metrics.get(m) for m in metrics] + [t.status]
                    + ([t.step_reached] if stopped else []) + [t.duration_s]
                    + ([",".join(t.devices or [])] if gpus else []))
    return head, rows


def format_point(objectives: Sequence[str], values: Sequence[float]) -> str:
    """``(f1 1.1, f2 1.1)``: a point in objective space, each value named."""
    return "(" + ", ".join(f"{n} {format_value(float(v))}" for n, v in zip(objectives, values)) + ")"


def front_lines(history: RunHistory) -> list[str]:
    """What a multi-objective run found, for the end of a run and ``hps results``: the front's size,
    its hypervolume, the reference point it is measured against (and where it comes from), and the
    regret when the problem declares the hypervolume of the true front. Empty for one objective."""
    if not history.multi_objective:
        return []
    names = list(history.objectives)
    where = " at the full budget" if history.multi_fidelity else ""
    lines = [f"Pareto front:  {len(history.front)} of {len(history.losses)} evaluations{where}"]
    if history.reference is not None:
        # the reference in each objective's own units (a maximised objective's loss is its negative)
        shown = [-r if history.objectives[n] == "maximize" else r for n, r in zip(names, history.reference)]
        source = "declared" if history.reference_declared else "nadir of this run's evaluations"
        hv = history.hypervolume()
        text = f"hypervolume:   {format_value(hv)} against {format_point(names, shown)} ({source})"
        if history.hypervolume_optimum is not None:
            text += f"; regret {format_value(history.hypervolume_regret(hv))}"
        lines.append(text)
    return lines


def format_value(v: Any) -> str:
    """Short, exact-enough text for tables."""
    if v is None:
        return ""
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.6g}"
    return str(v)


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    return v


def format_rows(head: list[str], rows: list[list[Any]], fmt: str = "table", align: str = "right") -> str:
    """Render as an aligned text table (columns aligned ``right`` or ``left``), CSV or JSON."""

    if fmt == "json":
        # NaN and infinities are not JSON: they become null (allow_nan=False proves none is left)
        return json.dumps([dict(zip(head, map(_json_value, r))) for r in rows], indent=2, allow_nan=False)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(head)
        w.writerows([["" if v is None else v for v in r] for r in rows])
        return buf.getvalue().rstrip("\n")
    cells = [head] + [[format_value(v) for v in r] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    pad = str.rjust if align == "right" else str.ljust
    lines = ["  ".join(pad(c, w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
