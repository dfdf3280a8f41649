"""optuna-dashboard's study page, as a user opens it in a browser, on studies `hyp sweep` wrote (issue 19,
item 1). The API checks are in test_sweep.py; this is the page itself, and it is required where CI provides
Chromium (HYP_REQUIRE_SERVICES=1): without a browser it fails there instead of passing with no page seen."""

from __future__ import annotations

import importlib.util
import re
import shutil
import time

import pytest
from test_sweep import dashboard_study, demo_lab, optuna_dashboard, storage, sweep

from conftest import keep_screenshots, need

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_the_dashboard_page_crowns_the_best_trial_names_the_objective_and_no_minus_infinity(tmp_path, builtin_cache):
    chromium = shutil.which("chromium")
    need(chromium is not None, "needs Debian's chromium: apt-get install -y --no-install-recommends chromium")
    need(importlib.util.find_spec("playwright") is not None, "needs Playwright for Python: the `dev` extra")
    import optuna
    from playwright.sync_api import sync_playwright

    lab = demo_lab(tmp_path / "lab", builtin_cache)
    trained = sweep(lab, "--trials", "1")
    assert trained.returncode == 0, trained.stderr
    nothing_fits = sweep(lab, "--study", "nothing-fits", "--vram-limit", "0.05", "--trials", "2")
    assert nothing_fits.returncode == 0, nothing_fits.stderr
    best = optuna.load_study(study_name="H005", storage=storage(lab)).best_trial

    pages, shots = {}, []
    with optuna_dashboard(storage(lab)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            for name in ("H005", "nothing-fits"):
                page.goto(f"{base}/dashboard/studies/{dashboard_study(base, name)['id']}")
                page.get_by_text("Best Trial", exact=False).first.wait_for(timeout=60_000)
                page.get_by_text("Study User Attributes").first.wait_for(timeout=60_000)
                time.sleep(2)  # plotly draws after the data arrives
                pages[name] = page.inner_text("body")
                shots.append(tmp_path / f"optuna-dashboard-{name}.png")
                page.screenshot(path=str(shots[-1]), full_page=True)
        finally:
            browser.close()
    keep_screenshots(shots)

    assert f"Best Trial (number={best.number})" in pages["H005"]
    for text in pages.values():
        assert "y Axis\nscore" in text  # the objective axis says what it is, not "Objective 0"
        assert not re.search(r"[-−]inf|Infinity", text)  # no "Best Trial: -inf" anywhere
    assert "Best Trial (" not in pages["nothing-fits"]  # nothing fits: nothing crowned
    assert all(shot.stat().st_size > 10_000 for shot in shots)
