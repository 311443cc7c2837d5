"""Sphinx extension: the benchmark pages, generated from the problem folders at build time.

At ``builder-inited`` it asks :func:`hpsearch.loader.list_problems` for every
problem folder on the search path (the bundled ``benchmarks/`` and
``$HPS_PATH``), imports each ``problem.py`` only (``with_run=False``: no model
code, no TensorFlow), and writes into ``docs/benchmarks/generated/``:

* ``table.inc``: one row per folder (name, kind, dimensions, resource, known
  optimum, or for a multi-objective problem the hypervolume of its true front,
  description), included by ``benchmarks/index.rst``;
* ``<name>.rst``: one page per folder with its space table (as a tree: each
  conditional dimension under its parent, with its condition) and its
  forbidden combinations.

Adding a folder adds it to the docs with no edit elsewhere. Files are rewritten
only when their text changes, and pages of folders that are gone are removed.
:func:`generate` is plain Python, so tests call it without Sphinx.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENERATED = Path("benchmarks") / "generated"
TABLE = "table.inc"


@dataclass
class BenchmarkDoc:
    """What the docs show of one problem folder."""

    name: str
    kind: str
    n_dims: int
    resource: str | None
    optimum: float | None
    description: str
    page: str  # the generated page's text
    error: str | None = None
    hypervolume_optimum: float | None = None  # a multi-objective problem's hypervolume of its true front


def escape(text: Any) -> str:
    """Plain text safe inside reStructuredText (every punctuation character escaped)."""
    return "".join("\\" + c if c in string.punctuation else c for c in str(text))


def _literal(text: Any) -> str:
    s = str(text).replace("``", "`\u200b`")
    return f"``{s}``" if s.strip() else ""


def _heading(text: str, char: str) -> list[str]:
    return [text, char * len(text), ""]


def _list_table(head: list[str], rows: list[list[str]], widths: str | None = None) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {widths}")
    lines.append("")
    for row in [head, *rows]:
        first = True
        for cell in row:
            lines.append(f"   {'* -' if first else '  -'} {cell}".rstrip())
            first = False
    return lines + [""]


def _page(info: Any, lp: Any, folder_text: str) -> str:
    """The reStructuredText page of one loaded problem folder."""
    import ast

    p = lp.problem
    doc = ""
    try:
        doc = ast.get_docstring(ast.parse((Path(info.folder) / "problem.py").read_text("utf-8"))) or ""
    except (OSError, SyntaxError, UnicodeDecodeError):
        pass
    lines = [f".. _benchmark-{info.name}:", ""] + _heading(info.name, "=")
    paragraphs = [escape(" ".join(par.split())) for par in doc.strip().split("\n\n") if par.strip()]
    for par in paragraphs or [escape(info.description or "(no description)")]:
        lines += [par, ""]
    opt = f"{p.optimum:g}" if p.optimum is not None else "unknown"
    if p.multi_objective:
        ref = p.reference_point
        lines += [
            ":objectives: " + ", ".join(f"{_literal(n)} ({d})" for n, d in p.objectives.items()),
            ":reference point: " + (", ".join(f"{_literal(n)} {v:g}" for n, v in ref.items()) if ref
                                    else "none declared (reports take the nadir of the evaluations)"),
            ":hypervolume of the true front: " + (f"{p.hypervolume_optimum:g}"
                                                  if p.hypervolume_optimum is not None else "unknown"),
        ]
    else:
        lines += [f":objective: {_literal(p.objective)} ({p.direction})", f":known optimum: {opt}"]
    lines += [
        f":kind: {escape(p.kind or 'unspecified')}",
        f":resource: {_literal(p.resource.name) if p.resource else 'none (not multi-fidelity)'}",
        f":dimensions: {len(p.dims)}",
        f":folder: {_literal(folder_text)}",
        "",
    ]
    lines += _heading("Search space", "-")
    rows = []
    for depth, d in p.tree():  # a conditional dimension under its parent, indented
        name = "\u00a0\u00a0" * depth + _literal(d.name) + (" (resource)" if d.resource else "")
        rows.append([name, d.kind, _literal(d.describe()), escape(d.describe_prior()),
                     _literal(repr(d.default)), _literal(d.describe_condition()) or "always"])
    lines += _list_table(["name", "kind", "range / choices", "prior", "default", "when (active if)"], rows,
                         "18 12 24 16 12 18")
    if p.forbidden:
        lines += ["Forbidden combinations (never evaluated):", ""]
        lines += [f"* {_literal(clause)}" for clause in p.forbidden] + [""]
    extra = len(p.starting_points) - 1
    if extra > 0:
        lines += [f"Besides the defaults, {extra} starting point(s) are evaluated first.", ""]
    lines += _heading("Run it", "-")
    algo = "hyperband" if p.resource is not None else "random"
    lines += ["::", "", f"    hps show {info.name}", f"    hps run --problem {info.name} --algo {algo}", ""]
    return "\n".join(lines)


def _folder_text(folder: Path) -> str:
    from hpsearch.problem.loader import bundled_dir

    try:
        return "benchmarks/" + Path(folder).resolve().relative_to(bundled_dir().resolve()).as_posix()
    except ValueError:
        return f"$HPS_PATH: {folder}"


def collect() -> list[BenchmarkDoc]:
    """Every problem folder on the search path, as the docs show it (imports problem.py only)."""
    from hpsearch.problem.loader import ProblemLoadError, list_problems, load_problem

    out = []
    for info in list_problems():
        if info.error is not None:
            out.append(BenchmarkDoc(info.name, "?", 0, None, None, info.description,
                                    page="\n".join(_heading(info.name, "=")
                                                   + [f"Cannot load: {escape(info.error)}", ""]),
                                    error=info.error))
            continue
        try:
            lp = load_problem(info.folder, with_run=False)
        except ProblemLoadError as exc:  # pragma: no cover - list_problems loaded it a moment ago
            out.append(BenchmarkDoc(info.name, "?", 0, None, None, info.description, page="",
                                    error=str(exc)))
            continue
        out.append(BenchmarkDoc(info.name, info.kind, info.n_dims, info.resource, info.optimum,
                                info.description, _page(info, lp, _folder_text(info.folder)),
                                hypervolume_optimum=lp.problem.hypervolume_optimum))
    return out


def table(docs: list[BenchmarkDoc], prefix: str = "generated/") -> str:
    """The list-table of all benchmarks (``table.inc``), linking pages as ``prefix + name``."""
    rows = []
    for d in docs:
        rows.append([f":doc:`{d.name} <{prefix}{d.name}>`", escape(d.kind), str(d.n_dims),
                     _literal(d.resource) if d.resource else "\\-",
                     f"{d.optimum:g}" if d.optimum is not None else
                     f"hypervolume {d.hypervolume_optimum:g}" if d.hypervolume_optimum is not None else "\\-",
                     escape(d.description) if d.error is None else f"cannot load: {escape(d.error)}"])
    head = ["name", "kind", "dims", "resource", "known optimum", "description"]
    return "\n".join(_list_table(head, rows, "14 14 6 12 12 42"))


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def generate(outdir: str | Path) -> list[BenchmarkDoc]:
    """Write ``table.inc`` and one ``<name>.rst`` per benchmark into ``outdir``; return what was found.

    ``table.inc`` is included by ``benchmarks/index.rst``, so its links are
    relative to that page (``generated/<name>``).
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    docs = collect()
    wanted = {TABLE} | {f"{d.name}.rst" for d in docs}
    for old in outdir.iterdir():
        if old.is_file() and old.name not in wanted:
            old.unlink()
    _write_if_changed(outdir / TABLE, table(docs))
    for d in docs:
        _write_if_changed(outdir / f"{d.name}.rst", d.page)
    return docs


def _on_builder_inited(app: Any) -> None:
    from sphinx.util import logging

    docs = generate(Path(app.srcdir) / GENERATED)
    log = logging.getLogger(__name__)
    for d in docs:
        if d.error is not None:
            log.warning(f"benchmark {d.name}: cannot load problem.py: {d.error}")
    log.info(f"hps_benchmarks: {len(docs)} benchmark page(s) generated")


def setup(app: Any) -> dict:
    app.connect("builder-inited", _on_builder_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
