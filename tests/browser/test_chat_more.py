"""More of what a person does with chats in Open WebUI's own web app on owui (issue 16), each
change shown to be stored by a reload: stop a streaming answer (the partial answer kept), ask
two models at once (side by side), a generated title, copy an answer, a share link deleted
(the second person's link then not found), search by words and by tag, tags added and removed,
folders renamed, nested (from the menu and by dragging) and deleted, an unread mark, unarchive
from Settings, Delete All Chats in a fresh account, `/fork` of a branch into a new chat, and
follow-up suggestions shown, kept and asked (the stand-in's agent model answers the follow-up
task with the JSON its message sets)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.browser import pages
from tests.browser.conftest import ANSWER_MS, PASSWORD, WORDS, Steps, WebStack
from tests.browser.test_chat_flows import (
    MODEL,
    _answer_box,
    _api,
    _chat_menu,
    _eventually,
    _new_chat,
    _reload,
    _send_first,
    _sidebar_after_reload,
    _toolbar,
    signed_in,
)
from tests.browser.test_settings import settings

__all__ = ["signed_in"]  # the fixture, used here by name
SECOND_MODEL = "gpt-fake-echo"  # answers with the request it got, as JSON
# Answers what a message's `reply:` line says: asked for follow-ups, the JSON carrying them.
AGENT_MODEL = "gpt-fake-agent"
FOLLOW_UPS = ["What about the tides tomorrow?", "Which harbour is closest?"]


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
    assert title.startswith("word0")  # the stand-in model's answer to the title task
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
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    chat = _send_first(page, "Shared for a while")
    step("Copy puts the answer on the clipboard")
    _toolbar(_answer_box(page), "Copy").click()
    copied = _eventually(lambda: page.evaluate("() => navigator.clipboard.readText()"))
    assert " ".join(copied.split()) == pages.answer_text(page)
    step("share the chat")
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


def _search(page: Page, text: str) -> None:
    """The sidebar's search (a dialog over the caller's chats), `text` typed in."""
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Search", exact=True).filter(visible=True).first.click()
    box = page.get_by_placeholder("Search workspace…")
    box.fill(text)


def _results(page: Page, title: str) -> Locator:
    """The search dialog's results titled `title`."""
    return page.get_by_role("listbox").get_by_role("option").filter(has_text=title)


def test_search_and_tags(signed_in: Page, web_stack: WebStack, step: Steps) -> None:
    page = signed_in
    api = _api(page, web_stack)
    step("search finds a chat by a word of its title and of its content")
    wanted = _new_chat(api, "Compost heap")
    _new_chat(api, "Car insurance")
    _reload(page)
    _search(page, "Compost")
    expect(_results(page, "Compost heap")).to_have_count(1)
    expect(_results(page, "Car insurance")).to_have_count(0)
    _search(page, "About Car")  # the question, "About Car insurance"
    expect(_results(page, "Car insurance")).to_have_count(1)
    step("a tag from the chat's menu")
    page.keyboard.press("Escape")
    page.goto(f"/c/{wanted}")
    pages.wait_for_chat_page(page)
    page.get_by_role("button", name="Chat actions").click()
    tag_box = page.get_by_placeholder("Add a tag...")
    tag_box.fill("soil")
    tag_box.press("Enter")
    _eventually(lambda: [t["name"] for t in api.get(f"/api/v1/chats/{wanted}/tags").json()])
    step("reload: the tag is stored, and search by it finds the chat alone")
    _reload(page)
    page.get_by_role("button", name="Chat actions").click()
    expect(page.get_by_role("button", name="soil")).to_be_visible()
    _search(page, "tag:soil")
    expect(_results(page, "Compost heap")).to_have_count(1)
    expect(_results(page, "Car insurance")).to_have_count(0)
    step("remove the tag: gone after a reload")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Chat actions").click()
    page.get_by_role("button", name="soil").click()
    _eventually(lambda: not api.get(f"/api/v1/chats/{wanted}/tags").json())
    _reload(page)
    page.get_by_role("button", name="Chat actions").click()
    expect(page.get_by_placeholder("Add a tag...")).to_be_visible()
    expect(page.get_by_role("button", name="soil")).to_have_count(0)


def _folder_row(page: Page, name: str) -> Locator:
    return page.get_by_role("button", name=re.compile(rf"^(Collapse|Expand) {name}$")).first


def _folder_menu(page: Page, name: str, item: str) -> None:
    """The folder's own menu: its options button sits beside its row's button (other tests'
    folders in the sidebar have theirs, hidden until hovered but still in the page)."""
    row = _folder_row(page, name)
    row.hover()
    row.locator("xpath=..").get_by_role("button", name="Folder options").click()
    page.get_by_role("menuitem", name=item, exact=True).or_(
        page.get_by_role("button", name=item, exact=True)).first.click()


def _folders(api: httpx.Client) -> dict[str, dict]:
    return {f["name"]: f for f in api.get("/api/v1/folders/").json()}


def _folders_after_reload(page: Page) -> None:
    """The sidebar after a reload, its Folders section (folded after a load) unfolded."""
    _sidebar_after_reload(page)
    page.get_by_text("Folders", exact=True).first.click()
    expect(page.get_by_role("button", name="New Folder")).to_be_visible()


def test_folders_renamed_nested_and_deleted(signed_in: Page, web_stack: WebStack,
                                           step: Steps) -> None:
    page = signed_in
    api = _api(page, web_stack)
    pages.open_sidebar(page)
    step("a new folder")
    page.get_by_role("button", name="New Folder").click()
    page.get_by_placeholder("Enter folder name").fill("Receipts")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Receipts", exact=True).first).to_be_visible()
    step("rename it (Edit)")
    _folder_menu(page, "Receipts", "Edit")
    name = page.get_by_placeholder("Enter folder name")
    name.fill("Bills")
    page.get_by_role("button", name="Save", exact=True).click()
    _eventually(lambda: "Bills" in _folders(api))
    step("a folder inside it (Create Folder from its menu)")
    _folder_menu(page, "Bills", "Create Folder")
    page.get_by_placeholder("Enter folder name").fill("Water")
    page.get_by_role("button", name="Save", exact=True).click()
    inner = _eventually(lambda: _folders(api).get("Water"))
    assert inner["parent_id"] == _folders(api)["Bills"]["id"]
    step("another folder dragged into it")
    page.get_by_role("button", name="New Folder").click()
    page.get_by_placeholder("Enter folder name").fill("Taxes")
    page.get_by_role("button", name="Save", exact=True).click()
    _folder_row(page, "Taxes").drag_to(_folder_row(page, "Bills"))
    _eventually(lambda: _folders(api)["Taxes"]["parent_id"] == _folders(api)["Bills"]["id"])
    step("reload: renamed and nested")
    _folders_after_reload(page)
    expect(page.get_by_text("Bills", exact=True).first).to_be_visible()
    assert "Receipts" not in _folders(api)
    step("delete the outer folder: both gone after a reload")
    _folder_menu(page, "Bills", "Delete")
    page.get_by_role("button", name="Confirm").click()
    _eventually(lambda: "Bills" not in _folders(api))
    _folders_after_reload(page)
    expect(page.get_by_text("Bills", exact=True)).to_have_count(0)
    assert not {"Bills", "Water", "Taxes"} & set(_folders(api))


def _read_mark(api: httpx.Client, chat: str) -> int | None:
    """The chat's read mark in the sidebar's list (0: marked unread, None: read)."""
    listed = api.get("/api/v1/chats/", params={"page": 1}).json()
    return next(c for c in listed if c["id"] == chat)["last_read_at"]


def test_unread_mark_and_unarchive(signed_in: Page, web_stack: WebStack, step: Steps) -> None:
    page = signed_in
    api = _api(page, web_stack)
    seen, kept = _new_chat(api, "Reading list"), _new_chat(api, "Boxed away")
    assert api.post(f"/api/v1/chats/{kept}/archive").status_code == 200
    page.goto(f"/c/{seen}")
    pages.wait_for_chat_page(page)
    page.goto("/")
    pages.wait_for_chat_page(page)
    pages.open_sidebar(page)
    entry = page.locator(f'[data-sidebar-chat-id="{seen}"]').first
    dot = entry.locator(".bg-sky-500")
    expect(dot).to_have_count(0)
    step("mark as unread: the mark stays after a reload")
    _chat_menu(page, seen, "Mark as unread")
    expect(dot).to_have_count(1)
    _eventually(lambda: _read_mark(api, seen) == 0)  # owui's "marked unread"
    _sidebar_after_reload(page)
    expect(dot).to_have_count(1)
    step("opening it marks it read, also after a reload")
    entry.click()
    expect(page).to_have_url(re.compile(f"/c/{seen}$"))
    pages.wait_for_chat_page(page)
    # The app says so over its socket as the page loads: stored before the page is left.
    _eventually(lambda: _read_mark(api, seen) != 0)
    page.goto("/")
    pages.wait_for_chat_page(page)
    pages.open_sidebar(page)
    expect(dot).to_have_count(0)
    _sidebar_after_reload(page)
    expect(dot).to_have_count(0)

    step("Settings > Archived Chats: unarchive one")
    dialog = settings(page, "Archived Chats")
    expect(dialog.get_by_text("Boxed away")).to_be_visible()
    dialog.get_by_role("button", name="Unarchive Chat").first.click()
    _eventually(lambda: not api.get(f"/api/v1/chats/{kept}").json()["archived"])
    _sidebar_after_reload(page)
    expect(page.locator(f'[data-sidebar-chat-id="{kept}"]').first).to_be_visible()


def test_delete_all_chats_in_a_fresh_account(page: Page, web_stack: WebStack,
                                             step: Steps) -> None:
    step("a fresh account with two chats")
    pages.sign_up(page, "Dee Deleter", "dee@example.com", PASSWORD)
    api = _api(page, web_stack)
    made = [_new_chat(api, t) for t in ("First of many", "Second of many")]
    _sidebar_after_reload(page)
    expect(page.locator(f'[data-sidebar-chat-id="{made[0]}"]').first).to_be_visible()
    step("Settings > Data Controls > Delete All Chats")
    dialog = settings(page, "Data Controls")
    dialog.get_by_text("Delete All", exact=True).click()
    page.get_by_role("button", name="Confirm").click()
    _eventually(lambda: api.get("/api/v1/chats/", params={"include_pinned": True}).json() == [])
    step("reload: the list is empty")
    _sidebar_after_reload(page)
    expect(page.locator('[data-sidebar-chat-id]')).to_have_count(0)


def test_generated_title_tags_and_follow_ups(signed_in: Page, web_stack: WebStack,
                                            step: Steps) -> None:
    page = signed_in
    api = _api(page, web_stack)
    step(f"{AGENT_MODEL}: an answer whose title, tags and follow-up tasks find their JSON")
    pages.pick_model(page, AGENT_MODEL)
    pages.send(page, "reply: " + json.dumps({"title": "Tides", "tags": ["harbour-tides"],
                                             "follow_ups": FOLLOW_UPS}))
    chat = pages.chat_id(page)
    first = page.get_by_text(FOLLOW_UPS[0], exact=True)
    expect(first).to_be_visible(timeout=ANSWER_MS)
    expect(page.get_by_text(FOLLOW_UPS[1], exact=True)).to_be_visible()
    step("reload: stored with the answer, shown again; the generated title and tags kept")
    _eventually(lambda: any(m.get("followUps") == FOLLOW_UPS for m in _messages(api, chat)))
    _eventually(lambda: api.get(f"/api/v1/chats/{chat}").json()["title"] == "Tides")
    tags = _eventually(lambda: [t["name"] for t in api.get(f"/api/v1/chats/{chat}/tags").json()])
    assert tags == ["harbour-tides"]
    _reload(page)
    expect(page.get_by_text(FOLLOW_UPS[0], exact=True)).to_be_visible(timeout=ANSWER_MS)
    step("click a suggestion: it is asked in the chat")
    page.get_by_text(FOLLOW_UPS[0], exact=True).click()
    asked = _eventually(lambda: [m for m in _messages(api, chat)
                                 if m["role"] == "user" and m["content"] == FOLLOW_UPS[0]])
    assert len(asked) == 1


def test_fork_the_branch_into_a_new_chat(signed_in: Page, web_stack: WebStack,
                                         step: Steps) -> None:
    page = signed_in
    api = _api(page, web_stack)
    step("a chat with an answer, then /fork in the message input")
    chat = _send_first(page, "Fork me")
    pages.chat_input(page).fill("/fork")
    page.get_by_text("Fork", exact=True).first.click()
    step("a new chat holds the branch; the first is unchanged")
    expect(page).not_to_have_url(re.compile(rf"/c/{chat}$"), timeout=ANSWER_MS)
    forked = pages.chat_id(page)
    assert forked != chat
    questions = _eventually(lambda: [m["content"] for m in _messages(api, forked)
                                     if m["role"] == "user"])
    assert questions == ["Fork me"]
    assert len(_messages(api, chat)) == 2
    step("reload: the fork is stored and listed")
    _sidebar_after_reload(page)
    expect(page.locator(f'[data-sidebar-chat-id="{forked}"]').first).to_be_visible()
