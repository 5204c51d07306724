"""Time from navigation to Open WebUI's chat input being usable, in headless Chromium.

    .venv/bin/python bench/webapp_browser.py --url http://127.0.0.1:8000 \\
        --email admin@example.com --password ... [--loads 20]

Against a running owui that serves the web app (`owui ui install`, then `owui up`), with an
account that exists. Signs in once through the app, then loads the chat page `--loads` times:
"cold" in a fresh browser context each time (nothing cached but the session), "warm" as a
reload of one page (the app's hashed files come from the browser's cache). A load ends when
`#chat-input` is editable, on screen, and not covered (the splash screen gone, no dialog over
it): the moment, on the page's own clock (`performance.now()`, counted from the navigation's
start), is read in the page, so Playwright's round trips are not in the figure.

Needs Debian's chromium at /usr/bin/chromium (`make test` installs it) and Playwright for Python
(the test extra); never `playwright install`.

From another benchmark (bench/webapp.py): `install_webapp(data_dir)` before its services start
with OWUI_DATA_DIR=data_dir (the gateway then serves the app), then, outside any event loop,
`time_to_chat_input(gateway_url, email, password, loads).lines()`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
# Returns performance.now() once the chat input can take typing, else a falsy value (polled
# every animation frame by wait_for_function).
_USABLE = """() => {
    if (document.getElementById('splash-screen')) return 0;
    const input = document.querySelector('#chat-input[contenteditable="true"]');
    if (!input) return 0;
    const box = input.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return 0;
    const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (!top || !(input === top || input.contains(top))) return 0;
    return performance.now();
}"""


@dataclass
class LoadTimes:
    cold_ms: list[float]
    warm_ms: list[float]

    @staticmethod
    def p50(values: list[float]) -> float:
        return statistics.median(values)

    def lines(self) -> list[str]:
        return [f"navigation to usable chat input, {kind}: p50 {self.p50(values):.0f} ms, "
                f"min {min(values):.0f}, max {max(values):.0f} (n={len(values)})"
                for kind, values in (("cold (fresh context)", self.cold_ms),
                                     ("warm (reload)", self.warm_ms))]


def install_webapp(data_dir: Path, version: str = "0.12.4") -> None:
    """`owui ui install` into `data_dir` (from the wheel cached in ~/.cache/owui/wheels, else
    downloaded once), where a gateway with OWUI_DATA_DIR=data_dir finds it."""
    subprocess.run([sys.executable, "-m", "owui", "ui", "install", "--version", version],
                   env={**os.environ, "OWUI_DATA_DIR": str(data_dir)}, check=True,
                   stdout=subprocess.DEVNULL)


def launch(driver: Playwright) -> Browser:
    return driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def _dismiss_whats_new(page: Page) -> None:
    """The admin's "What's New" dialog, closed as a person would, once."""
    page.add_locator_handler(page.get_by_role("button", name="Okay, Let's Go!"),
                             lambda button: button.click())


def signed_in_state(browser: Browser, url: str, email: str, password: str) -> dict:
    """Signs in through the app's form; the session (localStorage token, cookie) to reuse."""
    context = browser.new_context(base_url=url, viewport=VIEWPORT)
    try:
        page = context.new_page()
        _dismiss_whats_new(page)
        page.goto("/auth")
        page.get_by_placeholder("Enter Your Email").fill(email)
        page.get_by_placeholder("Enter Your Password").fill(password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        # A click runs the dialog handler first: the dismissal is stored in the user's
        # settings, so the timed loads see no dialog.
        page.locator("#chat-input").click()
        page.wait_for_function(_USABLE, polling="raf", timeout=30_000)
        return context.storage_state()
    finally:
        context.close()


def _load(page: Page, reload: bool) -> float:
    if reload:
        page.reload(wait_until="commit")
    else:
        page.goto("/", wait_until="commit")
    return float(page.wait_for_function(_USABLE, polling="raf", timeout=30_000).json_value())


def time_to_chat_input(url: str, email: str, password: str, loads: int = 20) -> LoadTimes:
    """`loads` cold and `loads` warm loads of the chat page (one untimed warm-up of each)."""
    with sync_playwright() as driver:
        browser = launch(driver)
        try:
            state = signed_in_state(browser, url, email, password)
            cold = []
            for index in range(loads + 1):
                context: BrowserContext = browser.new_context(
                    base_url=url, viewport=VIEWPORT, storage_state=state)  # type: ignore[arg-type]
                try:
                    took = _load(context.new_page(), reload=False)
                finally:
                    context.close()
                if index:
                    cold.append(took)
            context = browser.new_context(base_url=url, viewport=VIEWPORT,
                                          storage_state=state)  # type: ignore[arg-type]
            try:
                page = context.new_page()
                _load(page, reload=False)
                warm = [_load(page, reload=True) for _ in range(loads)]
            finally:
                context.close()
            return LoadTimes(cold, warm)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()
    times = time_to_chat_input(args.url, args.email, args.password, args.loads)
    for line in times.lines():
        print(line)


if __name__ == "__main__":
    sys.exit(main())
