"""Two people on one owui: the second, signed up in the app, sees nothing of the first's."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.conftest import ANSWER_MS, PASSWORD, WORDS, Steps, WebStack


def test_a_second_user_sees_nothing_of_the_first(page: Page,
                                                 another_person: Callable[[], Page],
                                                 web_stack: WebStack, step: Steps) -> None:
    step("the admin chats")
    pages.sign_in(page, web_stack.admin_email, PASSWORD)
    pages.pick_model(page, "gpt-fake")
    secret = "my private question about the harbour"
    pages.send(page, secret)
    pages.wait_for_word(page, f"word{WORDS - 1}", ANSWER_MS)
    chat = pages.chat_id(page)

    step("a second person signs up, in a browser of their own")
    theirs = another_person()
    # The list is empty once the app has it: wait for its answer, then look.
    with theirs.expect_response(lambda r: "/api/v1/chats/?page=1" in r.url) as listed:
        pages.sign_up(theirs, "Bea Other", "bea@example.com", PASSWORD)
    step("their chat list is empty")
    assert listed.value.json() == []
    pages.open_sidebar(theirs)
    expect(theirs.get_by_text("Chats", exact=True)).to_be_visible()
    expect(theirs.locator('a[href^="/c/"]')).to_have_count(0)
    step("the first user's chat URL shows them nothing")
    with theirs.expect_response(lambda r: r.url.endswith(f"/api/v1/chats/{chat}")) as asked:
        theirs.goto(f"/c/{chat}")
    assert asked.value.status == 404, asked.value.text()
    expect(theirs).not_to_have_url(re.compile(re.escape(chat)))
    pages.wait_for_chat_page(theirs)
    expect(theirs.get_by_text(secret)).to_have_count(0)
    expect(theirs.locator(".chat-assistant")).to_have_count(0)
