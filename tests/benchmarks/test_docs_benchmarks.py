"""The docs' benchmark list is generated from the problem folders: every bundled folder appears,
a folder added on HPS_PATH appears, and the docs build with warnings as errors."""
import importlib.util
import shutil
import subprocess
import sys
import textwrap

import pytest

from ..conftest import REPO, hps_env

EXT = REPO / "docs" / "_ext" / "hps_benchmarks.py"


def load_ext():
    spec = importlib.util.spec_from_file_location("hps_benchmarks_under_test", EXT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def bundled_names():
    return sorted(p.name for p in (REPO / "benchmarks").iterdir()
                  if (p / "problem.py").is_file() and not p.name.startswith((".", "_")))


EXTRA_PROBLEM = '''\
    """Extra folder for the docs test: a quadratic in one variable."""
    from hpsearch import HpProblem

    Problem = HpProblem(objective="loss", direction="minimize", optimum=0.0, kind="regression")
    Problem.add_dim("steps", (1, 27), default=3, resource=True)
    Problem.add_dim("alpha", (1e-3, 1.0, "log-uniform"), default=0.1)
    Problem.add_dim("act", ["relu", "tanh"], default="relu")
'''


@pytest.fixture
def extra_folder(tmp_path, monkeypatch):
    root = tmp_path / "extra"
    (root / "docsextra").mkdir(parents=True)
    (root / "docsextra" / "problem.py").write_text(textwrap.dedent(EXTRA_PROBLEM))
    # model_run.py would fail if imported: the docs must read problem.py only.
    (root / "docsextra" / "model_run.py").write_text("raise ImportError('model_run imported')\n")
    monkeypatch.setenv("HPS_PATH", str(root))
    return root / "docsextra"


def test_every_bundled_folder_is_listed_and_gets_a_page(tmp_path, monkeypatch):
    monkeypatch.delenv("HPS_PATH", raising=False)
    ext = load_ext()
    docs = ext.generate(tmp_path / "gen")
    names = bundled_names()
    assert names, "no bundled benchmark found"
    assert [d.name for d in docs] == names
    assert all(d.error is None for d in docs), [d.error for d in docs]
    table = (tmp_path / "gen" / "table.inc").read_text()
    for name in names:
        assert f":doc:`{name} <generated/{name}>`" in table
        page = (tmp_path / "gen" / f"{name}.rst").read_text()
        assert page.splitlines()[2:4] == [name, "=" * len(name)]
        assert "Search space" in page
    assert sorted(p.name for p in (tmp_path / "gen").iterdir()) == sorted(
        ["table.inc"] + [f"{n}.rst" for n in names])


def test_branin_row_and_space_table(tmp_path, monkeypatch):
    monkeypatch.delenv("HPS_PATH", raising=False)
    ext = load_ext()
    docs = {d.name: d for d in ext.generate(tmp_path / "gen")}
    b = docs["branin"]
    assert (b.kind, b.n_dims, b.resource) == ("synthetic", 2, None)
    assert b.optimum == pytest.approx(0.397887, abs=1e-6)
    table = (tmp_path / "gen" / "table.inc").read_text().splitlines()
    row = table[table.index("   * - :doc:`branin <generated/branin>`"):][:6]
    assert row[1:5] == ["     - synthetic", "     - 2", "     - \\-", "     - 0.397887"]
    page = b.page.splitlines()
    i = page.index("   * - ``x1``")
    assert page[i:i + 5] == ["   * - ``x1``", "     - continuous", "     - ``[-5, 10]``", "     - uniform",
                             "     - ``2.5``"]


def test_folder_added_to_hps_path_appears_and_removed_one_disappears(tmp_path, extra_folder, monkeypatch):
    ext = load_ext()
    out = tmp_path / "gen"
    docs = {d.name: d for d in ext.generate(out)}
    assert set(docs) == set(bundled_names()) | {"docsextra"}
    d = docs["docsextra"]
    assert (d.kind, d.n_dims, d.resource, d.optimum, d.error) == ("regression", 3, "steps", 0.0, None)
    assert d.description == "Extra folder for the docs test: a quadratic in one variable."
    page = (out / "docsextra.rst").read_text()
    assert "   * - ``steps`` (resource)" in page and "``{'relu', 'tanh'}``" in page
    assert "hps run --problem docsextra --algo hyperband" in page
    assert ":doc:`docsextra <generated/docsextra>`" in (out / "table.inc").read_text()

    monkeypatch.delenv("HPS_PATH")
    ext.generate(out)
    assert not (out / "docsextra.rst").exists()
    assert "docsextra" not in (out / "table.inc").read_text()


def test_broken_folder_is_reported_not_hidden(tmp_path, monkeypatch):
    root = tmp_path / "p"
    (root / "broken").mkdir(parents=True)
    (root / "broken" / "problem.py").write_text('"""Broken."""\nfrom hpsearch import HpProblem\n'
                                                'Problem = HpProblem()\nProblem.add_dim("x", (1.0, 0.0))\n')
    monkeypatch.setenv("HPS_PATH", str(root))
    docs = {d.name: d for d in load_ext().generate(tmp_path / "gen")}
    assert "needs low < high" in docs["broken"].error
    assert "cannot load" in (tmp_path / "gen" / "table.inc").read_text()


@pytest.mark.slow
def test_sphinx_build_with_warnings_as_errors(tmp_path, extra_folder):
    """The real docs build (-W) into a copy of docs/, with an extra folder on HPS_PATH."""
    src = tmp_path / "docs"
    shutil.copytree(REPO / "docs", src, ignore=shutil.ignore_patterns("_build", "generated"))
    out = tmp_path / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(src), str(out)], env=hps_env({"HPS_PATH": str(extra_folder.parent)}),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for name in [*bundled_names(), "docsextra"]:
        assert (out / "benchmarks" / "generated" / f"{name}.html").is_file(), name
    index = (out / "benchmarks" / "index.html").read_text()
    assert "docsextra" in index and "Extra folder for the docs test" in index
    cli_html = (out / "cli.html").read_text()
    for command in ("run", "new", "plot", "results", "resume", "list", "show"):
        assert f'id="hps-{command}"' in cli_html, command
