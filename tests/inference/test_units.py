"""The pure parts, in process: translation both ways, balancing order, the in-flight cap."""

from __future__ import annotations

import asyncio
import json

import pytest

from owui.core.config import Settings
from owui.inference.calls import order
from owui.inference.catalog import Target
from owui.inference.functions import known_of
from owui.inference.providers.base import StreamBroken, error_message
from owui.inference.translate import (
    ChunkTranslator,
    TranslationError,
    from_ollama_chat,
    to_ollama_chat,
)
from owui.inference.upstreams import ConnectionConfig, Upstream


def test_openai_request_to_ollama() -> None:
    body = {"model": "m", "stream": True, "max_tokens": 5, "stop": "END", "top_p": 0.5,
            "response_format": {"type": "json_object"}, "tools": [{"type": "function"}],
            "messages": [{"role": "developer", "content": "rules"},
                         {"role": "user", "content": "hi"}]}
    sent = to_ollama_chat(body, "llama")
    assert sent["model"] == "llama" and sent["stream"] is True and sent["format"] == "json"
    assert sent["options"] == {"num_predict": 5, "stop": ["END"], "top_p": 0.5}
    assert sent["messages"][0] == {"role": "system", "content": "rules"}
    assert sent["tools"] == [{"type": "function"}]


def test_bad_tool_arguments_name_the_field() -> None:
    body = {"messages": [{"role": "assistant", "tool_calls": [
        {"id": "1", "function": {"name": "f", "arguments": "{not json"}}]}]}
    with pytest.raises(TranslationError, match=r"messages\[0\].tool_calls\[0\]"):
        to_ollama_chat(body, "m")
    body["messages"][0]["tool_calls"][0]["function"] = "f"
    with pytest.raises(TranslationError, match=r"tool_calls\[0\].function must be"):
        to_ollama_chat(body, "m")


def test_ollama_answer_to_openai() -> None:
    answer = from_ollama_chat({"message": {"role": "assistant", "content": "",
                                           "tool_calls": [{"function": {
                                               "name": "f", "arguments": {"a": 1}}}]},
                               "done_reason": "stop", "prompt_eval_count": 3,
                               "eval_count": 2}, "m")
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert json.loads(choice["message"]["tool_calls"][0]["function"]["arguments"]) == {"a": 1}
    assert answer["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_stream_translation_ends_with_usage_and_done() -> None:
    translator = ChunkTranslator("m", include_usage=True)
    first = translator.feed({"message": {"content": "a"}, "done": False})
    assert b'"role":"assistant"' in first and b'"content":"a"' in first
    last = translator.feed({"message": {"content": ""}, "done": True, "done_reason": "length",
                            "prompt_eval_count": 1, "eval_count": 1})
    events = [e for e in last.split(b"\n\n") if e]
    assert b'"finish_reason":"length"' in events[0]
    assert b'"total_tokens":2' in events[1] and events[2] == b"data: [DONE]"
    with pytest.raises(StreamBroken, match="boom"):
        ChunkTranslator("m", False).feed({"error": "boom"})


def test_error_messages_of_each_provider() -> None:
    assert error_message(b'{"error": {"message": "no key"}}', "") == "no key"
    assert error_message(b'{"error": "model not found"}', "") == "model not found"
    assert error_message(b"<html>bad gateway</html>", "") == "<html>bad gateway</html>"
    assert error_message(b"", "HTTP 502") == "HTTP 502"


async def test_balancing_and_the_in_flight_cap() -> None:
    settings = Settings(inference_max_in_flight=2, upstream_connect_timeout=0.2,
                        jwt_secret_key="x" * 32)
    busy, idle, down = (Upstream(ConnectionConfig(name, "openai", "http://127.0.0.1:1", None,
                                                  name, None, True, i), settings)
                        for i, name in enumerate(("busy", "idle", "down")))
    try:
        assert await busy.acquire(0.1) and await busy.acquire(0.1)
        assert not await busy.acquire(0.1)  # capped: the third waits, then gives up
        down.status = "down"
        ordered = order([Target(down, "m"), Target(busy, "m"), Target(idle, "m")])
        assert [t.upstream.id for t in ordered] == ["idle", "busy", "down"]
        busy.release()
        assert busy.in_flight == 1 and await asyncio.wait_for(busy.acquire(0.1), 1)
    finally:
        for upstream in (busy, idle, down):
            await upstream.close()


def test_functions_shown_on_models() -> None:
    """Only active ones; global ones on every model, a preset's own on it; an action with
    several `actions` as one button each; only filters the user switches are shown."""
    def function(ident: str, kind: str, **extra: object) -> dict[str, object]:
        meta = extra.pop("meta", {})
        return {"id": ident, "name": ident.title(), "type": kind, "is_active": True,
                "is_global": False, "meta": {"description": "d", **meta}, **extra}

    known = known_of([
        function("star", "action", is_global=True, meta={"manifest": {"icon_url": "i.svg"}}),
        function("multi", "action", meta={"icon": "m.svg", "actions": [
            {"id": "a", "name": "First", "icon_url": "a.svg"}, {"id": "b"}]}),
        function("off", "action", is_active=False, is_global=True),
        function("switch", "filter", meta={"toggle": True, "has_user_valves": True}),
        function("quiet", "filter", is_global=True, meta={"toggle": False}),
    ])
    assert known.on_model(None) == {"actions": [
        {"id": "star", "name": "Star", "description": "d", "icon": "i.svg"}], "filters": []}
    own = known.on_model({"actionIds": ["multi", "off", "gone"],
                          "filterIds": ["switch", "quiet"]})
    assert [(a["id"], a["name"], a["icon"]) for a in own["actions"]] == [
        ("star", "Star", "i.svg"), ("multi.a", "First", "a.svg"),
        ("multi.b", "Multi (b)", "m.svg")]
    assert own["filters"] == [{"id": "switch", "name": "Switch", "description": "d",
                               "icon": None, "has_user_valves": True}]
