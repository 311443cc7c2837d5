"""Find problem folders and import them, each in its own module namespace.

A problem folder holds ``problem.py`` (a module attribute ``Problem``) and
``model_run.py`` (a function ``run``). ``model_run.py`` can ``import load_data``
from beside it: while the folder's code runs (:meth:`LoadedProblem.activate`),
an import finder serves the folder's own top-level modules, and only those,
so the folder is never on ``sys.path`` and never shadows the standard library
or anything already imported (a ``queue.py`` or ``random.py`` in a folder
changes nothing outside it; the folder cannot import it as ``queue`` either:
the standard library wins, rename such a file). Two folders may both have a
``load_data.py``: each :class:`LoadedProblem` keeps its own sibling modules and
swaps them into ``sys.modules`` while its code runs, so they never mix.

Folders are found by path, then by name in ``$HPS_PATH`` (colon-separated
directories of problem folders), then among the bundled benchmarks.
"""
from __future__ import annotations

import ast
import contextlib
import difflib
import hashlib
import importlib.abc
import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from ..errors import UsageError
from .space import HpProblem, SpaceError, display_path

__all__ = ["ProblemLoadError", "LoadedProblem", "ProblemInfo", "find_problem", "load_problem",
           "list_problems", "search_path", "bundled_dir", "accepts_trial"]


class ProblemLoadError(UsageError):
    """A problem folder cannot be found or imported; the message is one line for the user."""


def bundled_dir() -> Path:
    """The benchmarks shipped with hpsearch (installed copy, else the source checkout's)."""
    here = Path(__file__).resolve().parents[1]  # the hpsearch package
    installed = here / "benchmarks"
    if installed.is_dir():
        return installed
    return here.parent / "benchmarks"


def search_path() -> list[Path]:
    """Directories searched for problem folders by name: ``$HPS_PATH`` first, then bundled."""
    dirs = [Path(p).expanduser() for p in os.environ.get("HPS_PATH", "").split(os.pathsep) if p]
    return [*dirs, bundled_dir()]


def _is_problem_dir(path: Path) -> bool:
    return (path / "problem.py").is_file()


def _candidates() -> dict[str, Path]:
    """name -> folder for every problem on the search path (earlier entries win)."""
    found: dict[str, Path] = {}
    for d in search_path():
        if _is_problem_dir(d):
            found.setdefault(d.name, d)
            continue
        if not d.is_dir():
            continue
        for sub in sorted(d.iterdir()):
            if sub.is_dir() and _is_problem_dir(sub) and not sub.name.startswith((".", "_")):
                found.setdefault(sub.name, sub)
    return found


def find_problem(spec: str | os.PathLike) -> Path:
    """Resolve a problem name or folder path to an absolute folder.

    Raises:
        ProblemLoadError: no such folder or name (naming the close matches).
    """
    text = os.fspath(spec)
    path = Path(text).expanduser()
    looks_like_path = os.sep in text or text.startswith(".") or (os.altsep and os.altsep in text)
    if path.is_dir():
        if _is_problem_dir(path):
            return path.resolve()
        if looks_like_path or not _candidates().get(text):
            raise ProblemLoadError(f"{display_path(path)}: no problem.py in this folder")
    if looks_like_path:
        raise ProblemLoadError(f"{text}: no such problem folder")
    found = _candidates()
    if text in found:
        return found[text].resolve()
    close = difflib.get_close_matches(text, list(found), n=3, cutoff=0.7)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    names = ", ".join(sorted(found)) or "none"
    raise ProblemLoadError(
        f"no problem named {text!r}{hint} (known: {names}; add folders with HPS_PATH or pass a path)"
    )


def _user_error(exc: BaseException, folder: Path, what: str) -> ProblemLoadError:
    """One line for an exception raised by the user's file: file:line: Type: message."""
    if isinstance(exc, SpaceError):
        return ProblemLoadError(str(exc))
    if isinstance(exc, SyntaxError) and exc.filename:
        return ProblemLoadError(
            f"{display_path(exc.filename)}:{exc.lineno}: SyntaxError: {exc.msg}"
        )
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename).resolve().is_relative_to(folder)]
    where = f"{display_path(frames[-1].filename)}:{frames[-1].lineno}" if frames else what
    return ProblemLoadError(f"{where}: {type(exc).__name__}: {exc}")


def _module_name(folder: Path, stem: str) -> str:
    digest = hashlib.sha1(str(folder).encode()).hexdigest()[:10]
    safe = "".join(c if c.isalnum() else "_" for c in folder.name)
    return f"_hps_{safe}_{digest}_{stem}"


def _in_folder(module: ModuleType, folder: Path) -> bool:
    f = getattr(module, "__file__", None)
    if not f:
        return False
    try:
        return Path(f).resolve().is_relative_to(folder)
    except OSError:
        return False


@dataclass
class LoadedProblem:
    """A problem folder, imported (or a problem made in Python: see :mod:`hpsearch.problem.inline`).

    Attributes:
        name: the folder's name.
        folder: absolute path of the folder; None for a problem made in Python.
        problem: its ``Problem``.
        description: the first line of ``problem.py``'s docstring.
        run: ``model_run.run``, or None when loaded with ``with_run=False``.
        accepts_trial: whether ``run`` takes a second ``trial`` argument.
    """

    name: str
    folder: Path | None
    problem: HpProblem
    description: str
    run: Callable | None = None
    accepts_trial: bool = False
    siblings: dict[str, ModuleType] = field(default_factory=dict, repr=False)
    _sibling_names: list[str] | None = field(default=None, repr=False)

    @contextlib.contextmanager
    def activate(self) -> Iterator[None]:
        """Run code of this folder: its own modules importable by name, its siblings in sys.modules."""
        if self.folder is None:  # made in Python: its code imports as any other code
            yield
            return
        if self._sibling_names is None:
            self._sibling_names = _sibling_names(self.folder)
        saved = {n: sys.modules.get(n) for n in (*self._sibling_names, *self.siblings)}
        sys.modules.update(self.siblings)
        finder = _FolderFinder(self.folder, self._sibling_names)
        sys.meta_path.insert(0, finder)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(finder)
            for n in self._sibling_names:  # siblings imported lazily, inside run()
                m = sys.modules.get(n)
                if m is not None and m is not saved.get(n) and n not in self.siblings \
                        and _in_folder(m, self.folder):
                    self.siblings[n] = m
            for n in self.siblings:
                old = saved.get(n)
                if old is None:
                    sys.modules.pop(n, None)
                else:
                    sys.modules[n] = old

    def _import(self, stem: str) -> ModuleType:
        path = self.folder / f"{stem}.py"
        name = _module_name(self.folder, stem)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        with self.activate():
            # A sibling of another folder with the same name must not be reused.
            clash = {n: sys.modules.pop(n) for n in _sibling_names(self.folder)
                     if n in sys.modules and n not in self.siblings}
            before = set(sys.modules)
            try:
                spec.loader.exec_module(module)
            except BaseException as exc:
                sys.modules.pop(name, None)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                if isinstance(exc, SystemExit):
                    from ..trial import exit_call

                    raise ProblemLoadError(f"{display_path(path)}: called {exit_call(exc)} while being "
                                           "imported") from None
                raise _user_error(exc, self.folder, display_path(path)) from None
            finally:
                for n in set(sys.modules) - before:
                    if _in_folder(sys.modules[n], self.folder):
                        self.siblings[n] = sys.modules[n]
                for n, m in clash.items():
                    if n not in self.siblings:
                        sys.modules[n] = m
        return module


def _sibling_names(folder: Path) -> list[str]:
    """The folder's own importable top-level modules, except names of the standard library."""
    out = []
    for p in folder.iterdir():
        if p.suffix == ".py" and p.stem not in ("problem", "model_run"):
            out.append(p.stem)
        elif p.is_dir() and (p / "__init__.py").is_file():
            out.append(p.name)
    return [n for n in out if n.isidentifier() and n not in _PROTECTED]


#: Never served from a problem folder: the standard library and the tool itself.
_PROTECTED = frozenset(getattr(sys, "stdlib_module_names", ())) | {"hpsearch", "__main__"}


class _FolderFinder(importlib.abc.MetaPathFinder):
    """Finds the folder's own top-level modules by name (the folder is never put on sys.path)."""

    def __init__(self, folder: Path, names: list[str]):
        self.folder = folder
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path=None, target=None):
        if path is not None or fullname not in self.names:
            return None
        package = self.folder / fullname
        if (package / "__init__.py").is_file():
            return importlib.util.spec_from_file_location(
                fullname, package / "__init__.py", submodule_search_locations=[str(package)])
        module = self.folder / f"{fullname}.py"
        if module.is_file():
            return importlib.util.spec_from_file_location(fullname, module)
        return None


def _docstring_first_line(path: Path) -> str:
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except (SyntaxError, OSError, UnicodeDecodeError):
        return ""
    return doc.strip().splitlines()[0].strip() if doc and doc.strip() else ""


def load_problem(spec: str | os.PathLike, with_run: bool = True) -> LoadedProblem:
    """Import a problem folder: ``problem.py`` and, with ``with_run``, ``model_run.py``.

    Args:
        spec: a name on the search path or a folder path.
        with_run: also import ``model_run.py`` and check its ``run``.

    Raises:
        ProblemLoadError: one line naming the file and what is wrong.

    Example:
        >>> lp = load_problem("branin")
        >>> lp.problem.direction
        'minimize'
    """
    folder = find_problem(spec)
    problem_py = folder / "problem.py"
    lp = LoadedProblem(name=folder.name, folder=folder, problem=None,  # type: ignore[arg-type]
                       description=_docstring_first_line(problem_py))
    module = lp._import("problem")
    problem = getattr(module, "Problem", None)
    if problem is None:
        raise ProblemLoadError(f"{display_path(problem_py)}: defines no attribute 'Problem' "
                               "(expected Problem = HpProblem(...))")
    if not isinstance(problem, HpProblem):
        raise ProblemLoadError(f"{display_path(problem_py)}: 'Problem' must be an hpsearch.HpProblem, "
                               f"got {type(problem).__name__}")
    if not problem.dims:
        raise ProblemLoadError(f"{display_path(problem_py)}: 'Problem' declares no dimension "
                               "(add one with Problem.add_dim(name, spec, default=...))")
    try:  # conditions, forbidden combinations and starting points are checked together
        problem.validate()
    except SpaceError as exc:
        raise ProblemLoadError(str(exc)) from None
    lp.problem = problem
    if with_run:
        run_py = folder / "model_run.py"
        if not run_py.is_file():
            raise ProblemLoadError(f"{display_path(run_py)}: no such file (it must define run(config))")
        run_module = lp._import("model_run")
        run = getattr(run_module, "run", None)
        if not callable(run):
            raise ProblemLoadError(f"{display_path(run_py)}: defines no function 'run' "
                                   "(expected def run(config) or def run(config, trial))")
        lp.run = run
        lp.accepts_trial = accepts_trial(run, display_path(run_py))
    return lp


def accepts_trial(run: Callable, where: str) -> bool:
    """Whether ``run`` takes a second ``trial`` argument (``where`` names it in errors).

    Raises:
        ProblemLoadError: it takes neither ``(config)`` nor ``(config, trial)``.
    """
    try:
        params = list(inspect.signature(run).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in params) or any(p.name == "trial" for p in params):
        return True
    if not positional and not any(p.kind == p.VAR_POSITIONAL for p in params):
        raise ProblemLoadError(f"{where}: run() must take the config as its first argument")
    required = [p for p in positional if p.default is p.empty]
    if len(required) > 2:
        raise ProblemLoadError(f"{where}: run() takes (config) or (config, trial), "
                               f"got {len(required)} required arguments")
    return len(positional) >= 2


@dataclass
class ProblemInfo:
    """What ``hps list`` shows of a problem folder."""

    name: str
    folder: Path
    kind: str
    n_dims: int
    resource: str | None
    optimum: float | None
    description: str
    error: str | None = None


def list_problems() -> list[ProblemInfo]:
    """Every problem folder on the search path, with its space summarised.

    A folder whose ``problem.py`` fails to import is listed with its error.
    """
    out = []
    for name, folder in sorted(_candidates().items()):
        try:
            lp = load_problem(folder, with_run=False)
        except ProblemLoadError as exc:
            out.append(ProblemInfo(name, folder, "?", 0, None, None,
                                   _docstring_first_line(folder / "problem.py"), error=str(exc)))
            continue
        p = lp.problem
        out.append(ProblemInfo(name, folder, p.kind or "-", len(p.dims),
                               p.resource.name if p.resource else None, p.optimum, lp.description))
    return out
