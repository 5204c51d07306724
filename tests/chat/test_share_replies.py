"""Share links in Open WebUI's "Allow replies" mode (`share_mode: "continue"`), through the
gateway with all five services and the fake provider: a person the link names opens the live
chat and replies in it (the web app's turn and owui's own), the owner sees the reply; in
"Clone only" mode a person it names reads a snapshot and a reply is refused (403, saying why
and what to do); someone the link reaches only as "every signed-in user" reads the snapshot by
the link, and replying by the chat's id finds nothing (404), as for someone the link does not
reach, and everyone once the link is deleted. Going back to "Clone only"
freezes the chat as it is, replies included."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.chat.conftest import sample_chat
from tests.realtime.conftest import Account, Stack, _account, ada, bea, stack  # noqa: F401
from tests.realtime.webapp import app_body

WAIT_S = 60


@pytest.fixture(scope="module")
def carl(stack: Stack) -> Account:  # noqa: F811
    return _account(stack, "Carl")


def _client(stack: Stack, account: Account) -> httpx.Client:  # noqa: F811
    return httpx.Client(base_url=stack.gateway, headers=account.headers, timeout=60)


def _shared(owner: httpx.Client, grants: list[dict[str, str]], mode: str | None
            ) -> tuple[str, str]:
    """A chat of the owner's shared as the app's dialog does it: the link, then who may open
    it and the mode. (chat id, share id)"""
    chat_id = owner.post("/api/v1/chats/new", json={"chat": sample_chat("Our plan")}).json()["id"]
    share_id = owner.post(f"/api/v1/chats/{chat_id}/share", json={"share_mode": None}
                          ).json()["share_id"]
    saved = owner.post(f"/api/v1/chats/shared/{chat_id}/access/update",
                       json={"access_grants": grants, "share_mode": mode})
    assert saved.status_code == 200, saved.text
    return chat_id, share_id


def _named(account: Account) -> list[dict[str, str]]:
    return [{"principal_type": "user", "principal_id": account.id, "permission": "read"}]


def _reply(http: httpx.Client, chat_id: str, text: str) -> tuple[httpx.Response, dict[str, Any]]:
    """The web app's turn in the chat, under its current answer ("a2")."""
    body = app_body("a-socket", text, chat_id=chat_id, parent_id="a2")
    return http.post("/api/chat/completions", json=body), body


def _messages(http: httpx.Client, chat_id: str) -> dict[str, Any]:
    answer = http.get(f"/api/v1/chats/{chat_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()["chat"]["history"]["messages"]


def _answered(http: httpx.Client, chat_id: str, answer_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        messages = _messages(http, chat_id)
        if messages.get(answer_id, {}).get("done"):
            return messages
        time.sleep(0.2)
    raise AssertionError(f"answer {answer_id} of chat {chat_id} not done in {WAIT_S} s")


def test_a_named_person_replies_in_the_owners_chat(stack: Stack, ada: Account,  # noqa: F811
                                                   bea: Account) -> None:  # noqa: F811
    with _client(stack, ada) as owner, _client(stack, bea) as member:
        chat_id, share_id = _shared(owner, _named(bea), "continue")
        opened = member.get(f"/api/v1/chats/share/{share_id}").json()
        assert opened["id"] == chat_id and opened["chat"]["share_mode"] == "continue"
        assert "params" not in opened["chat"] and opened["variables"] == {}
        assert opened["folder_id"] is None
        sent, body = _reply(member, chat_id, "Shall we add a day in Porto?")
        assert sent.status_code == 200, sent.text
        assert sent.json()["chat_id"] == chat_id
        seen = _answered(owner, chat_id, body["id"])  # the owner sees the reply
        assert seen[body["user_message"]["id"]]["content"] == "Shall we add a day in Porto?"
        assert seen[body["id"]]["parentId"] == body["user_message"]["id"]
        assert body["id"] in _messages(member, chat_id)  # the member reads the live chat
        # ... as the app opens it, like their own: in Allow replies mode, its running
        # answers to resume, and no tags (the owner's filing).
        live = member.get(f"/api/v1/chats/{chat_id}").json()
        assert live["chat"]["share_mode"] == "continue" and "params" not in live["chat"]
        running = member.get(f"/api/tasks/chat/{chat_id}")
        assert running.status_code == 200 and isinstance(running.json()["task_ids"], list)
        assert member.get(f"/api/v1/chats/{chat_id}/tags").json() == []
        # owui's own turn route takes the member's reply too.
        own = member.post(f"/api/v1/chats/{chat_id}/completions",
                          json={"content": "And Coimbra?", "model": "gpt-fake",
                                "parent_id": body["id"], "stream": False})
        assert own.status_code == 200, own.text
        assert own.json()["content"]
        # The member has no chat of their own from this: it stays the owner's.
        assert chat_id not in {c["id"] for c in member.get("/api/v1/chats/").json()}


def test_clone_only_and_everyone_links_refuse_a_reply(stack: Stack,  # noqa: F811
                                                      ada: Account,  # noqa: F811
                                                      bea: Account,  # noqa: F811
                                                      carl: Account) -> None:
    with _client(stack, ada) as owner, _client(stack, bea) as member, \
            _client(stack, carl) as visitor:
        chat_id, share_id = _shared(owner, _named(bea), None)  # Clone only
        opened = member.get(f"/api/v1/chats/share/{share_id}").json()
        assert opened["id"] == share_id and opened["chat"]["share_mode"] is None
        refused, _ = _reply(member, chat_id, "Can I reply here?")
        assert refused.status_code == 403, refused.text
        assert "read only" in refused.json()["detail"]
        assert f"/api/v1/chats/{share_id}/clone/shared" in refused.json()["detail"]
        assert member.get(f"/api/v1/chats/{chat_id}").status_code == 404
        # Allow replies, but to every signed-in user: a visitor reads the snapshot only, and
        # the chat's own id leads them nowhere (404: it must not reveal the link).
        everyone = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]
        chat_id, share_id = _shared(owner, everyone, "continue")
        assert visitor.get(f"/api/v1/chats/share/{share_id}").json()["id"] == share_id
        refused, _ = _reply(visitor, chat_id, "Me too?")
        assert refused.status_code == 404, refused.text
        assert share_id not in refused.text
        assert all("Can I reply" not in m["content"] and "Me too" not in m["content"]
                   for m in _messages(owner, chat_id).values())


def test_another_persons_link_and_a_deleted_one_are_not_found(
        stack: Stack, ada: Account, bea: Account, carl: Account) -> None:  # noqa: F811
    with _client(stack, ada) as owner, _client(stack, bea) as member, \
            _client(stack, carl) as stranger:
        chat_id, share_id = _shared(owner, _named(bea), "continue")
        for path in (f"/api/v1/chats/share/{share_id}", f"/api/v1/chats/{chat_id}",
                     f"/api/v1/chats/{chat_id}/tags", f"/api/tasks/chat/{chat_id}"):
            assert stranger.get(path).status_code == 404, path
        refused, _ = _reply(stranger, chat_id, "Let me in")
        assert refused.status_code == 404, refused.text
        assert owner.delete(f"/api/v1/chats/{chat_id}/share").json() is True
        assert member.get(f"/api/v1/chats/share/{share_id}").status_code == 404
        assert member.get(f"/api/v1/chats/{chat_id}").status_code == 404
        gone, _ = _reply(member, chat_id, "Still there?")
        assert gone.status_code == 404, gone.text
        assert "Still there?" not in str(_messages(owner, chat_id))


def test_back_to_clone_only_freezes_the_replies(stack: Stack, ada: Account,  # noqa: F811
                                                bea: Account) -> None:  # noqa: F811
    with _client(stack, ada) as owner, _client(stack, bea) as member:
        chat_id, share_id = _shared(owner, _named(bea), "continue")
        sent, body = _reply(member, chat_id, "One more stop?")
        assert sent.status_code == 200, sent.text
        _answered(owner, chat_id, body["id"])
        saved = owner.post(f"/api/v1/chats/shared/{chat_id}/access/update",
                           json={"access_grants": _named(bea), "share_mode": None})
        assert saved.status_code == 200, saved.text
        frozen = member.get(f"/api/v1/chats/share/{share_id}").json()
        assert frozen["id"] == share_id and frozen["chat"]["share_mode"] is None
        assert body["id"] in frozen["chat"]["history"]["messages"]
        assert _reply(member, chat_id, "And now?")[0].status_code == 403
