"""The Messages <-> OpenAI translation of owui/inference/anthropic.py on its own: requests,
whole answers, and OpenAI's SSE cut at every byte into Messages' events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from owui.inference.anthropic import (
    EventStream,
    MessagesRequest,
    Unsupported,
    count_tokens,
    error_body,
    to_message,
    to_openai,
)


def _form(**fields: Any) -> MessagesRequest:
    return MessagesRequest.model_validate({"model": "m", "max_tokens": 10,
                                           "messages": [{"role": "user", "content": "hi"}],
                                           **fields})


def _sse(*chunks: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + \
        b"data: [DONE]\n\n"


def _delta(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _events(raw: bytes) -> list[dict[str, Any]]:
    out = []
    for block in raw.decode().split("\n\n"):
        lines = block.splitlines()
        if lines:
            assert lines[0].startswith("event: ")
            data = json.loads(lines[1].removeprefix("data: "))
            assert data["type"] == lines[0].removeprefix("event: ")
            out.append(data)
    return out


def test_request_images_documents_and_options() -> None:
    body = to_openai(_form(stream=True, top_k=5, stop_sequences=["X"], metadata={"user_id": "u"},
                           tool_choice={"type": "any", "disable_parallel_tool_use": True},
                           messages=[{"role": "user", "content": [
                               {"type": "text", "text": "look"},
                               {"type": "image", "source": {"type": "base64",
                                                            "media_type": "image/jpeg",
                                                            "data": "QUJD"}},
                               {"type": "document", "title": "Notes",
                                "source": {"type": "text", "data": "body"}}]}]))
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,QUJD"}},
        {"type": "text", "text": "[Document: Notes]\nbody"}]
    assert body["stream_options"] == {"include_usage": True} and body["top_k"] == 5
    assert body["stop"] == ["X"] and body["user"] == "u"
    assert body["tool_choice"] == "required" and body["parallel_tool_calls"] is False


def test_thinking_asks_ollama_to_think_and_streams_back() -> None:
    assert to_openai(_form(thinking={"type": "enabled", "budget_tokens": 1024}))["think"]
    assert "think" not in to_openai(_form(thinking={"type": "disabled"}))
    stream = EventStream("m", 1)
    events = _events(stream.feed(_sse(_delta({"reasoning_content": "hm"}),
                                      _delta({"content": "ok"}, "stop"))))
    assert [(e["type"], (e.get("content_block") or e.get("delta") or {}).get("type"))
            for e in events] == [
        ("content_block_start", "thinking"), ("content_block_delta", "thinking_delta"),
        ("content_block_stop", None), ("content_block_start", "text"),
        ("content_block_delta", "text_delta"), ("content_block_stop", None),
        ("message_delta", None), ("message_stop", None)]


def test_tool_result_errors_and_thinking_are_translated() -> None:
    body = to_openai(_form(messages=[
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm",
                                           "signature": "s"},
                                          {"type": "tool_use", "id": "t1", "name": "f",
                                           "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                      "is_error": True,
                                      "content": [{"type": "text", "text": "boom"}]}]}]))
    assert body["messages"] == [
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "Error: boom"}]


@pytest.mark.parametrize(("message", "names"), [
    ({"role": "user", "content": [{"type": "tool_use", "id": "x", "name": "f"}]}, "tool_use"),
    ({"role": "user", "content": [{"type": "tool_result"}]}, "tool_use_id"),
    ({"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}, "source"),
])
def test_unsupported_blocks_name_the_field(message: dict[str, Any], names: str) -> None:
    with pytest.raises(Unsupported, match=names):
        to_openai(_form(messages=[message]))


def test_whole_answer() -> None:
    answer = {"choices": [{"message": {"role": "assistant", "content": "hi",
                                       "reasoning_content": "think",
                                       "tool_calls": [{"id": "c", "function": {
                                           "name": "f", "arguments": "{\"a\": 1}"}}]},
                           "finish_reason": "tool_calls"}],
              "usage": {"prompt_tokens": 3, "completion_tokens": 4}}
    message = to_message(answer, "m", 9)
    assert [b["type"] for b in message["content"]] == ["thinking", "text", "tool_use"]
    assert message["content"][2]["input"] == {"a": 1}
    assert message["stop_reason"] == "tool_use"
    assert message["usage"] == {"input_tokens": 3, "output_tokens": 4}
    assert to_message({"choices": [{"message": {}, "finish_reason": "length"}]}, "m", 9)[
        "usage"] == {"input_tokens": 9, "output_tokens": 0}


def test_stream_cut_anywhere_gives_the_same_events() -> None:
    raw = _sse(_delta({"role": "assistant", "content": ""}), _delta({"content": "Hel"}),
               _delta({"content": "lo"}),
               _delta({"tool_calls": [{"index": 0, "id": "c1", "function": {
                   "name": "f", "arguments": ""}}]}),
               _delta({"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\""}}]}),
               _delta({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
               _delta({}, "tool_calls"),
               {"choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 5}})
    whole = EventStream("m", 1)
    expected = _events(whole.start() + whole.feed(raw) + whole.end())
    for cut in range(1, len(raw), 7):
        stream = EventStream("m", 1)
        out = stream.start() + stream.feed(raw[:cut]) + stream.feed(raw[cut:]) + stream.end()
        assert [(e["type"], e.get("delta")) for e in _events(out)] == \
            [(e["type"], e.get("delta")) for e in expected]
    assert [e["type"] for e in expected] == [
        "message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop", "content_block_start", "content_block_delta",
        "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
    assert expected[-2]["delta"]["stop_reason"] == "tool_use"
    assert expected[-2]["usage"] == {"input_tokens": 2, "output_tokens": 5}


def test_provider_error_event_ends_the_stream() -> None:
    stream = EventStream("m", 1)
    out = stream.feed(_sse(_delta({"content": "a"})).replace(
        b"data: [DONE]", b'data: {"error": {"message": "gone"}}'))
    events = _events(out)
    assert [e["type"] for e in events] == ["content_block_start", "content_block_delta",
                                           "content_block_stop", "error"]
    assert events[-1]["error"]["message"] == "gone" and stream.end() == b""


def test_count_tokens_and_errors() -> None:
    assert count_tokens(_form()) < count_tokens(_form(system="x" * 400))
    body = error_body(404, "No model")
    assert body["type"] == "error" and body["detail"] == "No model"
    assert body["error"]["type"] == "not_found_error" and body["error"]["message"] == "No model"
