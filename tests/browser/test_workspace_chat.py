"""The chat service's workspace in the web app: a prompt saved on the Prompts page and used from
the chat input's `/` menu; a memory added in Settings > Personalization and given to the model;
a note made and pinned to the sidebar, and text typed in the note editor kept (the editor sends
it over the socket's `ydoc:*` events: chat/realtime/documents.py)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.conftest import ANSWER_MS, PASSWORD, Steps, WebStack

ECHO = "gpt-fake-echo"  # the stand-in answers with the request it got, as JSON


@pytest.fixture
def signed_in(page: Page, web_stack: WebStack, step: Steps) -> Iterator[Page]:
    """Signed in as the admin (a new account may not make prompts: workspace.prompts). The
    pages here need no socket: no wait for it (pages.sign_in waits, for a chat turn)."""
    step("sign in as the admin")
    pages.sign_in_without_socket(page, web_stack.admin_email, PASSWORD)
    yield page


def test_a_saved_prompt_is_used_with_slash(signed_in: Page, step: Steps) -> None:
    page = signed_in
    name = f"Haiku {uuid.uuid4().hex[:6]}"
    text = "Write a haiku about the harbour at dawn."
    step("make a prompt on the Prompts page")
    page.goto("/workspace/prompts/create")
    page.get_by_placeholder("Prompt Name").fill(name)
    command = page.get_by_placeholder("command").input_value()
    assert command, "the app makes the command from the name"
    page.get_by_placeholder(re.compile(r"^Write a summary in 50 words")).fill(text)
    page.get_by_role("button", name="Save & Create").click()
    step("the prompts page lists it")
    expect(page).to_have_url(re.compile(r"/workspace/prompts$"))
    expect(page.get_by_text(name).first).to_be_visible()
    step("type / and the command in the chat input, choose the prompt")
    page.goto("/")
    pages.wait_for_chat_page(page)
    pages.chat_input(page).press_sequentially(f"/{command[:6]}")
    choice = page.get_by_role("button", name=f"{command} {name}")  # the menu's prompt item
    expect(choice.first).to_be_visible()
    choice.first.click()
    expect(pages.chat_input(page)).to_contain_text(text)


def _add_memory(page: Page, step: Steps, text: str) -> None:
    step("open Settings > Personalization")
    page.get_by_label(re.compile(r"^(User menu|Open User Profile Menu)$")) \
        .filter(visible=True).first.click()
    page.get_by_text("Settings", exact=True).first.click()
    page.locator('button[aria-controls="tab-personalization"]').click()
    step("add a memory")
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("button", name="Add Memory").first.click()
    page.get_by_placeholder("Add a preference, fact, or instruction about you").fill(text)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text(text).first).to_be_visible()
    page.keyboard.press("Escape")


def test_a_memory_is_given_to_the_model(page: Page, web_stack: WebStack, step: Steps) -> None:
    step("sign in as the admin, the app's socket connected (the turn answers over it)")
    pages.sign_in(page, web_stack.admin_email, PASSWORD)
    fact = f"Keeps {uuid.uuid4().hex[:6]} bees on the roof"
    _add_memory(page, step, fact)
    step(f"chat with {ECHO}")
    page.goto("/")
    pages.wait_for_chat_page(page)
    pages.pick_model(page, ECHO)
    pages.send(page, "What do you know about me?")
    step("the model got the memory (the stand-in says its request back)")
    expect(pages.answer(page)).to_contain_text(fact, timeout=ANSWER_MS)
    expect(pages.answer(page)).to_contain_text("User Memory")


def test_a_note_is_made_and_pinned(signed_in: Page, step: Steps) -> None:
    page = signed_in
    title = f"Harbour log {uuid.uuid4().hex[:6]}"
    step("make a note")
    page.goto(f"/notes/new?title={quote(title)}&content={quote('Ferry left at nine.')}")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/notes/[0-9a-f-]{36}$"))
    note = page.url.rsplit("/", 1)[1]
    expect(page.get_by_placeholder("Title")).to_have_value(title)
    step("pin it from the notes page")
    page.goto("/notes")
    row = page.locator(f'a[href="/notes/{note}"]').first
    expect(row).to_be_visible()
    row.hover()
    page.get_by_role("button", name="Note Menu").first.click()
    with page.expect_response(lambda r: r.url.endswith(f"/api/v1/notes/{note}/pin")) as pin:
        page.get_by_text("Pin to Sidebar").click()
    assert pin.value.ok, pin.value.text()
    step("the sidebar shows it pinned, also after a reload, on another page")
    page.goto("/")
    pages.wait_for_chat_page(page)
    pages.open_sidebar(page)
    section = page.get_by_role("heading", name="Notes", level=2).get_by_role("button")
    if section.get_attribute("aria-expanded") != "true":  # folded in a fresh browser
        section.click()
    expect(page.locator(f'#pinned-notes-list a[href="/notes/{note}"]')).to_be_visible()
    expect(page.locator("#pinned-notes-list")).to_contain_text(title)
    step("the pinned note opens from the sidebar")
    page.locator(f'#pinned-notes-list a[href="/notes/{note}"]').click()
    expect(page.get_by_placeholder("Title")).to_have_value(title)


def test_text_typed_in_the_note_editor_is_kept(signed_in: Page, step: Steps) -> None:
    page = signed_in
    step("make a note and type in its editor")
    page.goto(f"/notes/new?title={quote('Tide table')}&content={quote('High water at six.')}")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/notes/[0-9a-f-]{36}$"))
    note = page.url.rsplit("/", 1)[1]
    editor = page.locator(".ProseMirror").first
    expect(editor).to_contain_text("High water at six.")
    editor.click()
    page.keyboard.press("ControlOrMeta+End")
    page.keyboard.type(" Low water at noon.")
    step("the text is saved into the note")
    deadline = time.monotonic() + 15
    while "Low water at noon." not in page.request.get(f"/api/v1/notes/{note}").text():
        assert time.monotonic() < deadline, "the typed text was not saved in 15 s"
        page.wait_for_timeout(250)
    step("and is there after a reload")
    page.reload()
    expect(page.locator(".ProseMirror").first).to_contain_text(
        "High water at six. Low water at noon.")
