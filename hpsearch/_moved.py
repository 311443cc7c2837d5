"""Old module paths that still import: ``hpsearch.store`` style names from before the layout by layer.

``import hpsearch.runner`` (or ``from hpsearch.plots import plot_run``) gives the
module that now lives at its new path: the very same module object, so classes
compare equal and monkeypatching either name patches both. Nothing is imported
until an old name is asked for.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: old module path -> where it lives now.
MOVED: dict[str, str] = {
    "hpsearch.space": "hpsearch.problem.space",
    "hpsearch.loader": "hpsearch.problem.loader",
    "hpsearch.scaffold": "hpsearch.problem.scaffold",
    "hpsearch.lock": "hpsearch.store.lock",
    "hpsearch.engine": "hpsearch.run.engine",
    "hpsearch.runner": "hpsearch.run.runner",
    "hpsearch.stopping": "hpsearch.run.stopping",
    "hpsearch.compare": "hpsearch.run.compare",
    "hpsearch.report": "hpsearch.reporting.tables",
    "hpsearch.plots": "hpsearch.reporting.plots",
    "hpsearch.progress": "hpsearch.reporting.progress",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old name and loads it as the module at its new path."""

    def __init__(self) -> None:
        self._own: dict[str, tuple] = {}

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(MOVED[spec.name])
        self._own[spec.name] = (module.__spec__, module.__loader__)
        return module

    def exec_module(self, module):
        # The module already ran at its new path; the import system binds the old
        # name to it. Give it back its own spec, which creating it under the old
        # name overwrote.
        module.__spec__, module.__loader__ = self._own.pop(module.__spec__.name)


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.insert(0, _Alias())
