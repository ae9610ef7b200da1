"""`bispecific view` in a real browser: the command is started as a user starts it, and
headless Chromium drives the page through Playwright: it loads, the grid and the plots are
drawn, Step advances the model, a slider changes the scenario and Reset rebuilds it, Play
runs it, and the saved TOML is a scenario `bispecific run` accepts.

Needs the viz extra (`pip install -e ".[viz]"`) and Debian's Chromium (/usr/bin/chromium);
skipped with the reason where either is missing, and an error instead where
BISPECIFIC_REQUIRE_BROWSER_TEST=1 (CI, `.ci/run`), so that it cannot be skipped unseen.
"""

import os
import queue
import re
import subprocess
import sys
import threading
from importlib.util import find_spec
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).parent.parent
SCENARIO = ROOT / "scenarios" / "continuous_4wk.toml"


def _missing() -> list[str]:
    missing = [f"the Python package {m}" for m in ("solara", "playwright", "pytest_playwright")
               if find_spec(m) is None]
    if not CHROMIUM.exists():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    return missing


if _missing():
    reason = ("the browser test needs " + ", ".join(_missing())
              + "; install the viz extra: pip install -e '.[viz]'")
    if os.environ.get("BISPECIFIC_REQUIRE_BROWSER_TEST") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

from bispecific.cli import main  # noqa: E402
from bispecific.scenario import load_scenario  # noqa: E402
from bispecific.scenario.settings import settings_of  # noqa: E402

# Chromium in a container: no sandbox, no GPU, nothing that reaches for the network.
# (Playwright gives every launch a fresh profile folder: --user-data-dir is its own.)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True,
            "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000},
            "accept_downloads": True}


@pytest.fixture(scope="module")
def server():
    """`bispecific view SCENARIO --port 0 --no-browser`, as a user would start it; yields
    its address once it says it serves (it compiles the kernels first)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bispecific", "view", str(SCENARIO), "--port", "0",
         "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=ROOT)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout],
                     daemon=True).start()
    said = []
    try:
        while True:
            line = lines.get(timeout=180)  # waits for the server's own line, not a guess
            said.append(line)
            found = re.search(r"http://[\w.]+:\d+", line)
            if found:
                break
            if proc.poll() is not None:
                pytest.fail("bispecific view stopped:\n" + "".join(said))
        assert "continuous_4wk" in line
        yield found.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator(".bsp-step")).to_have_text("Step: 0", timeout=60_000)


def grid_src(page: Page) -> str:
    return page.locator(".bsp-grid-image").get_attribute("src")


def natural_width(page: Page, selector: str) -> int:
    return page.locator(selector).evaluate("img => img.naturalWidth")


def slide(page: Page, label: str, key: str, labels: list[str]) -> None:
    """Move a slider as a keyboard user does: focus its thumb and press an arrow key, once
    per label expected, waiting each time for the page to show the new value (the server
    writes it into the label), so that no key press races the one before."""
    thumb = page.get_by_role("slider", name=re.compile("^" + re.escape(label)))
    for expected in labels:
        thumb.focus()
        thumb.press(key)
        expect(page.get_by_role("slider", name=expected, exact=True)).to_be_attached()


def test_the_page_loads_with_the_grid_and_the_plots(server, page: Page):
    open_page(page, server)
    expect(page.get_by_text("bispecific view: continuous_4wk").first).to_be_visible()
    grid = page.locator(".bsp-grid-image")
    expect(grid).to_be_visible()
    assert natural_width(page, ".bsp-grid-image") == 100  # one pixel per voxel of the patch
    assert grid.bounding_box()["width"] > 300  # drawn large, without smoothing
    expect(page.locator(".bsp-scalebar")).to_have_text("200 um")
    expect(page.locator(".bsp-legend")).to_contain_text("CD19- blast")
    plots = page.locator(".bsp-plots img, img.bsp-plots").first
    expect(plots).to_be_visible()
    assert plots.evaluate("img => img.naturalWidth") > 300
    # The controls start at the scenario's values; E:T is derived from them.
    expect(page.get_by_role("slider", name=re.compile("^Target dose"))).to_have_attribute(
        "aria-valuenow", "28")
    expect(page.locator(".bsp-et")).to_have_text("E:T 1:8.33 (T cells to blasts)")
    expect(page.locator(".bsp-schedule")).to_contain_text("9 ug/day on days 0-7")


def test_step_advances_the_model_and_the_drawn_grid(server, page: Page):
    open_page(page, server)
    before = grid_src(page)
    page.locator(".bsp-step-button").click()
    expect(page.locator(".bsp-step")).to_have_text("Step: 60")  # one hour of 1-min steps
    expect(page.locator(".bsp-day")).to_have_text("Day 0.04 of 28")
    # The counter and the grid are separate updates from the server: wait for the grid too.
    expect(page.locator(".bsp-grid-image")).not_to_have_attribute("src", before)
    page.locator(".bsp-step-button").click()
    expect(page.locator(".bsp-step")).to_have_text("Step: 120")


def test_play_runs_and_pause_stops(server, page: Page):
    open_page(page, server)
    page.locator(".bsp-play").click()
    expect(page.locator(".bsp-step")).not_to_have_text("Step: 0")
    expect(page.locator(".bsp-step-button")).to_be_disabled()  # no Step while playing
    page.locator(".bsp-play").click()
    expect(page.locator(".bsp-step-button")).to_be_enabled()
    stopped = page.locator(".bsp-step").inner_text()
    page.locator(".bsp-step-button").click()
    minutes = int(stopped.split()[-1]) + 60
    expect(page.locator(".bsp-step")).to_have_text(f"Step: {minutes}")


def test_a_slider_changes_the_scenario_and_reset_rebuilds_it(server, page: Page):
    open_page(page, server)
    page.locator(".bsp-step-button").click()
    expect(page.locator(".bsp-step")).to_have_text("Step: 60")
    slide(page, "Patch:", "ArrowLeft", [f"Patch: {n} x {n} voxels" for n in (90, 80, 70, 60)])
    expect(page.get_by_role("slider", name=re.compile("^Patch"))).to_have_attribute(
        "aria-valuenow", "60")
    expect(page.get_by_text("Reset to run them")).to_be_visible()
    assert natural_width(page, ".bsp-grid-image") == 100  # not before Reset
    slide(page, "T cells:", "ArrowRight", ["T cells: 6.5% of marrow cells",
                                            "T cells: 7% of marrow cells"])
    expect(page.locator(".bsp-et")).to_have_text("E:T 1:7.14 (T cells to blasts)")
    page.locator(".bsp-reset").click()
    expect(page.locator(".bsp-step")).to_have_text("Step: 0")
    expect(page.locator(".bsp-caption")).to_contain_text("60 x 60 voxels")
    assert natural_width(page, ".bsp-grid-image") == 60
    # 60 x 60 voxels, 60% of them cells, 7% of those T cells: the new patient.
    expect(page.locator(".bsp-counts")).to_contain_text(f"T cells {round(3600 * 0.6 * 0.07)},")


def test_the_saved_toml_is_a_scenario_bispecific_run_accepts(server, page: Page, tmp_path):
    open_page(page, server)
    slide(page, "Target dose", "ArrowRight", ["Target dose: 29 ug/day",
                                               "Target dose: 30 ug/day"])
    slide(page, "Marrow blasts", "ArrowLeft", ["Marrow blasts: 49% of marrow cells",
                                               "Marrow blasts: 48% of marrow cells"])
    expect(page.locator(".bsp-schedule")).to_contain_text("30 ug/day on days 7-28")
    with page.expect_download() as download:
        page.get_by_text("Save settings as scenario TOML").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "continuous_4wk_view.toml"
    saved = load_scenario(path)
    settings = settings_of(saved)
    assert settings["target_dose_ug_per_day"] == 30.0
    assert settings["first_dose_ug_per_day"] == 9.0 and settings["step_day"] == 7.0
    assert saved.patient.marrow_blast_fraction == pytest.approx(0.48)
    assert saved.seed == load_scenario(SCENARIO).seed
    out = tmp_path / "run"
    assert main(["run", str(path), "--days", "0.02", "--quiet", "--out", str(out)]) == 0
    assert (out / "summary.json").exists()
