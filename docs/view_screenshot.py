"""Redraw docs/figures/view.png: `bispecific view` in headless Chromium, stepped to day 21.

Needs the viz extra and Chromium (docs/guide/browser.md). Run from the repository root:
    python docs/view_screenshot.py
"""

import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

server = subprocess.Popen(
    [sys.executable, "-m", "bispecific", "view", "scenarios/continuous_4wk.toml", "--port", "0",
     "--no-browser"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
try:
    url = next(m.group(0) for line in server.stdout
               if (m := re.search(r"http://[\w.]+:\d+", line)))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 960})
        page.goto(url)
        expect(page.locator(".bsp-step")).to_have_text("Step: 0", timeout=60_000)
        page.get_by_role("button", name=re.compile("Each step advances")).click()
        page.get_by_role("option", name="1 day").click()  # a step is a day
        for day in range(1, 22):
            page.locator(".bsp-step-button").click()
            expect(page.locator(".bsp-day")).to_have_text(f"Day {day}.00 of 28")
        page.screenshot(path=ROOT / "docs" / "figures" / "view.png")
        browser.close()
finally:
    server.terminate()
