"""A real browser draws the run page's importance panel: the bars and the top marginals (Plotly)."""
from __future__ import annotations

import pytest

from .conftest import make_run
from .test_browser import browser, shot, wait_for  # noqa: F401 - browser is a fixture

pytestmark = pytest.mark.slow


def test_run_page_draws_importance_bars_and_marginals(tmp_path, serve, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    root = tmp_path / "runs"
    make_run(root / "anova8-random", problem="anova8", max_evals=300)
    srv = serve(root)
    browser.get(f"{srv.url}/run/{srv.key('anova8-random')}")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#fig-importance .main-svg"), what="the bars")
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#marginals .main-svg")) >= 4,
             what="three marginals and the top pair")
    labels = {t.text for t in browser.find_elements(By.CSS_SELECTOR, "#fig-importance .ytick text")}
    assert {"x1", "x2", "x8", "x3 : x5"} <= labels  # every parameter, and anova8's one true pair
    assert "successful evaluations" in browser.find_element(By.ID, "importance-note").text
    browser.execute_script("document.getElementById('sec-importance').scrollIntoView()")
    shot(browser, tmp_path, "importance")
