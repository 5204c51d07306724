"""Open WebUI's own web app, served by owui's gateway, driven in headless Chromium.

One full stack for the session, with the app installed once by the project's own command
(`owui ui install`, from the wheel cached between runs in ~/.cache/owui/wheels) and a stand-in
provider that streams slowly enough to watch an answer grow. Each test gets a fresh browser
context. When a test fails, a screenshot and the HTML of each of its pages are kept under
tests/browser/artifacts/<test>/ (ignored by git), named after the step that failed, with the
pages' 4xx/5xx answers and script errors in network.txt; the paths are printed.

Chromium is Debian's /usr/bin/chromium (`make test` installs it as root), launched through
Playwright's executable_path: never `playwright install`, which downloads a browser.

Knobs (environment): BROWSER_SCREENSHOTS=all keeps every step's page of passing tests too;
BROWSER_WORDS (160) and BROWSER_TOKEN_DELAY (0.05 s) shape the stand-in's answer.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.browser import pages
from tests.support.fullstack import FullStack, full_stack
from tests.support.procs import REPO, start_service

APP_VERSION = "0.12.4"
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium opens connections of its own (updates,
# safe browsing, sync) which this sandbox refuses, many at a time.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
ARTIFACTS = Path(__file__).parent / "artifacts"
# The stand-in provider's answer: WORDS chunks, TOKEN_DELAY seconds apart (8 s by default:
# long enough to reload (2-3 s here) or stop in the middle, short enough to wait for the end).
TOKEN_DELAY = float(os.environ.get("BROWSER_TOKEN_DELAY") or 0.05)
WORDS = int(os.environ.get("BROWSER_WORDS") or 160)
# How long an answer may take to stream in full: generous, the machine is shared and Chromium
# renders the markdown again for every chunk.
ANSWER_MS = int(max(30.0, WORDS * TOKEN_DELAY * 6) * 1000)
PASSWORD = "correct-horse-battery"
# Waits on what the page shows: a step that does not happen within this fails.
expect.set_options(timeout=20_000)


@dataclass
class WebStack:
    stack: FullStack
    app_env: dict[str, str]  # where the gateway finds the installed app
    admin_email: str
    log_dir: Path

    @property
    def url(self) -> str:
        return self.stack.gateway


def _install_app(data_dir: Path, log_dir: Path) -> dict[str, str]:
    """`owui ui install` into a data dir of its own (it unpacks into webapp/<version>/); the
    gateways, each with a data dir of its own, are pointed at it with Open WebUI's
    FRONTEND_BUILD_DIR and STATIC_DIR. The wheel comes from owui's download cache
    (~/.cache/owui/wheels), which stays between runs."""
    log = log_dir / "ui-install.log"
    env = {**os.environ, "OWUI_DATA_DIR": str(data_dir)}
    with open(log, "wb") as out:
        done = subprocess.run([sys.executable, "-m", "owui", "ui", "install", "--version",
                               APP_VERSION], env=env, cwd=REPO, stdout=out,
                              stderr=subprocess.STDOUT, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"owui ui install failed ({done.returncode}):\n"
                           f"{log.read_text(errors='replace')[-3000:]}")
    app = data_dir / "webapp" / APP_VERSION
    if not (app / "frontend" / "index.html").is_file():
        raise RuntimeError(f"owui ui install left no frontend/index.html in {app}:\n"
                           f"{log.read_text(errors='replace')[-3000:]}")
    return {"FRONTEND_BUILD_DIR": str(app / "frontend"), "STATIC_DIR": str(app / "static")}


@pytest.fixture(scope="package")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebStack]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it as root "
                    "(apt-get install chromium)", pytrace=False)
    log_dir = tmp_path_factory.mktemp("browser-logs")
    app_env = _install_app(tmp_path_factory.mktemp("browser-app"), log_dir)
    fake = {"FAKE_CHUNK_DELAY": str(TOKEN_DELAY), "FAKE_WORDS": str(WORDS)}
    # DEFAULT_USER_ROLE=user: a second person signs up in the app and chats at once.
    with full_stack(secrets.token_urlsafe(32), tmp_path_factory.mktemp("browser-data"),
                    log_dir, openai_env=fake, DEFAULT_USER_ROLE="user", **app_env) as stack:
        # The first account is the admin the chat flows sign in with; the onboarding flow
        # makes its own on a gateway of its own (`fresh_gateway`).
        email = "admin@example.com"
        answer = httpx.post(f"{stack.gateway}/api/v1/auths/signup",
                            json={"name": "Ada Admin", "email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield WebStack(stack, app_env, email, log_dir)


@pytest.fixture
def fresh_gateway(web_stack: WebStack, tmp_path: Path) -> Iterator[str]:
    """A gateway with no account yet (its own user database) in front of the same services:
    the app shows its onboarding there."""
    env = {**web_stack.stack.env, **web_stack.app_env, "DEFAULT_USER_ROLE": "user",
           "OWUI_DATA_DIR": str(tmp_path / "gateway")}
    proc = start_service("gateway", env, web_stack.log_dir)
    try:
        yield proc.url
    finally:
        proc.stop()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Debian's chromium, never `playwright install` (it downloads a browser build).
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                          args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    """Keeps each phase's report on the test item, for the page fixture's teardown."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def app_url(web_stack: WebStack) -> str:
    """The gateway the test's pages open (a module may point it at another)."""
    return web_stack.url


@pytest.fixture
def context(browser: Browser, app_url: str) -> Iterator[BrowserContext]:
    fresh = browser.new_context(base_url=app_url, viewport=VIEWPORT)
    yield fresh
    fresh.close()


class Steps:
    """The step a test is at (`step("reload mid-answer")`): names the failure's screenshot.
    With BROWSER_SCREENSHOTS=all, the page is also kept as each step ends (to look at a run
    that passed)."""

    def __init__(self, folder: Path) -> None:
        self.number, self.name, self.folder = 0, "start", folder
        self.pages: list[Page] = []  # the test's page, and any it opens in another context
        self.failures: list[str] = []  # their 4xx/5xx answers and script errors
        self.keep_all = os.environ.get("BROWSER_SCREENSHOTS") == "all"

    def __call__(self, name: str) -> None:
        self.keep()
        self.number += 1
        self.name = name
        print(f"step {self.number}: {name}")

    @property
    def label(self) -> str:
        return f"{self.number:02d}-" + re.sub(r"[^\w.-]+", "-", self.name).strip("-")

    def screenshot(self, label: str) -> list[Path]:
        """Each open page as a PNG (and its HTML) named `label`; the files written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        written = []
        for number, each in enumerate(p for p in self.pages if not p.is_closed()):
            path = self.folder / f"{label}{f'-page{number}' if number else ''}.png"
            try:
                each.screenshot(path=str(path), full_page=True)
                path.with_suffix(".html").write_text(each.content())
                written.append(path)
            except Exception as error:  # a crashed page: say so, keep the test's own error
                print(f"\nno screenshot of {each.url}: {error}")
        return written

    def keep(self) -> None:
        if self.keep_all and self.number:
            self.screenshot(self.label)


@pytest.fixture
def step(request: pytest.FixtureRequest) -> Steps:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.nodeid)
    shutil.rmtree(folder, ignore_errors=True)  # an earlier run's evidence would mislead
    return Steps(folder)


@pytest.fixture
def another_person(browser: Browser, app_url: str, step: Steps
                   ) -> Iterator[Callable[[], Page]]:
    """Opens the app in a browser context of its own (another person's), watched like `page`
    and closed only after the failure evidence is kept."""
    opened: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(base_url=app_url, viewport=VIEWPORT)
        opened.append(context)
        fresh = context.new_page()
        pages.watch(fresh, step.failures)
        step.pages.append(fresh)
        return fresh

    yield open_page
    for context in opened:
        context.close()


@pytest.fixture
def page(context: BrowserContext, step: Steps, another_person: Callable[[], Page],
         request: pytest.FixtureRequest) -> Iterator[Page]:
    opened = context.new_page()
    pages.watch(opened, step.failures)
    step.pages.insert(0, opened)
    yield opened
    reports = (getattr(request.node, f"report_{when}", None) for when in ("setup", "call"))
    if any(report is not None and report.failed for report in reports):
        _keep_evidence(step)
    else:
        step.keep()


def _keep_evidence(step: Steps) -> None:
    """A screenshot (and the HTML) of every page of the failed test, named after the step
    that failed, and the failing requests and script errors, printed."""
    for path in step.screenshot(step.label):
        print(f"\nscreenshot of the failed step: {path}")
    if step.failures:
        (step.folder / "network.txt").write_text("\n".join(step.failures) + "\n")
        print("failing requests and script errors:\n  " + "\n  ".join(step.failures))
    if any("ERR_NETWORK_CHANGED" in failure for failure in step.failures):
        # Chromium drops every request in flight when a network interface comes or goes
        # (containers starting on this machine); no flag turns that off.
        print("note: ERR_NETWORK_CHANGED: a network interface changed on this machine while "
              "the test ran (containers starting?); Chromium dropped its requests. Run again.")
