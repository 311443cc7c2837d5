"""Public import paths: every name the API page documents imports, and so does every path users
wrote against the flat layout of the previous release (the same objects, not copies)."""
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api.rst"

#: module paths of the previous release's API page, and the names it documented under them.
OLD_PATHS = {
    "hpsearch.space": ["Dimension", "to_loss", "rank_key", "HpProblem", "SpaceError", "Continuous"],
    "hpsearch.loader": ["LoadedProblem", "list_problems", "search_path", "load_problem"],
    "hpsearch.store": ["RunStore", "StoredTrial", "StoreError", "StoreFull", "is_run_dir"],
    "hpsearch.runner": ["RunConfig", "start_run", "resume_run"],
    "hpsearch.plots": ["plot_run", "best_so_far"],
    "hpsearch.scaffold": ["new_problem"],
    "hpsearch.engine": ["Engine", "Observer"],
    "hpsearch.report": ["format_rows"],
    "hpsearch.lock": ["RunDirLock", "DirectoryInUse"],
    "hpsearch.stopping": ["parse_conditions"],
    "hpsearch.progress": ["Progress"],
}


def _resolve(dotted: str):
    """Import the longest module prefix of ``dotted`` and walk the rest as attributes."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def _documented() -> list[str]:
    return re.findall(r"^\.\. auto(?:class|function|data|exception|module|method)::\s+(\S+)", API.read_text(),
                      flags=re.M)


@pytest.mark.parametrize("dotted", _documented())
def test_every_documented_name_imports(dotted):
    assert _resolve(dotted) is not None


@pytest.mark.parametrize("module", sorted(OLD_PATHS))
def test_old_module_paths_give_the_same_objects(module):
    old = importlib.import_module(module)
    for name in OLD_PATHS[module]:
        obj = getattr(old, name)
        home = importlib.import_module(obj.__module__) if hasattr(obj, "__module__") else old
        assert getattr(home, name) is obj, f"{module}.{name} is a copy, not the object at {obj.__module__}"


def test_old_module_path_is_the_moved_module():
    import hpsearch.runner

    import hpsearch.run.runner

    assert hpsearch.runner is hpsearch.run.runner
    assert hpsearch.run.runner.__spec__.name == "hpsearch.run.runner"  # its own spec, not the alias's


def test_old_path_in_a_fresh_interpreter():
    """``from hpsearch.plots import plot_run`` as the first import of a process (no package imported yet)."""
    code = ("from hpsearch.plots import plot_run; import hpsearch.reporting.plots as p; "
            "assert plot_run is p.plot_run; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
