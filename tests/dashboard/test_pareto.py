"""The dashboard on a multi-objective run: the front and hypervolume over HTTP (the run history's), the
results table's pareto column, and in a real browser the front's figure drawn in place of the best so far."""
from __future__ import annotations

import pytest

from hpsearch.store import RunHistory, RunStore

from .conftest import make_run
from .test_browser import browser, shot, wait_for  # noqa: F401 - the browser fixture


@pytest.fixture(scope="module")
def mo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("dash-mo") / "runs"
    make_run(root / "zdt-random", problem="zdtshift", max_evals=25, seed=1)
    make_run(root / "dtlz-random", problem="dtlzshift", max_evals=25, seed=2)
    return root


def test_the_front_and_hypervolume_are_the_run_historys(mo_root, serve):
    srv = serve(mo_root)
    key = srv.key("zdt-random")
    meta = srv.json(f"/api/run/{key}")
    assert meta["multi_objective"] and meta["objectives"] == {"f1": "minimize", "f2": "minimize"}
    p = srv.json(f"/api/run/{key}/pareto")
    with RunStore.open(mo_root / "zdt-random", readonly=True) as store:
        h = RunHistory.from_store(store)
    assert p["front"] == [t.trial_id for t in h.front]
    assert {q[0] for q in p["points"] if q[2]} == set(h.pareto_ids)
    assert p["reference"] == [1.1, 1.1] and p["reference_source"] == "declared"
    assert p["hypervolume"] == list(h.hypervolumes)
    assert p["regret"][-1] == pytest.approx(h.hypervolume_optimum - h.hypervolume())
    row = next(r for r in srv.json("/api/runs") if r["key"] == key)
    assert row["front"] == len(h.front) and row["best"] is None
    table = srv.json(f"/api/run/{key}/table?size=100")
    col = table["columns"].index("pareto")
    assert {r[0] for r in table["rows"] if r[col] is True} == set(h.pareto_ids)


def test_a_single_objective_run_has_no_front(runs_root, serve):
    srv = serve(runs_root)
    key = srv.key("branin-random")
    assert srv.json(f"/api/run/{key}")["multi_objective"] is False
    assert srv.json(f"/api/run/{key}/pareto") == {}


@pytest.mark.slow
def test_the_browser_draws_the_front(mo_root, serve, browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    srv = serve(mo_root)
    for name in ("zdt-random", "dtlz-random"):
        key = srv.key(name)
        browser.get(f"{srv.url}/run/{key}")
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#fig-front .main-svg"), what="the front figure")
        assert browser.find_element(By.ID, "sec-pareto").is_displayed()
        note = browser.find_element(By.ID, "pareto-note").text
        front = srv.json(f"/api/run/{key}/pareto")["front"]
        assert note.startswith(f"{len(front)} Pareto-optimal of 25 evaluations")
        assert "declared" in note
        wait_for(lambda: "hypervolume" in browser.find_element(By.ID, "fig-best-n").text,
                 what="the hypervolume figure")
        facts = browser.find_element(By.ID, "facts").text
        assert "Pareto front" in facts and str(len(front)) in facts
        shot(browser, tmp_path, f"pareto-{name}")
