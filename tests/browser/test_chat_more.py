"""More of what a person does with chats in Open WebUI's own web app on owui (issue 16), each
change shown to be stored by a reload: stop a streaming answer, ask two models at once, a
generated title, a share link deleted, search and tags, folders renamed, nested and deleted,
unread marks, unarchive, delete all chats."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.conftest import ANSWER_MS, PASSWORD, WORDS, Steps, WebStack
from tests.browser.test_chat_flows import (
    MODEL,
    _api,
    _eventually,
    _reload,
    _send_first,
    signed_in,
)

__all__ = ["signed_in"]  # the fixture, used here by name
SECOND_MODEL = "gpt-fake-echo"  # answers with the request it got, as JSON


def _messages(api: httpx.Client, chat: str) -> list[dict]:
    return list(api.get(f"/api/v1/chats/{chat}").json()["chat"]["history"]["messages"].values())


def test_stop_keeps_the_partial_answer(signed_in: Page, web_stack: WebStack,
                                       step: Steps) -> None:
    page = signed_in
    step("send, then Stop while the answer streams")
    pages.send(page, "Tell me everything")
    pages.wait_for_word(page, "word5")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    chat = pages.chat_id(page)
    api = _api(page, web_stack)
    stored = _eventually(lambda: next(
        (m["content"] for m in _messages(api, chat) if m["role"] == "assistant"
         and m.get("done") and m.get("content")), None))
    assert "word5" in stored and f"word{WORDS - 1}" not in stored
    step("reload: the partial answer is kept, not more")
    _reload(page)
    expect(pages.answer(page)).to_contain_text("word5")
    assert f"word{WORDS - 1}" not in pages.answer_text(page)


def test_a_generated_title_and_two_models_at_once(signed_in: Page, web_stack: WebStack,
                                                  step: Steps) -> None:
    page = signed_in
    api = _api(page, web_stack)
    step("compare: a second model beside the first")
    page.get_by_role("button", name=re.compile(r"^Selected model: ")).first.click()
    page.get_by_role("button", name="Compare").click()
    page.get_by_placeholder("Search a model").fill(SECOND_MODEL)
    page.get_by_role("option", name=f"Select {SECOND_MODEL} model", exact=True).click()
    page.keyboard.press("Escape")
    step("send: two answers side by side")
    pages.send(page, "Compare these two")
    chat = pages.chat_id(page)
    containers = page.locator(".chat-assistant #response-content-container")
    expect(containers).to_have_count(2, timeout=ANSWER_MS)
    expect(containers.filter(has_text=f"word{WORDS - 1}")).to_have_count(1, timeout=ANSWER_MS)
    expect(containers.filter(has_text='"model"')).to_have_count(1)  # the echo
    answers = _eventually(lambda: sorted(
        m["model"] for m in _messages(api, chat) if m["role"] == "assistant" and m.get("done")))
    assert answers == sorted([MODEL, SECOND_MODEL])
    step("a generated title, not New Chat")
    title = _eventually(lambda: (t := api.get(f"/api/v1/chats/{chat}").json()["title"])
                        != "New Chat" and t)
    step("reload: both answers and the title are stored")
    _reload(page)
    expect(page.locator(".chat-assistant #response-content-container")).to_have_count(2)
    pages.open_sidebar(page)
    expect(page.locator(f'[data-sidebar-chat-id="{chat}"]').first).to_contain_text(title)


def test_a_deleted_share_link_is_not_found(signed_in: Page, web_stack: WebStack,
                                           another_person: Callable[[], Page],
                                           step: Steps) -> None:
    page = signed_in
    step("share a chat")
    chat = _send_first(page, "Shared for a while")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Chat actions").click()
    page.locator("#chat-share-button").click()
    page.get_by_role("button", name=re.compile("Copy Link")).click()
    api = _api(page, web_stack)
    share = _eventually(lambda: api.get(f"/api/v1/chats/{chat}").json()["share_id"])
    theirs = another_person()
    pages.sign_up(theirs, "Lee Later", "lee@example.com", PASSWORD)
    theirs.goto(f"/s/{share}")
    expect(theirs.get_by_text("Shared for a while")).to_be_visible()
    step("the owner deletes the link")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Chat actions").click()
    page.locator("#chat-share-button").click()
    page.get_by_role("button", name=re.compile("Delete (this )?link", re.I)).click()
    _eventually(lambda: api.get(f"/api/v1/chats/{chat}").json()["share_id"] is None)
    step("the second person's link: not found")
    with theirs.expect_response(lambda r: f"/api/v1/chats/share/{share}" in r.url) as asked:
        theirs.goto(f"/s/{share}")
    assert asked.value.status == 404
    expect(theirs.get_by_text("Shared for a while")).to_have_count(0)
