"""The run page's importance panel: /api/run/KEY/importance gives the shares per budget and the top
marginals (the numbers hps importance prints), computed once per snapshot of the run."""
from __future__ import annotations

import pytest

from hpsearch.dashboard import importance as panel
from hpsearch.dashboard.app import create_app
from hpsearch.reporting.importance import importance_by_budget

from ..reporting.test_importance import cont, mf_run, uniform_configs, write_run


def client_and_key(root, name):
    app = create_app([root])
    client = app.test_client()
    key = next(r["key"] for r in client.get("/api/runs").get_json() if r["path"].endswith(name))
    return client, key


def test_importance_endpoint_per_budget_with_marginals_and_cached(tmp_path, monkeypatch):
    mf_run(tmp_path / "mf")
    client, key = client_and_key(tmp_path, "mf")
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return importance_by_budget(*args, **kwargs)

    monkeypatch.setattr(panel, "importance_by_budget", counted)
    data = client.get(f"/api/run/{key}/importance").get_json()
    assert data["error"] is None and data["budget"] == 9
    assert [(r["budget"], r["evaluations"], r["parameters"][0]["name"]) for r in data["results"]] == [
        (9, 40, "x1"), (1, 60, "x2")]
    from hpsearch.reporting.importance import importance

    cli_view = importance(tmp_path / "mf")
    assert data["results"][0]["parameters"][0]["share"] == pytest.approx(cli_view.shares["x1"])
    assert [m["names"] for m in data["marginals"]] == [["x1"], ["x2"], ["x1", "x2"]]
    m = data["marginals"][0]
    assert len(m["values"][0]) == len(m["mean"]) == len(m["spread"]) == 101
    assert m["mean"][-1] > m["mean"][0] + 2  # 3 x1, maximised: the predicted objective grows
    assert len(data["marginals"][2]["mean"]) == 101 and len(data["marginals"][2]["mean"][0]) == 101
    assert client.get(f"/api/run/{key}/importance").get_json() == data
    assert len(calls) == 1  # the same snapshot: computed once


def test_importance_endpoint_says_why_when_too_few(tmp_path):
    X, configs = uniform_configs(["x1", "x2"], 6, seed=7)
    write_run(tmp_path / "few", {"dims": [cont("x1"), cont("x2")]}, configs, X[:, 0])
    client, key = client_and_key(tmp_path, "few")
    data = client.get(f"/api/run/{key}/importance").get_json()
    assert data["results"] == [] and data["error"] == (
        "few: importance needs at least 10 successful evaluations (2 per dimension, at least 10), got 6")
    page = client.get(f"/run/{key}").get_data(as_text=True)
    assert 'id="fig-importance"' in page and 'id="marginals"' in page
