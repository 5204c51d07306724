"""A tool call waiting for the user (`POST /api/v1/chats/{id}/messages/{message_id}/resolve`,
Open WebUI 0.12's): the decision stored in the answer's `output` as Open WebUI stores it and
heard on the user's socket; the message done once nothing waits; refusals (another user's
chat, an unknown message or call, a call decided already, a decision that does not fit, a bad
body) leave the message as it was. Through the gateway and the chat service of the realtime
stack."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from tests.realtime.conftest import Account, Stack
from tests.realtime.sockets import connected


def _call(call_id: str, name: str, status: str = "pending") -> dict[str, Any]:
    return {"type": "function_call", "id": call_id, "call_id": call_id, "name": name,
            "arguments": json.dumps({"query": "owui"}), "status": status}


def waiting_chat(stack: Stack, account: Account) -> tuple[str, str]:
    """A chat whose answer waits on two calls: a search, then `ask_user`."""
    user_id, answer_id = str(uuid.uuid4()), str(uuid.uuid4())
    messages = {
        user_id: {"id": user_id, "parentId": None, "childrenIds": [answer_id], "role": "user",
                  "content": "find owui", "timestamp": 1764892800},
        answer_id: {"id": answer_id, "parentId": user_id, "childrenIds": [],
                    "role": "assistant", "content": "", "model": "gpt-fake", "done": False,
                    "output": [_call("call-search", "search_web"),
                               _call("call-ask", "ask_user", "queued")]}}
    with httpx.Client(base_url=stack.gateway, headers=account.headers, timeout=60) as http:
        answer = http.post("/api/v1/chats/new", json={"chat": {
            "title": "Waiting", "history": {"messages": messages, "currentId": answer_id}}})
    assert answer.status_code == 200, answer.text
    return answer.json()["id"], answer_id


def resolve(stack: Stack, account: Account, chat_id: str, message_id: str,
            body: Any) -> httpx.Response:
    with httpx.Client(base_url=stack.gateway, headers=account.headers, timeout=60) as http:
        return http.post(f"/api/v1/chats/{chat_id}/messages/{message_id}/resolve", json=body)


def message(stack: Stack, account: Account, chat_id: str, message_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=stack.gateway, headers=account.headers, timeout=60) as http:
        answer = http.get(f"/api/v1/chats/{chat_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()["chat"]["history"]["messages"][message_id]


async def test_approve_then_answer_and_the_message_is_done(stack: Stack, ada: Account) -> None:
    chat_id, answer_id = waiting_chat(stack, ada)
    socket = await connected(stack.gateway, ada.token)
    try:
        approved = resolve(stack, ada, chat_id, answer_id,
                           {"call_id": "call-search", "action": "approve"})
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] is True and approved.json()["paused"] is True
        heard = await socket.wait_for(lambda events: any(
            e["data"]["type"] == "chat:completion" for e in events))
    finally:
        await socket.close()
    event = next(e for e in heard if e["data"]["type"] == "chat:completion")
    assert event["chat_id"] == chat_id and event["message_id"] == answer_id
    assert event["data"]["data"] == {"output": approved.json()["output"]}
    stored = message(stack, ada, chat_id, answer_id)
    search = stored["output"][0]
    assert search["status"] == "queued" and search["approved"] is True
    assert stored["done"] is False  # ask_user still waits
    answered = resolve(stack, ada, chat_id, answer_id, {
        "call_id": "call-ask", "action": "answer", "answers": {"colour": "blue"},
        "session_id": "ignored"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["paused"] is False
    stored = message(stack, ada, chat_id, answer_id)
    assert stored["done"] is True and stored["output"][1]["status"] == "completed"
    result = stored["output"][2]
    assert result["type"] == "function_call_output" and result["call_id"] == "call-ask"
    assert json.loads(result["output"][0]["text"]) == {"status": "answered",
                                                       "answers": {"colour": "blue"}}
    # Decided already.
    again = resolve(stack, ada, chat_id, answer_id, {"call_id": "call-ask", "action": "reject"})
    assert again.status_code == 409 and "already been resolved" in again.json()["detail"]


def test_reject_writes_the_refusal_for_the_model(stack: Stack, ada: Account) -> None:
    chat_id, answer_id = waiting_chat(stack, ada)
    rejected = resolve(stack, ada, chat_id, answer_id,
                       {"call_id": "call-search", "action": "reject"})
    assert rejected.status_code == 200, rejected.text
    stored = message(stack, ada, chat_id, answer_id)
    assert stored["output"][0]["status"] == "rejected"
    refusal = stored["output"][-1]
    assert refusal == {"type": "function_call_output", "id": "fco_call-search",
                       "call_id": "call-search", "status": "rejected",
                       "output": [{"type": "input_text",
                                   "text": "Error: tool call rejected by user."}]}
    timed_out = resolve(stack, ada, chat_id, answer_id,
                        {"call_id": "call-ask", "action": "answer", "timed_out": True})
    assert timed_out.status_code == 200 and timed_out.json()["paused"] is False
    assert json.loads(message(stack, ada, chat_id, answer_id)["output"][-1]["output"][0][
        "text"]) == {"status": "cancelled", "answers": {}, "timed_out": True}


def test_refusals_leave_the_message_as_it_was(stack: Stack, ada: Account,
                                              bea: Account) -> None:
    chat_id, answer_id = waiting_chat(stack, ada)
    before = message(stack, ada, chat_id, answer_id)
    approve = {"call_id": "call-search", "action": "approve"}
    cases = [
        (bea, answer_id, approve, 404, chat_id),  # another user's chat
        (ada, "no-such-message", approve, 404, "no-such-message"),
        (ada, answer_id, {"call_id": "call-none", "action": "approve"}, 404, "call-none"),
        (ada, answer_id, {"call_id": "call-ask", "action": "approve"}, 400, "ask_user"),
        (ada, answer_id, {"call_id": "call-search", "action": "answer", "answers": {}}, 400,
         "does not accept answers"),
        (ada, answer_id, {"call_id": "call-ask", "action": "answer"}, 400, "Answers"),
        (ada, answer_id, {"call_id": "call-search", "action": "run"}, 422, "action"),
        (ada, answer_id, {"action": "approve"}, 422, "call_id"),
        (ada, answer_id, ["call-search"], 422, None),
    ]
    for account, target, body, status, named in cases:
        answer = resolve(stack, account, chat_id, target, body)
        assert answer.status_code == status, (body, answer.text)
        if named:
            assert named in json.dumps(answer.json()["detail"]), (body, answer.text)
    assert message(stack, ada, chat_id, answer_id) == before
    # A message with no tool calls at all: nothing waits there.
    user_message = before["parentId"]
    answer = resolve(stack, ada, chat_id, user_message, approve)
    assert answer.status_code == 404 and "no tool call" in answer.json()["detail"]
