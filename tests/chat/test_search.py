"""Search: titles and message text, word prefixes, Open WebUI's filters, the caller's own only."""

from __future__ import annotations

import time

import httpx

from tests.chat.conftest import create, ok, sample_chat


def _found(client: httpx.Client, text: str) -> list[str]:
    return [c["id"] for c in ok(client.get("/api/v1/chats/search", params={"text": text}))]


def test_titles_and_message_text_by_word_prefix(fresh) -> None:
    title = create(fresh, sample_chat("Quarterly Zanzibar report", text="nothing"))["id"]
    body = create(fresh, sample_chat("Other", text="the xylophone concert"))["id"]
    both = create(fresh, sample_chat("Xylophone tuning", text="zanzibar trip"))["id"]
    assert _found(fresh, "zanzibar") == [both, title]
    assert _found(fresh, "xyloph") == [both, body]
    assert _found(fresh, "XYLOPHONE concert") == [body]
    assert _found(fresh, "zanzibar xylophone") == [both]
    assert _found(fresh, "regenerated") == [both, body, title]  # a message on every chat
    assert _found(fresh, "quokka") == []
    # Punctuation and query syntax are words, never operators.
    assert _found(fresh, "zanzibar OR quokka") == []
    assert _found(fresh, 'quokka" OR "zanzibar') == []
    assert _found(fresh, "(zanzibar*) -:") == [both, title]


def test_edits_and_deletes_reach_the_index(fresh) -> None:
    chat = create(fresh, sample_chat("Plain"))["id"]
    ok(fresh.post(f"/api/v1/chats/{chat}/messages/a1", json={"content": "marmalade"}))
    assert _found(fresh, "marmalade") == [chat]
    ok(fresh.post(f"/api/v1/chats/{chat}", json={"chat": {"title": "Grapefruit"}}))
    assert _found(fresh, "grapefruit") == [chat]
    ok(fresh.post(f"/api/v1/chats/{chat}/messages", json={"role": "user", "content": "kumquat"}))
    assert _found(fresh, "kumquat") == [chat]
    ok(fresh.delete(f"/api/v1/chats/{chat}/messages/a1"))
    assert _found(fresh, "marmalade") == []
    ok(fresh.delete(f"/api/v1/chats/{chat}"))
    assert _found(fresh, "grapefruit") == []


def test_filters_tag_pinned_archived(fresh) -> None:
    tagged = create(fresh, sample_chat("Tagged one"))["id"]
    pinned = create(fresh, sample_chat("Pinned one"))["id"]
    archived = create(fresh, sample_chat("Archived one"))["id"]
    ok(fresh.post(f"/api/v1/chats/{tagged}/tags", json={"name": "Deep Work"}))
    ok(fresh.post(f"/api/v1/chats/{pinned}/pin"))
    ok(fresh.post(f"/api/v1/chats/{archived}/archive"))
    assert _found(fresh, "tag:deep_work") == [tagged]
    assert _found(fresh, "one tag:deep_work") == [tagged]
    assert _found(fresh, "pinned:true") == [pinned]
    assert _found(fresh, "one") == [pinned, tagged]
    assert _found(fresh, "archived:true one") == [archived]


def test_pages_of_sixty(fresh) -> None:
    for i in range(61):
        create(fresh, sample_chat(f"Paged {i}"))
    assert len(ok(fresh.get("/api/v1/chats/search", params={"text": "paged"}))) == 60
    assert len(ok(fresh.get("/api/v1/chats/search", params={"text": "paged", "page": 2}))) == 1


def test_search_is_scoped_to_the_caller(alice: httpx.Client, bob: httpx.Client) -> None:
    mine = create(alice, sample_chat("Alice's wombat notes", text="wombat"))["id"]
    assert mine in _found(alice, "wombat")
    assert _found(bob, "wombat") == []


def _wait_indexed(backend) -> None:
    """SQLite indexes new messages in batches, within about a second: wait for it."""
    if backend.name != "sqlite":
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ((indexed, top),) = backend.query("SELECT indexed_to, (SELECT max(pk) FROM messages) "
                                          "FROM search_progress")
        if top is None or indexed >= top:
            return
        time.sleep(0.1)
    raise AssertionError("new messages were not indexed within 30 s")


def test_found_before_and_after_the_batch_index_catches_up(backend, fresh) -> None:
    chat = create(fresh, sample_chat("Plain"))["id"]
    ok(fresh.post(f"/api/v1/chats/{chat}/messages", json={"role": "user",
                                                           "content": "a Tamarillo tart"}))
    assert _found(fresh, "tamarill") == [chat]
    _wait_indexed(backend)
    assert _found(fresh, "tamarill") == [chat]
    # Edits and deletes of indexed messages reach the index.
    ok(fresh.post(f"/api/v1/chats/{chat}/messages/a1", json={"content": "rambutan"}))
    assert _found(fresh, "rambutan") == [chat]
    assert _found(fresh, "answer") == []
    ok(fresh.delete(f"/api/v1/chats/{chat}/messages/a1"))
    assert _found(fresh, "rambutan") == [] and _found(fresh, "tamarillo") == []
