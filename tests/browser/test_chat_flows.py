"""What a person does in a chat and its sidebar, in Open WebUI's own web app on owui (issue 16):
regenerate, edit (a new branch), switch branches, continue, delete a message, rate an answer
with a comment, chat controls, a temporary chat; rename, pin, archive, folders, tags, clone, fork,
delete; a share link opened by a second person, read-only. After each change the page is
reloaded, to show that it was stored."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser import pages
from tests.browser.conftest import ANSWER_MS, PASSWORD, WORDS, Steps, WebStack

T = TypeVar("T")
MODEL = "gpt-fake"
LAST_WORD = f"word{WORDS - 1}"


@pytest.fixture
def signed_in(page: Page, web_stack: WebStack, step: Steps) -> Iterator[Page]:
    step("sign in as the admin")
    pages.sign_in(page, web_stack.admin_email, PASSWORD)
    step(f"pick {MODEL}")
    pages.pick_model(page, MODEL)
    yield page


def _api(page: Page, web_stack: WebStack) -> httpx.Client:
    """The signed-in person's own token (the app keeps it in localStorage), to read what the
    store holds after a step."""
    token = page.evaluate("() => localStorage.token")
    return httpx.Client(base_url=web_stack.url, timeout=30,
                        headers={"Authorization": f"Bearer {token}"})


def _reload(page: Page) -> None:
    page.reload()
    pages.wait_for_chat_page(page)


def _answered(page: Page) -> None:
    pages.wait_for_word(page, LAST_WORD, ANSWER_MS)
    expect(page.get_by_role("button", name="Regenerate").last).to_be_visible()


def _answer_box(page: Page) -> Locator:
    """The newest answer with its toolbar (the message's `#message-<id>` block)."""
    return page.locator("div[id^='message-']").filter(has=page.locator(".chat-assistant")).last


def _question_box(page: Page) -> Locator:
    return page.locator("div.user-message").last


def _toolbar(message: Locator, name: str) -> Locator:
    """A button of a message's toolbar (shown on hover for all but the last message)."""
    message.hover()
    return message.get_by_role("button", name=name, exact=True).first


def _counter(message: Locator) -> Locator:
    """The "1/2" between a message's Previous and Next buttons."""
    return message.get_by_text(re.compile(r"^\d+/\d+$")).first


def _eventually(read: Callable[[], T], timeout_s: float = 20) -> T:
    """What `read` gives once it gives something (the app saves in the background)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = read()
        if found or time.monotonic() > deadline:
            assert found, "not stored in time"
            return found
        time.sleep(0.2)


def _send_first(page: Page, text: str) -> str:
    pages.send(page, text)
    _answered(page)
    return pages.chat_id(page)


def test_regenerate_edit_switch_continue_and_delete(signed_in: Page, web_stack: WebStack,
                                                    step: Steps) -> None:
    page = signed_in
    step("send a message and wait for the answer")
    chat = _send_first(page, "First question")
    api = _api(page, web_stack)

    step("regenerate the answer: a second answer beside the first")
    _toolbar(_answer_box(page), "Regenerate").click()
    page.get_by_text("Try Again", exact=True).click()
    _answered(page)
    expect(_counter(_answer_box(page))).to_have_text("2/2")
    step("reload: both answers are stored, the second shown")
    _reload(page)
    expect(_counter(_answer_box(page))).to_have_text("2/2")

    step("switch to the first answer and back (the app stores no switch: it shows the chat's "
         "current answer after a reload, here as in Open WebUI)")
    _toolbar(_answer_box(page), "Previous message").click()
    expect(_counter(_answer_box(page))).to_have_text("1/2")
    _toolbar(_answer_box(page), "Next message").click()
    expect(_counter(_answer_box(page))).to_have_text("2/2")

    step("delete the second answer: one answer left, also after a reload")
    _toolbar(_answer_box(page), "Delete").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text(re.compile(r"^\d+/2$"))).to_have_count(0)
    _reload(page)
    expect(page.locator(".chat-assistant")).to_have_count(1)
    expect(page.get_by_text(re.compile(r"^\d+/2$"))).to_have_count(0)
    stored = api.get(f"/api/v1/chats/{chat}").json()["chat"]["history"]["messages"]
    assert len(stored) == 2

    step("edit the question and send it: a new branch with its own answer")
    _toolbar(_question_box(page), "Edit").click()
    editor = page.locator(".user-message textarea, .user-message [contenteditable=true]").first
    editor.fill("Edited question")
    page.get_by_role("button", name="Send", exact=True).click()
    _answered(page)
    expect(page.locator(".user-message").last).to_contain_text("Edited question")
    expect(_counter(_question_box(page))).to_have_text("2/2")
    step("reload: the edited branch is stored and shown")
    _reload(page)
    expect(page.locator(".user-message").last).to_contain_text("Edited question")
    expect(_counter(_question_box(page))).to_have_text("2/2")

    step("continue the answer: it grows past its end")
    before = pages.answer_text(page)
    _toolbar(_answer_box(page), "Continue Response").click()
    pages.wait_for_more_text(page, before)
    expect(page.get_by_role("button", name="Stop")).to_have_count(0, timeout=ANSWER_MS)
    longer = pages.answer_text(page)
    _reload(page)
    assert pages.answer_text(page) == longer


def test_rate_an_answer_with_a_comment(signed_in: Page, web_stack: WebStack,
                                       step: Steps) -> None:
    page = signed_in
    step("send a message and wait for the answer")
    chat = _send_first(page, "Rate this")
    api = _api(page, web_stack)
    step("thumbs up, then a comment")
    _toolbar(_answer_box(page), "Good Response").click()
    comment = page.get_by_placeholder("Feel free to add specific details")
    expect(comment).to_be_visible()
    comment.fill("Clear and short")
    page.get_by_role("button", name="Save", exact=True).click()
    step("the rating is stored, as feedback and on the message")
    feedback = _eventually(lambda: next(
        (f for f in api.get("/api/v1/evaluations/feedbacks/user").json()["items"]
         if f["meta"]["chat_id"] == chat and f["data"].get("comment")), None))
    assert feedback["data"]["rating"] == 1 and feedback["data"]["comment"] == "Clear and short"
    step("reload: the rating and the comment are still there")
    _reload(page)
    expect(_answer_box(page)).to_be_visible()
    messages = api.get(f"/api/v1/chats/{chat}").json()["chat"]["history"]["messages"]
    rated = [m for m in messages.values() if m.get("annotation")]
    assert rated and rated[0]["annotation"]["rating"] == 1
    assert rated[0]["annotation"].get("comment") == "Clear and short"
    assert rated[0]["feedbackId"] == feedback["id"]


def test_a_share_link_is_read_only_for_another_person(signed_in: Page, web_stack: WebStack,
                                                      another_person: Callable[[], Page],
                                                      step: Steps) -> None:
    page = signed_in
    step("send a message and wait for the answer")
    secret = "A plan worth sharing"
    chat = _send_first(page, secret)
    step("share the chat from its menu: Copy Link")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Chat actions").click()
    page.locator("#chat-share-button").click()
    page.get_by_role("button", name=re.compile("Copy Link")).click()
    api = _api(page, web_stack)
    share = _eventually(lambda: api.get(f"/api/v1/chats/{chat}").json()["share_id"])

    step("a second person opens the link: the chat, read-only")
    theirs = another_person()
    pages.sign_up(theirs, "Sam Reader", "sam@example.com", PASSWORD)
    theirs.goto(f"/s/{share}")
    expect(theirs.get_by_text(secret)).to_be_visible()
    expect(theirs.locator("#chat-input")).to_have_count(0)
    step("and nothing else: the owner's chat list is not theirs")
    with theirs.expect_response(lambda r: r.url.endswith(f"/api/v1/chats/{chat}")) as asked:
        theirs.goto(f"/c/{chat}")
    assert asked.value.status == 404
    pages.open_sidebar(theirs)
    expect(theirs.locator('a[href^="/c/"]')).to_have_count(0)


def _new_chat(api: httpx.Client, title: str) -> str:
    """A chat with one exchange, as the app stores one (made through the API: what is tested
    here is the sidebar's handling of it)."""
    chat = {"title": title, "models": [MODEL], "history": {"currentId": "a1", "messages": {
        "u1": {"id": "u1", "parentId": None, "childrenIds": ["a1"], "role": "user",
               "content": f"About {title}", "timestamp": 1_700_000_000},
        "a1": {"id": "a1", "parentId": "u1", "childrenIds": [], "role": "assistant",
               "content": "Noted.", "model": MODEL, "timestamp": 1_700_000_001,
               "done": True}}}}
    made = api.post("/api/v1/chats/new", json={"chat": chat})
    assert made.status_code == 200, made.text
    return made.json()["id"]


def _chat_menu(page: Page, chat: str, item: str) -> None:
    """The sidebar item's menu ("Chat Menu", shown on hover), then one of its items."""
    entry = page.locator(f'[data-sidebar-chat-id="{chat}"]').first
    entry.hover()
    entry.get_by_role("button", name="Chat Menu").click()
    page.get_by_role("menuitem", name=item, exact=True).or_(
        page.get_by_role("button", name=item, exact=True)).first.click()


def _sidebar_after_reload(page: Page) -> None:
    _reload(page)
    pages.open_sidebar(page)


def test_the_sidebar_keeps_what_was_done(signed_in: Page, web_stack: WebStack,
                                        step: Steps) -> None:
    page = signed_in
    api = _api(page, web_stack)
    kept, moved, gone = (_new_chat(api, t) for t in ("Garden plan", "Tax notes", "Old idea"))
    _sidebar_after_reload(page)

    step("rename a chat")
    _chat_menu(page, kept, "Rename")
    title_input = page.locator(f"#chat-title-input-{kept}")
    title_input.fill("Vegetable garden")
    title_input.press("Enter")
    expect(page.locator(f'[data-sidebar-chat-id="{kept}"]').first).to_contain_text(
        "Vegetable garden")
    step("pin it")
    _chat_menu(page, kept, "Pin")
    _eventually(lambda: api.get(f"/api/v1/chats/{kept}/pinned").json())

    step("a new folder, and a chat moved into it")
    page.get_by_role("button", name="New Folder").click()
    page.get_by_placeholder("Enter folder name").fill("Paperwork")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Paperwork", exact=True).first).to_be_visible()
    _chat_menu(page, moved, "Move")
    page.get_by_role("menuitem", name="Paperwork").click()
    folder = _eventually(lambda: api.get(f"/api/v1/chats/{moved}").json()["folder_id"])

    step("archive one chat")
    _chat_menu(page, gone, "Archive")
    _eventually(lambda: api.get(f"/api/v1/chats/{gone}").json()["archived"])

    step("reload: renamed, pinned, in the folder, archived")
    _sidebar_after_reload(page)
    expect(page.locator(f'[data-sidebar-chat-id="{kept}"]').first).to_contain_text(
        "Vegetable garden")
    expect(page.locator(f'[data-sidebar-chat-id="{gone}"]')).to_have_count(0)
    assert {f["name"]: f["id"] for f in api.get("/api/v1/folders/").json()}["Paperwork"] == \
        folder
    assert kept in [c["id"] for c in api.get("/api/v1/chats/pinned").json()]
    assert [c["id"] for c in api.get("/api/v1/chats/archived").json()] == [gone]

    step("clone the renamed chat, then delete the clone")
    _chat_menu(page, kept, "Clone")
    clone = _eventually(lambda: next(  # pinned, as the chat it copies (Open WebUI's clone)
        (c["id"] for c in api.get("/api/v1/chats/pinned").json()
         if c["title"] == "Clone of Vegetable garden"), None))
    _sidebar_after_reload(page)
    _chat_menu(page, clone, "Delete")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(f'[data-sidebar-chat-id="{clone}"]')).to_have_count(0)
    _sidebar_after_reload(page)
    expect(page.locator(f'[data-sidebar-chat-id="{clone}"]')).to_have_count(0)
    assert api.get(f"/api/v1/chats/{clone}").status_code == 404


def test_chat_controls_stay_and_a_temporary_chat_is_not_kept(signed_in: Page,
                                                             web_stack: WebStack,
                                                             step: Steps) -> None:
    page = signed_in
    api = _api(page, web_stack)
    step("a chat, then its own system prompt in the chat controls")
    chat = _send_first(page, "Plan my week")
    page.get_by_role("button", name="Controls").first.click()
    prompt = page.get_by_placeholder("Enter system prompt")
    prompt.fill("Answer in French.")
    prompt.blur()
    assert _eventually(lambda: api.get(f"/api/v1/chats/{chat}").json()["chat"].get(
        "params", {}).get("system")) == "Answer in French."
    step("reload: the controls show it")
    _reload(page)
    if not page.get_by_placeholder("Enter system prompt").is_visible():
        page.get_by_role("button", name="Controls").first.click()
    expect(page.get_by_placeholder("Enter system prompt")).to_have_value("Answer in French.")

    step("a temporary chat: answered, never in the list")
    before = {c["id"] for c in api.get("/api/v1/chats/", params={"include_pinned": True}).json()}
    page.goto("/")
    pages.wait_for_chat_page(page)
    page.get_by_role("button", name="Temporary Chat").first.click()
    pages.send(page, "Off the record")
    _answered(page)
    expect(page).not_to_have_url(pages.CHAT_URL)
    after = {c["id"] for c in api.get("/api/v1/chats/", params={"include_pinned": True}).json()}
    assert after == before
    assert not [c for c in api.get("/api/v1/chats/search", params={"text": "record"}).json()]
