"""Custom models and connections in the web app: a model made in Workspace > Models with a system
prompt is chosen in the chat and its prompt reaches the provider; an admin adds an
OpenAI-compatible connection in Admin > Settings > Connections and its models appear in the
chat's model menu."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.conftest import ANSWER_MS, PASSWORD, Steps, WebStack
from tests.support.procs import Proc, start_fake

ECHO = "gpt-fake-echo"  # the stand-in answers with the request it got, as JSON


@pytest.fixture
def admin(page: Page, web_stack: WebStack, step: Steps) -> Iterator[Page]:
    step("sign in as the admin")
    pages.sign_in_without_socket(page, web_stack.admin_email, PASSWORD)
    yield page


def _open_chat(page: Page) -> None:
    """A new chat, once the app's socket is connected (it asks for /api/version on each
    connect): a message sent before that has no session and is refused."""
    with page.expect_response(lambda r: r.url.endswith("/api/version") and r.ok,
                              timeout=30_000):
        page.goto("/")
        pages.wait_for_chat_page(page)


def _admin_token(web_stack: WebStack) -> dict[str, str]:
    answer = httpx.post(f"{web_stack.url}/api/v1/auths/signin", timeout=30,
                        json={"email": web_stack.admin_email, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_a_custom_model_with_a_system_prompt_answers_in_the_chat(admin: Page,
                                                                 step: Steps) -> None:
    page = admin
    name, prompt = f"Pirate {uuid.uuid4().hex[:6]}", "You are a pirate; end with arr."
    step("Workspace > Models > new: name, base model, system prompt")
    page.goto("/workspace/models/create")
    page.get_by_placeholder("Model Name").fill(name)
    page.get_by_placeholder("Model ID").fill(name.lower().replace(" ", "-"))
    page.locator("#model-selector-workspace-base-model-button").click()
    page.get_by_placeholder("Search a model").fill(ECHO)
    page.get_by_role("option", name=f"Select {ECHO} model", exact=True).click()
    page.get_by_label("System Prompt").fill(prompt)
    page.get_by_role("button", name="Save & Create").click()
    step("the Models page lists it")
    expect(page).to_have_url("/workspace/models")
    expect(page.get_by_text(name).first).to_be_visible()
    step("choose it in the chat and ask")
    _open_chat(page)
    pages.pick_model(page, name)
    pages.send(page, "Where is the treasure?")
    step("the provider got the model's system prompt first, and the question")
    expect(pages.answer(page)).to_contain_text(prompt, timeout=ANSWER_MS)
    expect(pages.answer(page)).to_contain_text("Where is the treasure?")


@pytest.fixture
def new_provider(web_stack: WebStack) -> Iterator[Proc]:
    """A provider no connection names yet; the OpenAI connections are put back afterwards."""
    headers = _admin_token(web_stack)
    before = httpx.get(f"{web_stack.url}/openai/config", headers=headers, timeout=30).json()
    proc = start_fake("openai", "browser-new-provider", {"FAKE_MODELS": "fresh-fake-model"},
                      web_stack.log_dir)
    try:
        yield proc
    finally:
        proc.stop()
        httpx.post(f"{web_stack.url}/openai/config/update", headers=headers, timeout=30,
                   json=before).raise_for_status()


def test_a_connection_added_by_the_admin_shows_its_models(admin: Page, new_provider: Proc,
                                                         step: Steps) -> None:
    page = admin
    step("Admin > Settings > Connections: add an OpenAI connection")
    page.goto("/admin/settings/connections")
    page.get_by_role("button", name="Add Connection").first.click()
    page.locator("#url-input").fill(new_provider.url + "/v1")
    step("verify it before saving")
    page.get_by_role("button", name="Verify Connection").click()
    expect(page.get_by_text("Server connection verified").first).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/openai/config/update")) as saved:
        page.get_by_role("button", name="Save", exact=True).last.click()
    assert saved.value.ok, saved.value.text()
    expect(page.get_by_role("textbox", name="API Base URL").last).to_have_value(
        new_provider.url + "/v1")
    step("its model is in the chat's model menu, and answers")
    _open_chat(page)
    pages.pick_model(page, "fresh-fake-model")
    pages.send(page, "hello")
    pages.wait_for_word(page, "word1", ANSWER_MS)
