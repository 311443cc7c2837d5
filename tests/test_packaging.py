"""`pip install -e ".[test]" && pytest` on a fresh machine: the test extra brings everything the tests use."""
from __future__ import annotations

import ast
import configparser
import importlib.metadata as md
import re
import sys

from packaging.requirements import Requirement

from .conftest import REPO

LOCAL = {"hpsearch", "tests", "benchmarks", "conftest", "contract"}


def _modules_used_by_tests() -> set[str]:
    """Top-level modules the collected tests import (and what the docs build they run needs)."""
    used: set[str] = set()
    files = [p for p in (REPO / "tests").rglob("*.py") if not {"perf", "data"} & set(p.parts)]
    for path in files:
        text = path.read_text()
        if re.search(r'"-m",\s*"sphinx"', text):
            used.add("sphinx")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                used.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                used.add(node.module.split(".")[0])
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "importorskip"
                  and node.args and isinstance(node.args[0], ast.Constant)):
                used.add(node.args[0].value.split(".")[0])
    conf = ast.parse((REPO / "docs" / "conf.py").read_text())
    for node in ast.walk(conf):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "extensions":
            local_ext = {p.stem for p in (REPO / "docs" / "_ext").glob("*.py")}
            used.update(e.value.split(".")[0] for e in node.value.elts if e.value.split(".")[0] not in local_ext)
    return {m for m in used if m not in sys.stdlib_module_names and m not in LOCAL}


def _declared(extra: str) -> list[Requirement]:
    cfg = configparser.ConfigParser(interpolation=configparser.BasicInterpolation())
    cfg.read(REPO / "setup.cfg")
    lines = cfg["options"]["install_requires"].splitlines() + \
        cfg["options.extras_require"][extra].splitlines()
    return [Requirement(line) for line in lines if line.strip()]


def _closure(reqs: list[Requirement]) -> set[str]:
    """Distribution names (normalised) the requirements install, following installed metadata."""
    env = {"extra": ""}
    seen: set[str] = set()
    todo = [(r.name, set(r.extras)) for r in reqs if r.marker is None or r.marker.evaluate(env)]
    while todo:
        name, extras = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen and not extras:
            continue
        seen.add(key)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        for text in requires:
            r = Requirement(text)
            if r.marker is None or any(r.marker.evaluate({"extra": e}) for e in (extras or {""})):
                todo.append((r.name, set(r.extras)))
    return seen


def test_the_test_extra_installs_every_module_the_tests_import():
    dists = md.packages_distributions()
    installed = _closure(_declared("test"))
    missing = {}
    for module in sorted(_modules_used_by_tests()):
        names = {re.sub(r"[-_.]+", "-", d).lower() for d in dists.get(module, [])}
        if not names & installed:
            missing[module] = sorted(names) or "not installed here"
    assert missing == {}, f'add these to the "test" extra in setup.cfg: {missing}'
