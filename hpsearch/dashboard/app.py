"""The Flask application: HTML skeletons plus the JSON endpoints their scripts poll.

Only GET routes exist; none changes a run or runs user code. Every page sets a
strict Content-Security-Policy (scripts only from this server, no inline
script), templates autoescape, and the scripts write user strings with
``textContent``.
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, render_template, request, send_file

from ..errors import UsageError
from ..trial import Status
from .query import Catalog, Entry, RunSnapshot

__all__ = ["create_app", "PLOTLY_JS", "LOG_DIR", "TABLE_PAGE", "log_file", "tail"]

LOG_DIR = "logs"
#: Rows per table page unless ``size`` says otherwise (at most :data:`TABLE_MAX`).
TABLE_PAGE = 50
TABLE_MAX = 1000
#: The last bytes of a trial's log shown on its page.
TAIL_BYTES = 16_384

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'none'")


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


PLOTLY_JS = _plotly_js


def log_file(run_dir: Path, name: str) -> Path | None:
    """``RUN_DIR/logs/NAME`` if it is a regular file inside that folder, else None (no traversal)."""
    logs = (run_dir / LOG_DIR).resolve()
    if not name or "/" in name or "\\" in name or "\0" in name or name in (".", ".."):
        return None
    try:
        path = (logs / name).resolve()
        if path.parent != logs or not path.is_file():
            return None
    except OSError:  # a name too long for the file system
        return None
    return path


def tail(path: Path, n_bytes: int = TAIL_BYTES) -> tuple[str, bool]:
    """The last ``n_bytes`` of a file as text, and whether it was cut."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size > n_bytes:
            f.seek(size - n_bytes)
        data = f.read(n_bytes)
    return data.decode("utf-8", errors="replace"), size > n_bytes


def _clean(v: Any) -> Any:
    """JSON-safe: non-finite floats become None."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def create_app(paths: list[str | os.PathLike]) -> Flask:
    """The dashboard over run/comparison directories found under ``paths``."""
    app = Flask(__name__)
    app.json.sort_keys = False
    catalog = Catalog(paths)
    catalog.scan()
    app.config["CATALOG"] = catalog

    @app.after_request
    def headers(resp):
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.errorhandler(UsageError)
    @app.errorhandler(sqlite3.DatabaseError)
    @app.errorhandler(json.JSONDecodeError)
    def unreadable(exc: Exception):
        """A run or comparison that cannot be read (a damaged store): 409 saying why, never a 500."""
        message = str(exc)
        if not isinstance(exc, UsageError):
            e = catalog.entries.get((request.view_args or {}).get("key", ""))
            where = f"{e.path / 'results.db'}: " if e is not None and e.kind == "run" else ""
            message = f"{where}not a readable run store ({type(exc).__name__}: {exc})"
        if request.path.startswith("/api/"):
            return jsonify({"error": message}), 409
        return render_template("error.html", message=message), 409

    def run_entry(key: str) -> Entry:
        e = catalog.get(key, "run")
        if e is None:
            abort(404)
        return e

    def snap_of(key: str) -> RunSnapshot:
        return catalog.snapshot(run_entry(key).path)

    # -- static: plotly.js from its Python package --------------------------------------
    @app.get("/vendor/plotly.min.js")
    def plotly_js():
        resp = send_file(PLOTLY_JS(), mimetype="text/javascript", max_age=86400)
        resp.headers["Cache-Control"] = "public, max-age=86400"
        return resp

    @app.get("/favicon.ico")
    def favicon():
        return "", 204

    # -- pages ----------------------------------------------------------------------------
    @app.get("/")
    def runs_page():
        return render_template("runs.html", paths=[str(p) for p in catalog.paths])

    @app.get("/run/<key>")
    def run_page(key: str):
        e = run_entry(key)
        snap = catalog.snapshot(e.path)
        s = snap.settings
        return render_template("run.html", key=key, path=str(e.path), problem=s.get("problem_name", ""),
                               algo=s.get("algo", ""), seed=s.get("seed"), compare=e.compare)

    @app.get("/run/<key>/trial/<int:trial_id>")
    def trial_page(key: str, trial_id: int):
        e = run_entry(key)
        return render_template("trial.html", key=key, trial_id=trial_id, path=str(e.path),
                               problem=catalog.snapshot(e.path).settings.get("problem_name", ""))

    @app.get("/compare/<key>")
    def compare_page(key: str):
        e = catalog.get(key, "compare")
        if e is None:
            abort(404)
        return render_template("compare.html", key=key, path=str(e.path))

    # -- JSON -------------------------------------------------------------------------------
    @app.get("/api/runs")
    def api_runs():
        entries = catalog.scan(max_age=0.5)
        rows = []
        for e in list(entries.values()):
            try:
                rows.append(catalog.summary(e))
            except Exception as exc:  # noqa: BLE001 - a half-written or foreign directory: show why
                rows.append({"key": e.key, "kind": e.kind, "path": str(e.path), "error": str(exc)})
        rows.sort(key=lambda r: (r.get("started") or "", r.get("mtime") or 0), reverse=True)
        return jsonify([{k: _clean(v) for k, v in r.items()} for r in rows])

    @app.get("/api/run/<key>")
    def api_run(key: str):
        """Settings and dimensions (once per page), counts and status (every poll)."""
        e = run_entry(key)
        snap = catalog.snapshot(e.path)
        summary = catalog.summary(e)
        return jsonify({
            "summary": {k: _clean(v) for k, v in summary.items()},
            "counts": snap.counts(),
            "objective": snap.objective,
            "direction": snap.direction, "optimum": snap.optimum,
            "objectives": dict(snap.history.objectives), "multi_objective": snap.history.multi_objective,
            "multi_fidelity": snap.multi_fidelity, "has_budget": snap.has_budget,
            "dims": snap.space.get("dims", []), "params": snap.param_names, "metrics": snap.metric_names,
            "finished": len(snap.finished),
            "running_ids": [t.trial_id for t in snap.unfinished if t.status == Status.RUNNING],
            "settings": {k: snap.settings.get(k) for k in
                         ("algo", "seed", "max_evals", "timeout", "evaluator", "workers", "algo_options",
                          "fix", "problem_dir", "hpsearch_version", "created_at")},
        })

    @app.get("/api/run/<key>/points")
    def api_points(key: str):
        """Finished evaluations from index ``since`` on (completion order): what every figure needs.

        Each trial is ``[trial_id, config_id, bracket, rung, budget, status, objective, {params}]``;
        the params object is the stored JSON text, passed through undecoded (the big cost otherwise).
        """
        snap = snap_of(key)
        since = max(request.args.get("since", 0, type=int), 0)
        c = snap.curve()
        dumps = json.dumps
        trials = ",".join(
            dumps([t[0], t[1], t[2], t[3], t[4], t[9], _clean(t[7])])[:-1] + "," + t[6] + "]"
            for t in snap.finished[since:])
        curve = dumps({k: v[since:] for k, v in c.items()})  # finite: objectives of done trials
        body = f'{{"since":{since},"total":{len(snap.finished)},"trials":[{trials}],"curve":{curve}}}'
        return app.response_class(body, mimetype="application/json")

    @app.get("/api/run/<key>/pareto")
    def api_pareto(key: str):
        """A multi-objective run's Pareto front and hypervolume curve (empty for one objective)."""
        data = snap_of(key).pareto()
        return jsonify({k: _clean(v) for k, v in data.items()})

    @app.get("/api/run/<key>/importance")
    def api_importance(key: str):
        """fANOVA importance per budget and the top marginals (computed once per snapshot)."""
        from .importance import importance_data

        return jsonify(importance_data(snap_of(key)))

    @app.get("/api/run/<key>/table")
    def api_table(key: str):
        """One page of the results table: ``page``, ``size``, ``sort`` (a column), ``desc``, ``status``."""
        snap = snap_of(key)
        head = snap.header()
        size = min(max(request.args.get("size", TABLE_PAGE, type=int), 1), TABLE_MAX)
        page = max(request.args.get("page", 0, type=int), 0)
        status = request.args.get("status", "")
        sort = request.args.get("sort", "")
        rows = snap.rows(sort if sort in head else "", request.args.get("desc", "0") == "1",
                         set(status.split(",")) if status else None)
        part = rows[page * size:(page + 1) * size]
        return jsonify({"columns": head, "rows": [[_clean(v) for v in snap.csv_row(r)] for r in part],
                        "total": len(rows), "page": page, "size": size})

    @app.get("/api/run/<key>/reports")
    def api_reports(key: str):
        """Learning curves: every stored report of every evaluation (by trial)."""
        e = run_entry(key)
        from ..store import RunStore

        with RunStore.open(e.path, readonly=True) as store:
            rows = store.conn.execute(
                "SELECT trial_id, metrics FROM reports ORDER BY trial_id, rowid").fetchall()

        out: dict[int, list] = {}
        for tid, m in rows:
            out.setdefault(tid, []).append(json.loads(m))
        return jsonify({"reports": [{"trial_id": k, "reports": v} for k, v in out.items()]})

    @app.get("/api/run/<key>/trial/<int:trial_id>")
    def api_trial(key: str, trial_id: int):
        e = run_entry(key)
        snap = catalog.snapshot(e.path)
        row = next((r for r in snap.finished + snap.unfinished if r.trial_id == trial_id), None)
        if row is None:
            abort(404)
        t = row.trial()
        from ..store import RunStore

        with RunStore.open(e.path, readonly=True) as store:
            reports = store.reports(trial_id)
        head = snap.header()
        cells = snap.store.csv_row(t)
        log = log_file(e.path, f"trial-{trial_id}.log")
        log_text, cut = tail(log) if log else ("", False)
        return jsonify({
            "trial_id": t.trial_id, "status": t.status, "error": t.error, "objective": _clean(t.objective),
            "config": t.params, "metrics": {k: _clean(v) for k, v in t.metrics.items()},
            "row": dict(zip(head, [_clean(v) for v in cells])), "reports": reports,
            "log": {"name": log.name if log else None, "tail": log_text, "cut": cut},
        })

    @app.get("/run/<key>/logs/<path:name>")
    def raw_log(key: str, name: str):
        """A log file of the run, only from inside its own logs/ folder."""
        e = run_entry(key)
        path = log_file(e.path, name)
        if path is None:
            abort(404)
        return send_file(path, mimetype="text/plain; charset=utf-8")

    @app.get("/api/compare/<key>")
    def api_compare(key: str):
        e = catalog.get(key, "compare")
        if e is None:
            abort(404)
        from .comparison import comparison_data

        return jsonify(comparison_data(e.path, {x.path.name: x.key for x in catalog.entries.values()
                                                 if x.compare == key}))

    return app
