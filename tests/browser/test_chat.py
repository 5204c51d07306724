"""A chat in the web app: pick a model, send, watch the answer stream in over socket.io;
reload in the middle and see it finish; stop in the middle and keep what was written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.conftest import ANSWER_MS, PASSWORD, WORDS, Steps, WebStack

MODEL = "gpt-fake"


@pytest.fixture
def signed_in(page: Page, web_stack: WebStack, step: Steps) -> Iterator[Page]:
    step("sign in as the admin")
    pages.sign_in(page, web_stack.admin_email, PASSWORD)
    step(f"pick {MODEL}")
    pages.pick_model(page, MODEL)
    yield page


def test_an_answer_streams_in_and_completes(signed_in: Page, step: Steps) -> None:
    page = signed_in
    step("send a message")
    pages.send(page, "Tell me a long story")
    expect(page.locator(".user-message").last).to_contain_text("Tell me a long story")
    step("the answer grows while it streams")
    first = pages.wait_for_more_text(page, "")
    later = pages.wait_for_more_text(page, first)
    assert later.startswith(first.rstrip()), (first, later)
    assert f"word{WORDS - 1}" not in first
    step("the answer is complete")
    pages.wait_for_word(page, f"word{WORDS - 1}", ANSWER_MS)
    expect(page.get_by_role("button", name="Regenerate").last).to_be_visible()
    assert pages.answer_text(page) == pages.expected_answer(WORDS)
    step("the chat is in the list, under the page's URL")
    chat = pages.chat_id(page)
    pages.open_sidebar(page)
    expect(page.locator(f'a[href="/c/{chat}"]').first).to_be_visible()


def test_reload_in_the_middle_of_an_answer_sees_it_finish(signed_in: Page,
                                                          step: Steps) -> None:
    page = signed_in
    step("send a message")
    pages.send(page, "Keep going after a reload")
    pages.wait_for_word(page, "word5")
    chat = pages.chat_id(page)
    step("reload while the answer streams")
    page.reload()
    pages.wait_for_chat_page(page)
    assert pages.chat_id(page) == chat
    expect(page.locator(".user-message").last).to_contain_text("Keep going after a reload")
    step("the reloaded page shows the answer so far, from its first word, and it grows")
    so_far = pages.wait_for_more_text(page, "")
    assert f"word{WORDS - 1}" not in so_far, "the answer ended before the page was back"
    assert so_far.startswith("word0 word1 word2 word3 word4 word5"), so_far
    pages.wait_for_more_text(page, so_far)
    step("the answer goes on after the reload, to its end")
    pages.wait_for_word(page, f"word{WORDS - 1}", ANSWER_MS)
    expect(page.get_by_role("button", name="Regenerate").last).to_be_visible()
    assert pages.answer_text(page) == pages.expected_answer(WORDS)


def test_stop_keeps_the_partial_answer(signed_in: Page, step: Steps) -> None:
    page = signed_in
    step("send a message")
    pages.send(page, "Stop me halfway")
    pages.wait_for_word(page, "word5")
    chat = pages.chat_id(page)
    step("press Stop while the answer streams")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(page.get_by_role("button", name="Regenerate").last).to_be_visible()
    kept = pages.answer_text(page)
    assert kept.startswith("word0 word1 word2 word3 word4 word5"), kept
    assert f"word{WORDS - 1}" not in kept
    step("after a reload the chat shows the same partial answer")
    page.reload()
    pages.wait_for_chat_page(page)
    assert pages.chat_id(page) == chat
    expect(page.get_by_role("button", name="Regenerate").last).to_be_visible()
    assert pages.answer_text(page) == kept
