"""With CI=true a skipped test fails the run unless tests/conftest.py's CI_ALLOWED_SKIPS names it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py").read_text()
TESTS = """
import pytest

def test_runs():
    pass

def test_skips():
    pytest.skip("no such device here")
"""


def pytest_in(folder: Path, ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "-p", "no:randomly", str(folder)], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def suite(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_device.py").write_text(TESTS)
    return tmp_path


@pytest.mark.slow
def test_a_skip_fails_the_run_on_ci_and_names_the_test(suite):
    (suite / "conftest.py").write_text(CONFTEST)
    p = pytest_in(suite, "true")
    assert p.returncode == 1, p.stdout
    assert "1 skipped test(s) not on CI_ALLOWED_SKIPS" in p.stdout
    assert "test_device.py::test_skips: Skipped: no such device here" in p.stdout
    assert "1 passed, 1 skipped" in p.stdout


def test_a_skip_passes_off_ci(suite):
    (suite / "conftest.py").write_text(CONFTEST)
    p = pytest_in(suite, None)
    assert p.returncode == 0, p.stdout
    assert "CI_ALLOWED_SKIPS" not in p.stdout


@pytest.mark.slow
def test_a_skip_on_the_allow_list_passes_on_ci(suite):
    allowed = 'CI_ALLOWED_SKIPS: dict[str, str] = {"test_device.py::test_skips": "needs a device"}'
    assert CONFTEST.count("CI_ALLOWED_SKIPS: dict[str, str] = {}") == 1
    (suite / "conftest.py").write_text(CONFTEST.replace("CI_ALLOWED_SKIPS: dict[str, str] = {}", allowed))
    p = pytest_in(suite, "true")
    assert p.returncode == 0, p.stdout


@pytest.mark.slow
def test_a_module_that_skips_at_import_fails_the_run_on_ci(suite):
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_extra.py").write_text("import pytest\npytest.importorskip('no_such_module_here')\n")
    p = pytest_in(suite, "true")
    assert p.returncode == 1, p.stdout
    assert "2 skipped test(s) not on CI_ALLOWED_SKIPS" in p.stdout
    assert any(line.startswith("test_extra.py: ") and "no_such_module_here" in line
               for line in p.stdout.splitlines()), p.stdout
