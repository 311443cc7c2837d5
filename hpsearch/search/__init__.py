"""Search backends behind one ask/tell interface, looked up by ``--algo`` name.

Backends are imported on first use, so ``--algo random`` never imports
scikit-optimize.
"""
from __future__ import annotations

import importlib
from typing import Any

from ..space import HpProblem
from .base import DONE, WAIT, BackendOptionError, SearchBackend, Suggestion, Told

__all__ = ["ALGORITHMS", "ALIASES", "make_backend", "backend_class", "SearchBackend", "Suggestion",
           "Told", "WAIT", "DONE", "BackendOptionError"]

#: --algo name -> "module:Class" (relative to this package).
ALGORITHMS: dict[str, str] = {
    "random": "random:RandomSearch",
    "hyperband": "hyperband:HyperbandSearch",
    "asha": "asha:AshaSearch",
    "bayesian": "bayesian:BayesianSearch",
}
ALIASES: dict[str, str] = {"skopt": "bayesian"}


def backend_class(algo: str) -> type[SearchBackend]:
    """The backend class for an ``--algo`` name or alias."""
    name = ALIASES.get(algo, algo)
    if name not in ALGORITHMS:
        raise BackendOptionError(
            f"--algo: unknown algorithm {algo!r} (choose from {', '.join(sorted(ALGORITHMS))})"
        )
    module, cls = ALGORITHMS[name].split(":")
    return getattr(importlib.import_module(f".{module}", __name__), cls)


def make_backend(algo: str, problem: HpProblem, seed: int, options: dict[str, Any]) -> SearchBackend:
    """Build a backend; options set to None are left at the backend's default."""
    cls = backend_class(algo)
    return cls(problem, seed, **{k: v for k, v in options.items() if v is not None})
