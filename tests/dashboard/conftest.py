"""Dashboard fixtures: finished runs made with the library, a real server on loopback, a JSON client."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("flask", reason="the dashboard extra is not installed (pip install -e '.[dashboard]')")
pytest.importorskip("plotly", reason="the dashboard extra is not installed (pip install -e '.[dashboard]')")

from hpsearch.run.runner import RunConfig, start_run  # noqa: E402

from ..conftest import PROBLEMS  # noqa: E402


def make_run(run_dir: Path, problem: str = "branin", algo: str = "random", max_evals: int | None = 12,
             seed: int = 0, **kw) -> Path:
    """A finished run, serial evaluator (fast, no subprocess)."""
    out = start_run(RunConfig(problem=problem, algo=algo, max_evals=max_evals, seed=seed, run_dir=str(run_dir),
                              evaluator="serial", **kw))
    out.store.close()
    return run_dir


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory) -> Path:
    """runs/ with a random search on branin and a Hyperband run on the mixed test problem."""
    root = tmp_path_factory.mktemp("dash") / "runs"
    make_run(root / "branin-random", max_evals=15)
    make_run(root / "mixed-hyperband", problem=str(PROBLEMS / "mixed"), algo="hyperband", max_evals=None)
    return root


class Server:
    """make_server on port 0 in a thread; get(path) -> (status, headers, body bytes); json(path)."""

    def __init__(self, paths):
        from hpsearch.dashboard.server import make_server

        self.httpd = make_server([str(p) for p in paths], "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def get(self, path: str):
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, path: str):
        status, _, body = self.get(path)
        assert status == 200, (path, status, body[:200])
        return json.loads(body)

    def key(self, suffix: str) -> str:
        return next(r["key"] for r in self.json("/api/runs") if r["path"].endswith(suffix))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(*paths) -> Server:
        s = Server(paths)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()
