"""hpsearch: hyperparameter search over benchmark problem folders.

Public API::

    from hpsearch import HpProblem, Continuous, Ordinal, Categorical, load_problem
"""
__version__ = "0.1.0"

from . import _moved  # noqa: E402
from .problem.loader import load_problem  # noqa: E402
from .problem.space import Categorical, Continuous, HpProblem, Ordinal, SpaceError  # noqa: E402

_moved.install()

__all__ = ["HpProblem", "Continuous", "Ordinal", "Categorical", "SpaceError", "load_problem",
           "__version__"]
