"""hpsearch: hyperparameter search over benchmark problem folders.

Public API::

    from hpsearch import HpProblem, Continuous, Ordinal, Categorical, load_problem
"""
__version__ = "0.1.0"

from .loader import load_problem  # noqa: E402
from .space import Categorical, Continuous, HpProblem, Ordinal, SpaceError  # noqa: E402

__all__ = ["HpProblem", "Continuous", "Ordinal", "Categorical", "SpaceError", "load_problem",
           "__version__"]
