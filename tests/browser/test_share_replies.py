"""A shared chat in Open WebUI's "Allow replies" mode, in the web app: the person the link names
opens it, lands in the owner's chat with the message input, and their reply is answered and
kept (after a reload, and in the owner's chat). A link in "Clone only" mode shows the chat
read-only: no input, only "Clone Chat"."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.conftest import ANSWER_MS, PASSWORD, WORDS, Steps, WebStack

MODEL = "gpt-fake"


def _account(web_stack: WebStack, name: str) -> tuple[str, str, dict[str, str]]:
    """(email, id, headers) of a new plain user."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    made = httpx.post(f"{web_stack.url}/api/v1/auths/signup", timeout=30,
                      json={"name": name, "email": email, "password": PASSWORD})
    assert made.status_code == 200, made.text
    return email, made.json()["id"], {"Authorization": f"Bearer {made.json()['token']}"}


def _shared_chat(web_stack: WebStack, owner: dict[str, str], member_id: str,
                 mode: str | None) -> tuple[str, str]:
    """The owner's chat (a question and its answer), shared to the member as the app's share
    dialog does it. (chat id, share id)"""
    history = {"currentId": "a1", "messages": {
        "u1": {"id": "u1", "parentId": None, "childrenIds": ["a1"], "role": "user",
               "content": "Plan a weekend in Lisbon", "timestamp": 1_700_000_000,
               "models": [MODEL]},
        "a1": {"id": "a1", "parentId": "u1", "childrenIds": [], "role": "assistant",
               "content": "Alfama on Saturday.", "model": MODEL, "done": True,
               "timestamp": 1_700_000_001}}}
    with httpx.Client(base_url=web_stack.url, headers=owner, timeout=30) as client:
        chat_id = client.post("/api/v1/chats/new", json={"chat": {
            "title": "Lisbon weekend", "models": [MODEL], "history": history}}).json()["id"]
        share_id = client.post(f"/api/v1/chats/{chat_id}/share",
                               json={"share_mode": None}).json()["share_id"]
        saved = client.post(f"/api/v1/chats/shared/{chat_id}/access/update", json={
            "access_grants": [{"principal_type": "user", "principal_id": member_id,
                               "permission": "read"}], "share_mode": mode})
        assert saved.status_code == 200, saved.text
    return chat_id, share_id


def test_a_named_person_replies_and_a_clone_only_reader_cannot(
        page: Page, step: Steps, web_stack: WebStack,
        another_person: Callable[[], Page]) -> None:
    _, _, owner = _account(web_stack, "Olivia")
    email, member_id, _ = _account(web_stack, "Mateo")
    chat_id, share_id = _shared_chat(web_stack, owner, member_id, "continue")
    step("the member signs in and opens the link: the owner's chat, with the input")
    pages.sign_in(page, email, PASSWORD)
    page.goto(f"/s/{share_id}")
    expect(page).to_have_url(f"{web_stack.url}/c/{chat_id}")
    expect(page.get_by_text("Alfama on Saturday.")).to_be_visible()
    pages.wait_for_chat_page(page)
    step("the member replies; the answer streams in to its end")
    pages.send(page, "Add a day in Sintra?")
    pages.wait_for_word(page, f"word{WORDS - 1}", ANSWER_MS)
    step("after a reload the reply and its answer are there, in the owner's chat too")
    page.reload()
    expect(page.locator(".user-message").last).to_contain_text("Add a day in Sintra?")
    pages.wait_for_word(page, f"word{WORDS - 1}")
    stored = httpx.get(f"{web_stack.url}/api/v1/chats/{chat_id}", headers=owner, timeout=30)
    assert "Add a day in Sintra?" in str(stored.json()["chat"]["history"]["messages"])
    step("a Clone only link: the chat read-only, Clone Chat and no input")
    reader_email, reader_id, _ = _account(web_stack, "Ravi")
    _, frozen = _shared_chat(web_stack, owner, reader_id, None)
    reader = another_person()
    pages.sign_in_without_socket(reader, reader_email, PASSWORD)
    reader.goto(f"/s/{frozen}")
    expect(reader.get_by_text("Alfama on Saturday.")).to_be_visible()
    expect(reader.get_by_role("button", name="Clone Chat")).to_be_visible()
    expect(pages.chat_input(reader)).to_have_count(0)
