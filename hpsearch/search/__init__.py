"""Search: schedulers (which budget) owning searchers (which configuration), looked up by name.

``--algo`` names are presets (:mod:`.presets`); components are imported on
first use, so ``--algo random`` never imports scikit-optimize.
"""
from __future__ import annotations

from .base import DONE, WAIT, BackendOptionError, SearchBackend, Suggestion, Told
from .presets import (
    ALIASES,
    PRESETS,
    SCHEDULERS,
    SEARCHER_ALIASES,
    SEARCHERS,
    all_options,
    backend_class,
    label,
    make_backend,
    resolve,
    route_options,
    scheduler_class,
    searcher_class,
    split_algo,
)

#: the ``--algo`` names (presets).
ALGORITHMS = PRESETS

__all__ = ["ALGORITHMS", "ALIASES", "PRESETS", "SEARCHERS", "SEARCHER_ALIASES", "SCHEDULERS",
           "make_backend", "backend_class", "scheduler_class", "searcher_class", "route_options",
           "resolve", "split_algo", "label", "all_options", "SearchBackend", "Suggestion", "Told", "WAIT",
           "DONE", "BackendOptionError"]
