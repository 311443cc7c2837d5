"""Packaging: the test extra brings everything the tests use; a built wheel holds every file hpsearch needs."""
from __future__ import annotations

import ast
import compileall
import configparser
import importlib.metadata as md
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
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


@pytest.mark.slow
def test_the_test_extra_installs_every_module_the_tests_import():
    dists = md.packages_distributions()
    installed = _closure(_declared("test"))
    missing = {}
    for module in sorted(_modules_used_by_tests()):
        names = {re.sub(r"[-_.]+", "-", d).lower() for d in dists.get(module, [])}
        if not names & installed:
            missing[module] = sorted(names) or "not installed here"
    assert missing == {}, f'add these to the "test" extra in setup.cfg: {missing}'


# ---- The wheel: what `pip install hpsearch` gets ---------------------------------------------------

_BUILD_INPUTS = ("setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "README.rst", "hpsearch", "benchmarks")


def _source_files(root: Path) -> set[str]:
    """Files under ``root`` (relative, with /), caches left out."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}}


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> set[str]:
    """The file names inside a wheel built from this checkout with ``pip wheel --no-deps``.

    The build runs on a copy of the build inputs, so no ``build/`` folder left by an earlier
    build can lend the wheel a file the configuration forgets. The copy's benchmark folders
    get bytecode caches, which must not ship.
    """
    src = tmp_path_factory.mktemp("src")
    for name in _BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name)
        elif path.is_file():
            shutil.copy2(path, src / name)
    compileall.compile_dir(src / "benchmarks", quiet=2)
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                           "--quiet", "--wheel-dir", str(out), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"pip wheel failed:\n{proc.stdout}\n{proc.stderr}"
    (wheel,) = out.glob("hpsearch-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


@pytest.mark.slow
def test_the_wheel_holds_every_package_under_hpsearch(wheel_files):
    modules = {f"hpsearch/{f}" for f in _source_files(REPO / "hpsearch") if f.endswith(".py")}
    packages = {m.rsplit("/", 1)[0] for m in modules}
    shipped = {f.rsplit("/", 1)[0] for f in wheel_files if f.endswith(".py")}
    missing = sorted(packages - shipped)
    assert missing == [], f"packages missing from the wheel (hps cannot start without them): {missing}"
    assert sorted(modules - wheel_files) == []


def test_the_wheel_holds_every_file_of_every_bundled_benchmark(wheel_files):
    folders = sorted(p.name for p in (REPO / "benchmarks").iterdir() if (p / "problem.py").is_file())
    assert {"branin", "hartmann6lc"} <= set(folders)
    for name in folders:
        files = {f"hpsearch/benchmarks/{name}/{f}" for f in _source_files(REPO / "benchmarks" / name)}
        missing = sorted(files - wheel_files)
        assert missing == [], f"benchmark {name}: files missing from the wheel: {missing}"
    caches = [f for f in wheel_files if "__pycache__" in f or f.endswith((".pyc", ".pyo"))]
    assert caches == [], "bytecode caches must not ship"


def test_the_wheel_holds_the_dashboard_templates_and_static_files(wheel_files):
    for sub in ("templates", "static"):
        files = {f"hpsearch/dashboard/{sub}/{f}" for f in _source_files(REPO / "hpsearch" / "dashboard" / sub)}
        assert files, f"no dashboard {sub} in the checkout"
        missing = sorted(files - wheel_files)
        assert missing == [], f"dashboard {sub} missing from the wheel: {missing}"
    other = {f"hpsearch/{f}" for f in _source_files(REPO / "hpsearch") if not f.endswith(".py")}
    missing = sorted(other - wheel_files)
    assert missing == [], f"data files of the hpsearch package missing from the wheel: {missing}"


def test_the_wheel_installs_the_hpsearch_package_alone(wheel_files):
    top = {f.split("/")[0] for f in wheel_files if not f.startswith("hpsearch-")}
    assert top == {"hpsearch"}, "only the hpsearch package may land in site-packages"
