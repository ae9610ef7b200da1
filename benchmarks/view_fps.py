"""Frame rate of `bispecific view` while playing, as a browser sees it.

    python benchmarks/view_fps.py [SCENARIO.toml] [--seconds 10]

Starts the page (needs the viz extra and /usr/bin/chromium), presses Play in headless
Chromium and counts how often the drawn grid changes in the browser. Prints frames per
second and simulated hours per second (a frame is one hour, the page's default step).
Server and browser share this machine's cores, as they do for a user.
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

parser = argparse.ArgumentParser()
parser.add_argument("scenario", nargs="?", default="scenarios/continuous_4wk.toml")
parser.add_argument("--seconds", type=float, default=10.0)
args = parser.parse_args()

server = subprocess.Popen([sys.executable, "-m", "bispecific", "view", args.scenario, "--port",
                           "0", "--no-browser"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
try:
    url = next(m.group(0) for line in server.stdout
               if (m := re.search(r"http://[\w.]+:\d+", line)))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        expect(page.locator(".bsp-step")).to_have_text("Step: 0", timeout=60_000)
        page.evaluate("""() => { window.frames_seen = 0;
            new MutationObserver(() => { window.frames_seen++; }).observe(
                document.querySelector('.bsp-grid-view'), {subtree: true, childList: true});
        }""")
        page.locator(".bsp-play").click()
        start = time.perf_counter()
        page.wait_for_timeout(args.seconds * 1000)
        elapsed = time.perf_counter() - start
        frames = page.evaluate("window.frames_seen")
        steps = int(page.locator(".bsp-step").inner_text().split()[-1])
        page.locator(".bsp-play").click()
        browser.close()
    print(f"{frames / elapsed:.1f} grid frames/s in the browser; "
          f"{steps / 60 / elapsed:.1f} simulated hours/s ({steps} one-minute steps "
          f"in {elapsed:.1f} s)")
finally:
    server.terminate()
