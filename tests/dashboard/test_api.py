"""hps dashboard over HTTP on loopback: the runs list, a run's figures' data, the paged table,
the comparison page's data, CSP and plotly.js served locally, path traversal refused."""
from __future__ import annotations

import csv
import http.client
import json
import os

from hpsearch.dashboard.comparison import GRID_POINTS
from hpsearch.reporting.comparison import format_table, summarise
from hpsearch.reporting.plots import best_so_far
from hpsearch.run.compare import CompareConfig, run_comparison
from hpsearch.store import RunStore


def test_runs_list_shows_every_run_newest_first(runs_root, serve):
    srv = serve(runs_root)
    runs = srv.json("/api/runs")
    assert [(r["problem"], r["algo"], r["status"]) for r in runs] == [
        ("mixed", "hyperband", "finished"), ("branin", "random", "finished")]
    branin = runs[1]
    with RunStore.open(runs_root / "branin-random", readonly=True) as s:
        done = [t for t in s.trials() if t.status == "done"]
    assert branin["done"] == 15 and branin["failed"] == 0 and branin["seed"] == 0
    assert branin["best"] == min(t.objective for t in done)
    assert branin["spent"] is None  # branin has no resource
    mixed = runs[0]
    with RunStore.open(runs_root / "mixed-hyperband", readonly=True) as s:
        trials = s.trials()
    assert mixed["spent"] == sum(float(t.budget) - float(t.previous_budget or 0) for t in trials)
    assert mixed["wall_s"] >= 0 and mixed["started"]


def test_run_points_follow_the_stored_evaluations_and_hps_plot_curve(runs_root, serve):
    srv = serve(runs_root)
    key = srv.key("mixed-hyperband")
    meta = srv.json(f"/api/run/{key}")
    assert meta["multi_fidelity"] and meta["has_budget"] and meta["optimum"] == 0.0
    assert meta["params"] == [d["name"] for d in meta["dims"]]
    pts = srv.json(f"/api/run/{key}/points?since=0")
    with RunStore.open(runs_root / "mixed-hyperband", readonly=True) as s:
        finished = s.trials(finished_only=True, order="tell_seq")
    assert [t[0] for t in pts["trials"]] == [t.trial_id for t in finished]
    assert pts["trials"][3][7] == finished[3].params
    # The incumbent curve is the one hps plot draws (larger budgets rank first).
    curve = pts["curve"]
    for by_resource, x in ((False, range(1, len(finished) + 1)), (True, curve["spent"])):
        xs, best, _, _ = best_so_far(finished, "maximize", True, by_resource)
        got = [(x, b) for x, b in zip(x, curve["best"]) if b is not None]
        assert got == list(zip(xs, best))
    assert pts["curve"]["regret"][-1] == -pts["curve"]["best"][-1]  # maximize, optimum 0
    # Incremental: only what came after `since`.
    tail = srv.json(f"/api/run/{key}/points?since={len(finished) - 2}")
    assert [t[0] for t in tail["trials"]] == [t.trial_id for t in finished[-2:]]
    assert tail["curve"]["best"] == curve["best"][-2:]


def test_table_pages_sorts_and_filters_with_the_results_csv_columns(runs_root, serve):
    srv = serve(runs_root)
    key = srv.key("branin-random")
    with open(runs_root / "branin-random" / "results.csv", newline="") as f:
        rows = list(csv.reader(f))
    page = srv.json(f"/api/run/{key}/table?page=0&size=4&sort=objective&desc=0")
    assert page["columns"] == rows[0] and page["total"] == 15 and len(page["rows"]) == 4
    objs = sorted(float(r[rows[0].index("objective")]) for r in rows[1:])
    col = page["columns"].index("objective")
    assert [r[col] for r in page["rows"]] == objs[:4]
    last = srv.json(f"/api/run/{key}/table?page=3&size=4&sort=objective&desc=1")
    assert [r[col] for r in last["rows"]] == sorted(objs)[:3][::-1]
    assert srv.json(f"/api/run/{key}/table?status=failed")["total"] == 0
    assert srv.json(f"/api/run/{key}/table?status=done")["total"] == 15
    trial = srv.json(f"/api/run/{key}/trial/{page['rows'][0][0]}")
    assert trial["objective"] == objs[0] and set(trial["config"]) == {"x1", "x2"}


def test_pages_are_served_with_a_strict_csp_and_local_plotly(runs_root, serve):
    srv = serve(runs_root)
    key = srv.key("branin-random")
    for path in ("/", f"/run/{key}", f"/run/{key}/trial/0"):
        status, headers, body = srv.get(path)
        assert status == 200, path
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        html = body.decode()
        assert "<script>" not in html and "http://" not in html.replace(srv.url, "")
    status, headers, body = srv.get("/vendor/plotly.min.js")
    assert status == 200 and len(body) > 1_000_000 and headers["Content-Type"].startswith("text/javascript")
    assert srv.get("/run/nosuchkey")[0] == 404
    # No endpoint changes anything: only GET (and HEAD) are routed.
    conn = http.client.HTTPConnection("127.0.0.1", srv.httpd.server_port, timeout=5)
    conn.request("POST", f"/api/run/{key}/table")
    assert conn.getresponse().status == 405


def test_log_files_only_from_the_runs_own_logs_folder(tmp_path, serve):
    from .conftest import make_run

    run = make_run(tmp_path / "runs" / "r", max_evals=3)
    (run / "logs").mkdir()
    (run / "logs" / "trial-1.log").write_text("".join(f"line {i}\n" for i in range(5000)))
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", run / "logs" / "escape.log")
    srv = serve(tmp_path / "runs")
    key = srv.key("/r")
    status, _, body = srv.get(f"/run/{key}/logs/trial-1.log")
    assert status == 200 and body.decode().endswith("line 4999\n")
    trial = srv.json(f"/api/run/{key}/trial/1")
    assert trial["log"]["name"] == "trial-1.log" and trial["log"]["cut"]
    assert trial["log"]["tail"].endswith("line 4999\n") and len(trial["log"]["tail"]) <= 16384
    conn = http.client.HTTPConnection("127.0.0.1", srv.httpd.server_port, timeout=5)
    for raw in (f"/run/{key}/logs/../results.db", f"/run/{key}/logs/..%2Fresults.db",
                f"/run/{key}/logs/%2e%2e/%2e%2e/secret.txt", f"/run/{key}/logs/escape.log",
                f"/run/{key}/logs//etc/passwd", f"/run/{key}/logs/"):
        conn.request("GET", raw)
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status in (404, 308), (raw, resp.status)
        assert b"secret" not in body and b"SQLite" not in body and b"root:" not in body


def test_compare_page_data_matches_hps_compare(tmp_path, serve):
    out = run_comparison(CompareConfig(problem="branin", algos=["random"], seeds=2, budget=8,
                                       out=str(tmp_path / "runs" / "cmp"), evaluator="serial"))
    srv = serve(tmp_path / "runs")
    runs = srv.json("/api/runs")
    cmp_row = next(r for r in runs if r["kind"] == "compare")
    assert sorted(r["path"].rsplit("/", 1)[1] for r in runs if r.get("compare") == cmp_row["key"]) == \
        ["random-seed0", "random-seed1"]
    data = srv.json(f"/api/compare/{cmp_row['key']}")
    assert data["metric"] == "regret" and data["unit"] == "evaluations"
    assert data["table"] == json.loads(format_table(summarise(out), "json"))
    (algo,) = data["algos"]
    assert algo["algo"] == "random" and algo["seeds"] == 2 and len(algo["median"]) == GRID_POINTS
    assert all(lo <= m <= hi for lo, m, hi in zip(algo["lo"], algo["median"], algo["hi"]) if m is not None)
    assert [r["key"] is not None for r in algo["runs"]] == [True, True]
    assert srv.get(f"/compare/{cmp_row['key']}")[0] == 200


def test_only_requests_for_this_servers_address_are_answered(runs_root, serve):
    from hpsearch.dashboard.server import HostCheck

    srv = serve(runs_root)
    port = srv.httpd.server_port

    def get(host: str):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.putrequest("GET", "/api/runs", skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()

    for host in ("127.0.0.1", f"127.0.0.1:{port}", "localhost", f"LocalHost:{port}", "[::1]", f"[::1]:{port}",
                 "localhost:9000"):  # any port: an SSH tunnel forwards another one
        status, body = get(host)
        assert status == 200 and len(json.loads(body)) == 2, host
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", "localhost.evil.example:80",
                 "10.1.2.3", f"[fe80::1]:{port}"):  # DNS rebinding: a page's own name pointed at 127.0.0.1
        status, body = get(host)
        assert status == 400, host
        assert b"is not this dashboard's address" in body and b"branin" not in body and len(body) < 300, host
    # --host NAME is answered under that name; a wildcard (every interface) under any address
    assert HostCheck(None, "box.lan").allowed("box.lan:8080") and not HostCheck(None, "box.lan").allowed("a.b")
    assert HostCheck(None, "0.0.0.0").allowed("10.1.2.3:8080") and not HostCheck(None, "0.0.0.0").allowed("e.x")
