"""A page reloaded mid-answer: its socket joins the chat while the page still loads it, so
whatever it hears before it has the message is lost (the app finds no message to apply it
to), and the store holds the answer empty until it ends. The whole output so far, sent to the
chat's room while the answer grows, must bring such a page to the full text before the answer
ends; the page that sent the turn hears the deltas only, as Open WebUI's samples show."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.realtime.conftest import Account, Stack
from tests.realtime.sockets import connected
from tests.realtime.test_webapp_turn import active_false, send
from tests.realtime.webapp import app_body

LOADING_S = 0.4  # what the reloaded page hears meanwhile is lost, as in the app
TOKENS = 40  # gpt-fake-slow: one token each 0.1 s


def _is_delta(event: dict[str, Any]) -> bool:
    data = event["data"]
    return (data["type"] == "response:completion"
            and data["data"].get("type") == "response.output_text.delta")


def _is_whole(event: dict[str, Any]) -> bool:
    """A refresh or catch-up: the output so far, the answer not ended."""
    data = event["data"]
    return (data["type"] == "chat:completion" and "output" in data["data"]
            and not data["data"].get("done"))


def _as_the_app_shows(events: list[dict[str, Any]]) -> str:
    """The text the app shows after these events, from the stored message's '': an output
    replaces it, a delta adds to it; the answer's end (`done`) is not applied."""
    text = ""
    for event in events:
        if event["data"]["type"] == "chat:completion" and event["data"]["data"].get("done"):
            break
        if _is_whole(event):
            text = event["data"]["data"]["output"][0]["content"][0]["text"]
        elif _is_delta(event):
            text += event["data"]["data"]["delta"]
    return text


async def test_a_page_that_joins_mid_answer_ends_with_the_full_text(stack: Stack,
                                                                    ada: Account) -> None:
    sender = await connected(stack.gateway, ada.token)
    reloaded = None
    try:
        body = app_body(sender.client.get_sid(), "a long one", model="gpt-fake-slow")
        body["params"] = {"max_tokens": TOKENS}
        answer = await send(stack, ada, body)
        assert answer.status_code == 200, answer.text
        chat_id = answer.json()["chat_id"]
        join = {"chat_id": chat_id, "data": {"type": "join"}}
        assert await sender.call("events:chat", join) is True  # as the app does
        await sender.wait_for(lambda events: sum(map(_is_delta, sender.of(chat_id))) >= 5)
        reloaded = await connected(stack.gateway, ada.token)
        assert await reloaded.call("events:chat", join) is True
        await asyncio.sleep(LOADING_S)  # the page loads the chat: its catch-up is lost
        loaded = len(reloaded.events)
        await reloaded.wait_for(active_false(chat_id))
        await sender.wait_for(active_false(chat_id))
    finally:
        await sender.close()
        if reloaded is not None:
            await reloaded.close()
    full = "".join(e["data"]["data"]["delta"] for e in sender.of(chat_id) if _is_delta(e))
    assert len(full.split()) == TOKENS
    after_loading = [e for e in reloaded.events[loaded:] if e.get("chat_id") == chat_id]
    assert any(map(_is_whole, after_loading)), "no refresh after the page loaded"
    assert _as_the_app_shows(after_loading) == full
    # The sending page heard every delta, and no refresh of the whole (skipped).
    assert not any(map(_is_whole, sender.of(chat_id)))
    assert _as_the_app_shows(sender.of(chat_id)) == full
