"""Open WebUI's own web app, served by owui's gateway, driven in headless Chromium.

One full stack for the session, with the app installed once by the project's own command
(`owui ui install`, from the wheel cached between runs) and a stand-in provider that streams
slowly enough to watch an answer grow. Each test gets a fresh browser context. When a test fails,
a screenshot of the page is kept under tests/browser/artifacts/ (ignored by git) and its path
printed, with the 4xx/5xx answers the page got.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
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
from tests.support.procs import REPO, Proc, start_service

APP_VERSION = "0.12.4"
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium opens connections of its own (updates,
# safe browsing, sync) which this sandbox refuses, many at a time.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
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
    extra: list[Proc] = field(default_factory=list)

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


@pytest.fixture(scope="session")
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
        web = WebStack(stack, app_env, email, log_dir)
        try:
            yield web
        finally:
            for proc in web.extra:
                proc.stop()


@pytest.fixture
def fresh_gateway(web_stack: WebStack, tmp_path: Path) -> str:
    """A gateway with no account yet (its own user database) in front of the same services:
    the app shows its onboarding there."""
    env = {**web_stack.stack.env, **web_stack.app_env, "DEFAULT_USER_ROLE": "user",
           "OWUI_DATA_DIR": str(tmp_path / "gateway")}
    proc = start_service("gateway", env, web_stack.log_dir)
    web_stack.extra.append(proc)
    return proc.url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
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
    fresh = browser.new_context(base_url=app_url, viewport={"width": 1280, "height": 800})
    fresh.set_default_timeout(20_000)
    yield fresh
    fresh.close()


class Steps:
    """The step a test is at (`step("reload mid-answer")`): names the failure's screenshot."""

    def __init__(self) -> None:
        self.number, self.name = 0, "start"

    def __call__(self, name: str) -> None:
        self.number += 1
        self.name = name
        print(f"step {self.number}: {name}")

    @property
    def label(self) -> str:
        return f"{self.number:02d}-" + re.sub(r"[^\w.-]+", "-", self.name).strip("-")


@pytest.fixture
def step() -> Steps:
    return Steps()


@pytest.fixture
def page(context: BrowserContext, step: Steps, request: pytest.FixtureRequest
         ) -> Iterator[Page]:
    opened = context.new_page()
    failures = pages.watch(opened)
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        _keep_evidence(request.node.nodeid, step, context, failures)


def _keep_evidence(nodeid: str, step: Steps, context: BrowserContext,
                   failures: list[str]) -> None:
    """A screenshot (and the HTML) of every page of the failed test, named after the step
    that failed, and the failing requests, printed."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", nodeid)
    shutil.rmtree(folder, ignore_errors=True)  # an earlier run's evidence would mislead
    folder.mkdir(parents=True)
    for number, each in enumerate(context.pages):
        suffix = f"-page{number}" if number else ""
        path = folder / f"{step.label}{suffix}.png"
        try:
            each.screenshot(path=str(path), full_page=True)
            path.with_suffix(".html").write_text(each.content())
            print(f"\nscreenshot of the failed step: {path} ({each.url})")
        except Exception as error:  # the page may have crashed: say so, keep the test's error
            print(f"\nno screenshot of {each.url}: {error}")
    if failures:
        (folder / "network.txt").write_text("\n".join(failures) + "\n")
        print("failing requests:\n  " + "\n  ".join(failures))
