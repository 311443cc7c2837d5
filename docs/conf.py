"""Sphinx configuration for the hpsearch docs (build: sphinx-build -W -b html docs docs/_build/html)."""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Document this checkout (not whatever hpsearch happens to be installed) and load our extension.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "_ext"))

import hpsearch  # noqa: E402

project = "hpsearch"
author = "the hpsearch developers"
copyright = "2026, the hpsearch developers"
version = release = hpsearch.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx_click",
    "hps_benchmarks",
    "hps_registry",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []
html_theme = "alabaster"
html_static_path: list[str] = []
html_theme_options = {"description": "Hyperparameter search over problem folders, from the shell"}

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Optional heavy dependencies are never imported to build the docs.
autodoc_mock_imports = ["tensorflow", "keras"]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
