"""What a person does in Open WebUI 0.12.4's web app, as Playwright steps.

The selectors are the app's own words and ids, read from the rendered page: placeholders
("Enter Your Email"), button names ("Sign in", "Create Admin Account", "Get started", "Stop",
"Okay, Let's Go!"), aria labels ("Select a model", "Open User Profile Menu", "Send message") and
element ids (`#chat-input`, `#send-message-button`, `#response-content-container`). Every wait
is on what the page shows, never on time.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, Response, expect

# A chat URL: /c/<chat id>.
CHAT_URL = re.compile(r"/c/([0-9a-f-]{36})$")


def watch(page: Page, failures: list[str]) -> None:
    """Every 4xx/5xx answer the page gets (`STATUS METHOD URL: body`), every request that got
    no answer at all, and every uncaught script error, for the failure report. The What's New
    dialog is closed whenever it covers what a step wants to click."""

    def record(response: Response) -> None:
        if response.status >= 400:
            try:
                body = response.text()[:300]
            except Exception:  # a body the browser already dropped (navigation)
                body = ""
            failures.append(f"{response.status} {response.request.method} {response.url}: "
                            f"{body}")

    page.on("response", record)
    page.on("requestfailed", lambda request: failures.append(
        f"no answer: {request.method} {request.url}: {request.failure}"))
    page.on("pageerror", lambda error: failures.append(f"script error on {page.url}: {error}"))
    page.add_locator_handler(page.get_by_role("button", name="Okay, Let's Go!"),
                             lambda button: button.click())


def chat_input(page: Page) -> Locator:
    return page.locator("#chat-input")


def wait_for_chat_page(page: Page) -> None:
    """Signed in and the chat page ready for typing."""
    expect(chat_input(page)).to_be_visible()
    expect(chat_input(page)).to_be_editable()


def _is_version(response: Response) -> bool:
    return response.url.endswith("/api/version") and response.ok


def submit_and_connect(page: Page, button: str) -> None:
    """Presses the sign-in (or sign-up) button, then waits for the chat page and for the app's
    socket. owui refuses the socket until there is a session (Open WebUI accepts it before
    sign-in), so the app connects on its next retry, up to ~5 s later; a message sent before has
    no `session_id` and fails (notes/browser-failures.md). The app calls GET /api/version on
    each socket connect and nowhere else on these pages: its answer marks the connection."""
    with page.expect_response(_is_version, timeout=30_000):
        page.get_by_role("button", name=button, exact=True).click()
        wait_for_chat_page(page)


def onboard(page: Page, name: str, email: str, password: str) -> None:
    """The first visit to an owui without accounts: Get started, then Create Admin Account."""
    page.goto("/")
    page.get_by_role("button", name="Get started").click()
    expect(page.get_by_role("button", name="Create Admin Account")).to_be_visible()
    page.get_by_placeholder("Enter Your Full Name").fill(name)
    page.get_by_placeholder("Enter Your Email").fill(email)
    page.get_by_placeholder("Enter Your Password").fill(password)
    submit_and_connect(page, "Create Admin Account")


def _fill_sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/auth")
    page.get_by_placeholder("Enter Your Email").fill(email)
    page.get_by_placeholder("Enter Your Password").fill(password)


def sign_in(page: Page, email: str, password: str) -> None:
    """Signed in, the chat page ready and the app's socket connected: for a chat turn."""
    _fill_sign_in(page, email, password)
    submit_and_connect(page, "Sign in")


def sign_in_without_socket(page: Page, email: str, password: str) -> None:
    """Signed in and the chat page ready, without waiting for the socket (up to ~5 s more,
    see submit_and_connect): for pages that send no message (settings, workspace, admin)."""
    _fill_sign_in(page, email, password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    wait_for_chat_page(page)


def sign_up(page: Page, name: str, email: str, password: str) -> None:
    """A new account from the sign-in page's "Sign up" link."""
    page.goto("/auth")
    page.get_by_role("button", name="Sign up", exact=True).click()
    expect(page.get_by_role("button", name="Create Account")).to_be_visible()
    page.get_by_placeholder("Enter Your Full Name").fill(name)
    page.get_by_placeholder("Enter Your Email").fill(email)
    page.get_by_placeholder("Enter Your Password").fill(password)
    submit_and_connect(page, "Create Account")


def open_sidebar(page: Page) -> None:
    """The sidebar (chat list, user menu), folded away in a fresh browser."""
    if page.get_by_role("button", name="Close Sidebar").is_visible():
        return
    page.get_by_role("button", name="Open Sidebar").filter(visible=True).first.click()
    expect(page.get_by_role("button", name="Close Sidebar")).to_be_visible()


def sign_out(page: Page) -> None:
    """From the user menu: the "User menu" button of the folded sidebar, or the profile picture
    ("Open User Profile Menu") at the foot of the open one."""
    page.get_by_label(re.compile(r"^(User menu|Open User Profile Menu)$")) \
        .filter(visible=True).first.click()
    page.get_by_text("Sign Out", exact=True).click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


def pick_model(page: Page, model: str) -> None:
    """The model menu at the top of the chat: open it, search, choose."""
    page.get_by_role("button", name=re.compile(r"^(Select a model|Selected model: )")).first.click()
    page.get_by_placeholder("Search a model").fill(model)
    page.get_by_role("option", name=f"Select {model} model", exact=True).click()
    expect(page.get_by_role("button", name=f"Selected model: {model}").first).to_be_visible()


def send(page: Page, text: str) -> None:
    chat_input(page).fill(text)
    page.locator("#send-message-button").click()


def answer(page: Page) -> Locator:
    """The text of the newest answer."""
    return page.locator(".chat-assistant #response-content-container").last


def answer_text(page: Page) -> str:
    return " ".join(answer(page).inner_text().split())


def wait_for_more_text(page: Page, than: str) -> str:
    """Waits until the newest answer is longer than `than` (it is streaming) and returns it."""
    page.wait_for_function(
        """length => {
            const all = document.querySelectorAll('.chat-assistant #response-content-container');
            const last = all[all.length - 1];
            return !!last && last.innerText.trim().length > length;
        }""", arg=len(than))
    return answer_text(page)


def wait_for_word(page: Page, word: str, timeout_ms: float | None = None) -> None:
    expect(answer(page)).to_contain_text(re.compile(rf"\b{word}\b"), timeout=timeout_ms)


def expected_answer(words: int) -> str:
    """What the stand-in provider answers in full (tests/fakes/openai.py)."""
    return " ".join(f"word{i}" for i in range(words))


def chat_id(page: Page) -> str:
    """The chat the page shows, from its URL (the app moves to /c/<id> once a turn starts)."""
    expect(page).to_have_url(CHAT_URL)
    found = CHAT_URL.search(page.url)
    assert found is not None
    return found[1]


def attach_collection(page: Page, query: str, name: str) -> None:
    """`#query` in the message input, then the collection `name` from the picker; shown
    attached above the input."""
    chat_input(page).press_sequentially(f"#{query}")  # a space would end the query
    option = page.locator("button[data-selected]").filter(has_text=name).first
    expect(option).to_be_visible()
    option.click()
    expect(page.get_by_text(name).first).to_be_visible()


def open_sources(page: Page, source: str) -> Locator:
    """The newest answer's sources unfolded; the first source whose button names `source`
    (a regular expression)."""
    toggle = page.get_by_role("button", name=re.compile(r"^Toggle \d+ sources?$")).last
    expect(toggle).to_be_visible()
    toggle.click()
    first = page.get_by_role("button", name=re.compile(rf"^View source: 1 .*{source}")).first
    expect(first).to_be_visible()
    return first
