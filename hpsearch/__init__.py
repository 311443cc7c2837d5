"""hpsearch: hyperparameter search over benchmark problem folders, from the shell or from Python.

Public API::

    from hpsearch import HpProblem, Continuous, Ordinal, Categorical, load_problem
    from hpsearch import optimize, Study, load_run, load_comparison, Run
    from hpsearch import importance   # which hyperparameters of a run mattered (fANOVA)

``optimize``, ``Study``, ``load_run``, ``load_comparison``, ``Run`` and ``importance`` are imported
on first use: ``import hpsearch`` (which every ``problem.py`` does) stays light.
"""
__version__ = "0.1.0"

import importlib as _importlib  # noqa: E402

from . import _moved  # noqa: E402
from .problem.loader import load_problem  # noqa: E402
from .problem.space import Categorical, Continuous, HpProblem, Ordinal, SpaceError  # noqa: E402

_moved.install()

#: name -> the module that defines it, imported when the name is first used
_LAZY = {
    "optimize": "hpsearch.run.api",
    "Study": "hpsearch.run.study",
    "load_run": "hpsearch.store.view",
    "Run": "hpsearch.store.view",
    "load_comparison": "hpsearch.reporting.loading",
    "importance": "hpsearch.reporting.importance",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hpsearch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["HpProblem", "Continuous", "Ordinal", "Categorical", "SpaceError", "load_problem",
           "optimize", "Study", "load_run", "load_comparison", "Run", "importance", "__version__"]
