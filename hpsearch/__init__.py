"""hpsearch: hyperparameter search over benchmark problem folders.

Public API::

    from hpsearch import HpProblem, Continuous, Ordinal, Categorical, load_problem
    from hpsearch import importance   # which hyperparameters of a run mattered (fANOVA)
"""
__version__ = "0.1.0"

from . import _moved  # noqa: E402
from .problem.loader import load_problem  # noqa: E402
from .problem.space import Categorical, Continuous, HpProblem, Ordinal, SpaceError  # noqa: E402

_moved.install()

__all__ = ["HpProblem", "Continuous", "Ordinal", "Categorical", "SpaceError", "load_problem", "importance",
           "__version__"]


def __getattr__(name: str):
    """``hpsearch.importance``: imported on first use (it needs scikit-learn, which is slow to import).

    Looked up by name, so that importing ``hpsearch`` (as every layer does, for its version)
    never imports the reporting layer.
    """
    if name == "importance":
        import importlib

        return importlib.import_module("hpsearch.reporting.importance").importance
    raise AttributeError(f"module 'hpsearch' has no attribute {name!r}")
