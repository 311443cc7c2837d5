"""Evaluators, looked up by ``--evaluator`` name and imported on first use."""
from __future__ import annotations

import importlib
from pathlib import Path

from .base import Evaluator, EvaluatorError

__all__ = ["EVALUATORS", "DEFAULT_EVALUATOR", "make_evaluator", "Evaluator", "EvaluatorError"]

#: --evaluator name -> "module:Class" (relative to this package).
EVALUATORS: dict[str, str] = {
    "serial": "serial:SerialEvaluator",
    "process": "process:ProcessEvaluator",
    "dask": "dask:DaskEvaluator",
    "simulated": "simulated:SimulatedEvaluator",
}
#: what ``--evaluator`` means when not given.
DEFAULT_EVALUATOR = "process"


def make_evaluator(name: str, folder: Path | None, workers: int = 1, trial_timeout: float | None = None,
                   run_dir: Path | None = None, **options) -> Evaluator:
    """Build an evaluator by name; unknown names are a usage error."""
    if name not in EVALUATORS:
        raise EvaluatorError(f"--evaluator: unknown evaluator {name!r} "
                             f"(choose from {', '.join(sorted(EVALUATORS))})")
    module, cls = EVALUATORS[name].split(":")
    klass = getattr(importlib.import_module(f".{module}", __name__), cls)
    return klass(folder, workers=workers, trial_timeout=trial_timeout, run_dir=run_dir, **options)
