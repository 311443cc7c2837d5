"""A problem made in Python: an :class:`~hpsearch.problem.space.HpProblem` and a ``run`` callable, no folder.

:func:`from_callable` wraps them as a :class:`~hpsearch.problem.loader.LoadedProblem`
whose ``folder`` is None; the serial evaluator runs it in this process as it runs a
folder's. Worker processes get it as bytes (:func:`ship`, :func:`unship`): the
problem by value, ``run`` by reference (its module and name, as :mod:`pickle`
does), so a worker must be able to import ``run``: a function defined at module
level in a file. The driver's ``sys.path`` goes along (a module beside a notebook
imports in the worker too). A function of the script being run (``__main__``)
works as with :mod:`multiprocessing`: the worker runs the script under the name
``__mp_main__``, so its search must sit under ``if __name__ == "__main__":``. A
lambda, a function defined inside another, or one defined in a notebook cannot
be imported: :func:`ship` says which, and the fix, before anything starts.

    >>> from hpsearch import HpProblem
    >>> p = HpProblem(direction="minimize")
    >>> _ = p.add_dim("x", (-5.0, 5.0), default=0.0)
    >>> lp = from_callable(lambda config: config["x"] ** 2, p)
    >>> lp.name, lp.folder, lp.run({"x": 2.0})
    ('lambda', None, 4.0)
    >>> ship(lp, "process")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hpsearch.problem.inline.NotSendable: run: a lambda cannot be sent to process workers; define it at ...
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .loader import LoadedProblem, ProblemLoadError, accepts_trial, load_problem
from .space import HpProblem

__all__ = ["from_callable", "ship", "unship", "NotSendable", "INLINE_FILE", "load_source", "importing_main"]

#: the file that stands for a problem made in Python in a folder shipped to Dask workers.
INLINE_FILE = "problem.pickle"

#: the main script a worker is running (under ``__mp_main__``) to import a ``run`` defined in it
_IMPORTING_MAIN: list[str] = []


class NotSendable(UsageError):
    """``run`` (or the problem) cannot be sent to worker processes; the message names why and the fix."""


def _name_of(run: Callable) -> str:
    name = getattr(run, "__name__", None) or type(run).__name__
    name = re.sub(r"[^A-Za-z0-9_.-]+", "", name) or "run"
    return name


def from_callable(run: Callable | None, problem: HpProblem, name: str | None = None,
                  description: str = "") -> LoadedProblem:
    """A problem made in Python, as the evaluators take it.

    Args:
        run: ``run(config)`` or ``run(config, trial)``, returning the objective or a dict holding it
            (None for an ask/tell study, whose user runs the evaluations).
        problem: the search space and objective.
        name: how runs name the problem (default: ``run``'s name).
        description: one line for titles.

    Raises:
        ProblemLoadError: ``run`` is not a callable taking ``(config)`` or ``(config, trial)``,
            or ``problem`` is not a valid :class:`HpProblem` with a dimension.
    """
    if not isinstance(problem, HpProblem):
        raise ProblemLoadError(f"problem: expected an hpsearch.HpProblem, got {type(problem).__name__}")
    if not problem.dims:
        raise ProblemLoadError("problem: declares no dimension (add one with problem.add_dim(name, spec, "
                               "default=...))")
    problem.validate()
    if run is None:
        return LoadedProblem(name=name or "study", folder=None, problem=problem, description=description)
    if not callable(run):
        raise ProblemLoadError(f"run: expected a callable run(config) or run(config, trial), "
                               f"got {type(run).__name__}")
    takes_trial = accepts_trial(run, "run")
    return LoadedProblem(name=name or _name_of(run), folder=None, problem=problem,
                         description=description, run=run, accepts_trial=takes_trial)


def _why_not_importable(run: Callable) -> str | None:
    """What makes ``run`` impossible to import by name in a worker, or None."""
    qualname = getattr(run, "__qualname__", "") or ""
    if getattr(run, "__name__", None) == "<lambda>":
        return "a lambda"
    if "<locals>" in qualname:
        return f"a function defined inside another function ({qualname})"
    if getattr(run, "__module__", None) == "__main__" and _main_file() is None:
        return "a function defined in a notebook or an interactive session (__main__)"
    return None


def _main_file() -> str | None:
    """The file of the script being run (``python script.py``), or None (a notebook, the REPL)."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    return os.path.abspath(path) if path and path.endswith(".py") else None


def ship(lp: LoadedProblem, where: str) -> bytes:
    """The problem made in Python as bytes for a worker process (``where``: ``process`` or ``dask``).

    Raises:
        NotSendable: one line naming why ``run`` (or the problem) cannot be sent and what to do.
    """
    fix = "define it at module level in an importable file, or use evaluator='serial'"
    why = _why_not_importable(lp.run)
    if why is not None:
        raise NotSendable(f"run: {why} cannot be sent to {where} workers; {fix}")
    main = _main_file() if getattr(lp.run, "__module__", None) == "__main__" else None
    try:
        inner = pickle.dumps((lp.run, lp.problem, lp.name, lp.description, lp.accepts_trial))
    except Exception as exc:  # noqa: BLE001 - pickling user objects raises anything
        what = "run" if _fails(lp.run) else "problem"
        first = (str(exc).splitlines() or [""])[0]
        raise NotSendable(f"{what}: cannot be sent to {where} workers ({type(exc).__name__}: {first}); "
                          f"{fix}") from None
    paths = [os.path.abspath(p or os.curdir) for p in sys.path]
    return pickle.dumps({"sys_path": paths, "main": main, "problem": inner})


def _fails(obj: Any) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:  # noqa: BLE001
        return True
    return False


def unship(data: bytes) -> LoadedProblem:
    """In a worker: the problem :func:`ship` sent (the driver's ``sys.path`` entries are added after
    the worker's own; the main script runs first under ``__mp_main__`` if ``run`` lives there).

    Raises:
        ProblemLoadError: ``run`` cannot be imported here (one line).
    """
    outer = pickle.loads(data)
    for p in outer["sys_path"]:
        if p not in sys.path:
            sys.path.append(p)
    try:
        if outer.get("main"):
            _run_main(outer["main"])
        run, problem, name, description, takes_trial = pickle.loads(outer["problem"])
    except UsageError as exc:  # e.g. the main script started a search while being imported
        raise ProblemLoadError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - ModuleNotFoundError, AttributeError, ...
        raise ProblemLoadError(f"run: cannot be imported in the worker ({type(exc).__name__}: {exc})") \
            from None
    return LoadedProblem(name=name, folder=None, problem=problem, description=description, run=run,
                         accepts_trial=takes_trial)


def _run_main(path: str) -> None:
    """Import the driver's main script as ``__mp_main__`` and make it this process's ``__main__``
    (what :mod:`multiprocessing` does for its spawned children)."""
    spec = importlib.util.spec_from_file_location("__mp_main__", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["__mp_main__"] = module
    with _importing(path):
        spec.loader.exec_module(module)
    sys.modules["__main__"] = module


@contextlib.contextmanager
def _importing(path: str) -> Iterator[None]:
    _IMPORTING_MAIN.append(path)
    try:
        yield
    finally:
        _IMPORTING_MAIN.pop()


def importing_main() -> str | None:
    """The main script this worker is importing right now (a search started there must not run)."""
    return _IMPORTING_MAIN[-1] if _IMPORTING_MAIN else None


def load_source(source: str | os.PathLike | bytes) -> LoadedProblem:
    """What a worker process loads: a problem folder, the bytes :func:`ship` made, or a folder a
    Dask worker unpacked that holds those bytes as :data:`INLINE_FILE` (and no ``problem.py``)."""
    if isinstance(source, bytes):
        return unship(source)
    folder = Path(source)
    if (folder / INLINE_FILE).is_file() and not (folder / "problem.py").is_file():
        return unship((folder / INLINE_FILE).read_bytes())
    return load_problem(folder)
