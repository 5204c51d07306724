"""Rating an answer (`/api/v1/evaluations/feedback*`), as the web app does it: the feedback row in
Open WebUI's FeedbackModel shape, and the rating on the rated message; another user's message,
or a message not in the chat, is 404 with nothing stored."""

from __future__ import annotations

from typing import Any

import httpx

from tests.chat.conftest import create, ok, sample_chat
from tests.support.conformance import check_schema, openapi


def _schema(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"} if name in openapi()["components"][
        "schemas"] else {}


def _rating(chat_id: str, message_id: str, rating: int = 1, **data: Any) -> dict[str, Any]:
    """The body ResponseMessage.svelte's feedbackHandler sends."""
    return {"type": "rating",
            "data": {"rating": rating, "model_id": "llama3:8b", "reason": None, **data},
            "meta": {"arena": False, "model_id": "llama3:8b", "message_id": message_id,
                     "message_index": 4, "chat_id": chat_id, "base_models": {}},
            "snapshot": {"chat": {"id": chat_id}}}


def test_rate_comment_change_and_delete(fresh: httpx.Client) -> None:
    made = create(fresh, sample_chat("Rated"))
    created = ok(fresh.post("/api/v1/evaluations/feedback", json=_rating(made["id"], "a2")))
    assert check_schema(created, _schema("FeedbackModel")) == []
    assert created["version"] == 0 and created["data"]["rating"] == 1
    message = ok(fresh.get(f"/api/v1/chats/{made['id']}"))["chat"]["history"]["messages"]["a2"]
    assert message["feedbackId"] == created["id"]
    assert message["annotation"] == {"rating": 1, "reason": None, "comment": None}
    changed = ok(fresh.post(f"/api/v1/evaluations/feedback/{created['id']}", json=_rating(
        made["id"], "a2", -1, reason="Not factually correct", comment="wrong year")))
    assert changed["data"]["comment"] == "wrong year" and changed["updated_at"] >= \
        created["updated_at"]
    assert ok(fresh.get(f"/api/v1/evaluations/feedback/{created['id']}"))["data"]["rating"] == -1
    message = ok(fresh.get(f"/api/v1/chats/{made['id']}"))["chat"]["history"]["messages"]["a2"]
    assert message["annotation"]["comment"] == "wrong year"
    listed = ok(fresh.get("/api/v1/evaluations/feedbacks/user"))
    assert check_schema(listed, _schema("FeedbackListResponse")) == []
    assert listed["total"] == 1 and listed["items"][0]["id"] == created["id"]
    assert ok(fresh.delete(f"/api/v1/evaluations/feedback/{created['id']}")) is True
    ok(fresh.get(f"/api/v1/evaluations/feedback/{created['id']}"), 404)
    assert ok(fresh.get("/api/v1/evaluations/feedbacks/user"))["total"] == 0


def test_rating_another_users_message_stores_nothing(alice: httpx.Client, bob: httpx.Client,
                                                     fresh: httpx.Client) -> None:
    made = create(alice, sample_chat("Alice's"))
    ok(fresh.post("/api/v1/evaluations/feedback", json=_rating(made["id"], "a2")), 404)
    mine = create(fresh, sample_chat("Mine"))
    ok(fresh.post("/api/v1/evaluations/feedback", json=_rating(mine["id"], "nope")), 404)
    ok(fresh.post("/api/v1/evaluations/feedback", json={"type": ""}), 422)
    ok(fresh.post("/api/v1/evaluations/feedback", json={"type": "rating",
                                                        "data": {"rating": [1]}}), 422)
    assert ok(fresh.get("/api/v1/evaluations/feedbacks/user"))["total"] == 0
    assert "feedbackId" not in ok(alice.get(f"/api/v1/chats/{made['id']}"))["chat"][
        "history"]["messages"]["a2"]
    # Another user's feedback is not there for them.
    theirs = ok(alice.post("/api/v1/evaluations/feedback", json=_rating(made["id"], "a2")))
    for call in (bob.get, bob.delete):
        ok(call(f"/api/v1/evaluations/feedback/{theirs['id']}"), 404)
    ok(bob.post(f"/api/v1/evaluations/feedback/{theirs['id']}",
                json=_rating(made["id"], "a2", -1)), 404)
    assert ok(alice.get(f"/api/v1/evaluations/feedback/{theirs['id']}"))["data"]["rating"] == 1


def test_a_temporary_chat_rating_is_kept_without_a_message(fresh: httpx.Client) -> None:
    made = ok(fresh.post("/api/v1/evaluations/feedback",
                         json=_rating("local:socket-id", "m1")))
    assert made["meta"]["chat_id"] == "local:socket-id"
    assert ok(fresh.delete("/api/v1/evaluations/feedbacks")) is True
