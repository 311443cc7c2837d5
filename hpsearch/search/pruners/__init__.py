"""Pruners: stop a running trial from its streamed reports (``--pruner NAME``), looked up lazily.

A pruner sits on top of any searcher: the engine hands it each report of a
running trial (the objective as a loss, at a step) and stops the trial when it
says so; run functions need no checkpoint code, only ``trial.report``.
"""
from __future__ import annotations

import importlib
from typing import Any

from ...problem.space import HpProblem
from ..options import Option
from .base import PREFIX, Pruner, PrunerOptionError

__all__ = ["PRUNERS", "pruner_class", "make_pruner", "all_options", "Pruner", "Option", "PrunerOptionError",
           "PREFIX"]

#: --pruner name -> "module:Class" (relative to this package).
PRUNERS: dict[str, str] = {
    "median": "median:MedianPruner",
    "asha": "asha:AshaPruner",
    "hyperband": "hyperband:HyperbandPruner",
}


def pruner_class(name: str) -> type[Pruner]:
    """The pruner class for a ``--pruner`` name."""
    if name not in PRUNERS:
        raise PrunerOptionError(f"--pruner: unknown pruner {name!r} "
                                f"(choose from {', '.join(sorted(PRUNERS))})")
    module, cls = PRUNERS[name].split(":")
    return getattr(importlib.import_module(f".{module}", __name__), cls)


def make_pruner(name: str | None, problem: HpProblem, options: dict[str, Any] | None = None) -> Pruner | None:
    """Build a pruner (None for no pruner); options set to None keep the pruner's defaults."""
    options = {k: v for k, v in (options or {}).items() if v is not None}
    if name is None:
        if options:
            raise PrunerOptionError(f"--{PREFIX}{next(iter(options)).replace('_', '-')}: needs --pruner")
        return None
    return pruner_class(name)(problem, **options)


def all_options() -> dict[str, Option]:
    """Every pruner's options by name (the CLI makes one ``--pruner-NAME`` flag of each)."""
    out: dict[str, Option] = {}
    for name in PRUNERS:
        for opt in pruner_class(name).OPTIONS:
            out.setdefault(opt.name, opt)
    return out
