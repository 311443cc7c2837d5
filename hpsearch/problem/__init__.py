"""Problems: the search space a problem folder declares, loading folders, scaffolding new ones."""
from __future__ import annotations

from .loader import LoadedProblem, ProblemLoadError, list_problems, load_problem
from .space import Categorical, Continuous, HpProblem, Ordinal, SpaceError

__all__ = ["HpProblem", "Continuous", "Ordinal", "Categorical", "SpaceError", "load_problem",
           "list_problems", "LoadedProblem", "ProblemLoadError"]
