"""Sphinx extension: the presets, searchers, schedulers and evaluators registered in hpsearch.

Writes ``docs/api/generated/registry.inc`` (included by ``api.rst``) from
``hpsearch.search.PRESETS``/``SEARCHERS``/``SCHEDULERS`` (with every option a
component declares: name, type, default, help), ``hpsearch.search.pruners.PRUNERS``
and ``hpsearch.evaluators.EVALUATORS``, so a component or evaluator added to a
registry appears in the docs with no edit here, and one that is not merged yet
is simply absent. Optional modules (the Keras warm-start helper) get an
autodoc section only when they exist.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
from pathlib import Path
from typing import Any

OUT = Path("api") / "generated" / "registry.inc"
#: Modules documented only when present in this checkout.
OPTIONAL_MODULES = {"hpsearch.warmstart": "Warm start for Keras models"}


def _first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _load(package: str, target: str) -> tuple[Any, str | None]:
    module, cls = target.split(":")
    try:
        return getattr(importlib.import_module(f".{module}", package), cls), None
    except Exception as exc:  # noqa: BLE001 - an optional dependency may be missing at build time
        return None, f"{type(exc).__name__}: {exc}"


def _rows(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [head, *rows]:
        lines += [f"   {'* -' if i == 0 else '  -'} {cell}".rstrip() for i, cell in enumerate(row)]
    return lines + [""]


def _option_rows(cls: Any) -> str:
    opts = getattr(cls, "OPTIONS", ())
    return "; ".join(f"``{o.flag}`` ({o.type.__name__}, default "
                     f"{o.default if o.default is not None else 'see help'})" for o in opts) or "none"


def _components(title: str, registry: dict[str, str], aliases: dict[str, str], extra: str) -> list[str]:
    lines = [title, ""]
    rows = []
    for name, target in registry.items():
        cls, err = _load("hpsearch.search", target)
        alias = ", ".join(f"``{a}``" for a, n in sorted(aliases.items()) if n == name)
        if cls is None:
            rows.append([f"``{name}``", alias, f"not importable: {err}", "", ""])
            continue
        rows.append([f"``{name}``", alias, f":class:`hpsearch.search.{target.replace(':', '.')}`",
                     _first_line(cls), _option_rows(cls)])
    lines += _rows([extra, "aliases", "class", "what it does", "options (type, default)"], rows)
    return lines


def registry_text() -> str:
    """The reStructuredText included by ``api.rst``."""
    from hpsearch.evaluators import DEFAULT_EVALUATOR, EVALUATORS
    from hpsearch.search import ALIASES, PRESETS, SCHEDULERS, SEARCHER_ALIASES, SEARCHERS, all_options

    lines = ["Presets (``--algo``): a scheduler and its default searcher; ``--searcher`` replaces the "
             "searcher.", ""]
    rows = [[f"``{name}``", ", ".join(f"``{a}``" for a, n in sorted(ALIASES.items()) if n == name),
             f"``{p.scheduler}``", f"``{p.searcher}``", p.summary] for name, p in PRESETS.items()]
    lines += _rows(["``--algo``", "aliases", "scheduler", "searcher", "what it is"], rows)
    lines += _components("Searchers (``--searcher``): which configuration to evaluate next.", SEARCHERS,
                         SEARCHER_ALIASES, "``--searcher``")
    lines += _components("Schedulers: which budget, which promotions, when to stop.", SCHEDULERS, {},
                         "scheduler")
    lines += ["Every search option, declared once by the components that take it:", ""]
    rows = [[f"``{o.flag}``", o.type.__name__, "" if o.default is None else f"``{o.default!r}``",
             ", ".join(who), o.help] for o, who in all_options()]
    lines += _rows(["option", "type", "default", "taken by", "help"], rows)
    lines += ["Registered evaluators (``--evaluator``):", ""]
    rows = []
    for name, target in sorted(EVALUATORS.items()):
        cls, err = _load("hpsearch.evaluators", target)
        default = " (default)" if name == DEFAULT_EVALUATOR else ""
        rows.append([f"``{name}``{default}", f"``hpsearch.evaluators.{target.replace(':', '.')}``",
                     _first_line(cls) if cls is not None else f"not importable: {err}"])
    lines += _rows(["``--evaluator``", "class", "description"], rows)
    lines += ["Registered pruners (``--pruner``), with the options each declares:", ""]
    from hpsearch.search.pruners import PRUNERS

    rows = []
    for name, target in sorted(PRUNERS.items()):
        cls, err = _load("hpsearch.search.pruners", target)
        opts = f"not importable: {err}" if cls is None else "; ".join(
            f"``{o.flag}`` (default {o.default if o.default is not None else 'see help'})"
            for o in cls.OPTIONS)
        rows.append([f"``{name}``", f":class:`hpsearch.search.pruners.{target.replace(':', '.')}`",
                     _first_line(cls) if cls is not None else "", opts])
    lines += _rows(["``--pruner``", "class", "description", "options"], rows)
    for _name, target in sorted(PRUNERS.items()):
        cls, _ = _load("hpsearch.search.pruners", target)
        if cls is not None:
            lines += [f".. autoclass:: hpsearch.search.pruners.{target.replace(':', '.')}",
                      "   :no-members:", ""]
    for registry in (SEARCHERS, SCHEDULERS):
        for _name, target in registry.items():
            cls, _ = _load("hpsearch.search", target)
            if cls is not None:
                lines += [f".. autoclass:: hpsearch.search.{target.replace(':', '.')}", "   :no-members:", ""]
    for module, title in OPTIONAL_MODULES.items():
        if importlib.util.find_spec(module) is not None:
            lines += [title, "-" * len(title), "", f".. automodule:: {module}", ""]
    return "\n".join(lines)


def _on_builder_inited(app: Any) -> None:
    path = Path(app.srcdir) / OUT
    path.parent.mkdir(parents=True, exist_ok=True)
    text = registry_text()
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def setup(app: Any) -> dict:
    app.connect("builder-inited", _on_builder_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
