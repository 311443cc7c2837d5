"""Search: schedulers (which budget) owning searchers (which configuration), looked up by name.

``--algo`` names are presets (:mod:`.presets`); components are imported on
first use, so ``--algo random`` never imports scikit-optimize. The engine talks
to a :class:`Scheduler` (made by :func:`make_scheduler`).
"""
from __future__ import annotations

from .base import DONE, WAIT, OptionError, Suggestion, Told
from .presets import (
    ALIASES,
    PRESETS,
    SCHEDULERS,
    SEARCHER_ALIASES,
    SEARCHERS,
    algo_scheduler_class,
    all_options,
    label,
    make_scheduler,
    resolve,
    route_options,
    scheduler_class,
    searcher_class,
    split_algo,
)
from .schedulers.base import Scheduler

#: the ``--algo`` names (presets).
ALGORITHMS = PRESETS

# The previous release's names, kept for code written against it.
SearchBackend = Scheduler
BackendOptionError = OptionError
make_backend = make_scheduler
backend_class = algo_scheduler_class

__all__ = ["ALGORITHMS", "ALIASES", "PRESETS", "SEARCHERS", "SEARCHER_ALIASES", "SCHEDULERS",
           "make_scheduler", "algo_scheduler_class", "scheduler_class", "searcher_class", "route_options",
           "resolve", "split_algo", "label", "all_options", "Scheduler", "Suggestion", "Told", "WAIT",
           "DONE", "OptionError", "SearchBackend", "BackendOptionError", "make_backend", "backend_class"]
