"""The Python API page runs: its python blocks, in order, as one script (a block captioned ``NAME.py`` is
that file, beside the script), and every name it documents imports from ``hpsearch``."""
import re
import subprocess
import sys
import textwrap

from ..conftest import REPO, hps_env

PAGE = REPO / "docs" / "python-api.rst"
BLOCK = re.compile(r"^\.\. code-block:: python\n((?:   :\w+:.*\n)*)\n((?:(?:   .*)?\n)+)", re.M)


def blocks() -> list[tuple[str | None, str]]:
    """``(file name or None, code)`` of each python block of the page, in order."""
    out = []
    for options, body in BLOCK.findall(PAGE.read_text()):
        caption = re.search(r":caption: (\S+\.py)", options)
        out.append((caption.group(1) if caption else None, textwrap.dedent(body)))
    return out


def test_the_python_api_page_runs_as_one_script(tmp_path):
    script = []
    for name, code in blocks():
        if name is None:
            script.append(code)
        else:
            (tmp_path / name).write_text(code)
    assert len(script) >= 8, "the page lost its examples"
    (tmp_path / "page.py").write_text("\n".join(script))
    p = subprocess.run([sys.executable, "page.py"], cwd=tmp_path, env=hps_env(), capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert "max-evals reached (20)" in lines and "30" in lines and "True" in lines
    assert (tmp_path / "runs" / "cmp" / "compare.json").is_file()


def test_the_guide_lists_the_page_and_the_reference_documents_the_names():
    index = (REPO / "docs" / "index.rst").read_text()
    guide = index[index.index(":caption: Guide"):index.index(":caption: Reference")]
    assert "   python-api\n" in guide
    api = (REPO / "docs" / "api.rst").read_text()
    for name in ("hpsearch.optimize", "hpsearch.Study", "hpsearch.load_run", "hpsearch.load_comparison"):
        assert re.search(rf"^\.\. auto\w+:: {re.escape(name)}$", api, re.M), name
