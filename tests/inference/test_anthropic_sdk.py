"""The official `anthropic` SDK, unchanged, against the gateway's `/api/v1/messages` (its base
URL is `<gateway>/api`), answered by the stand-in OpenAI provider (and Ollama's): plain,
streaming, system prompt, tool use and its results, count_tokens, and bad input refused in
Anthropic's error shape."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import pytest

from tests.inference.conftest import Infra

HI = [{"role": "user", "content": "hi"}]
TOOLS: list[Any] = [{"name": "get_weather", "description": "The weather in a city.",
                     "input_schema": {"type": "object",
                                      "properties": {"city": {"type": "string"}},
                                      "required": ["city"]}}]


@pytest.fixture
def client(infra: Infra) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=f"{infra.gateway}/api", api_key=None,
                               auth_token=infra.user_key, max_retries=0, timeout=30)


def test_the_sdks_default_api_key_header(infra: Infra) -> None:
    """`api_key=` (sent as `x-api-key`, the SDK's default) works as `auth_token=` does, and a
    wrong key is refused."""
    keyed = anthropic.Anthropic(base_url=f"{infra.gateway}/api", api_key=infra.user_key,
                                max_retries=0, timeout=30)
    message = keyed.messages.create(model="gpt-fake", max_tokens=2, messages=HI)
    assert message.content[0].text == "word0 word1 "  # type: ignore[union-attr]
    wrong = anthropic.Anthropic(base_url=f"{infra.gateway}/api", api_key="sk-wrong",
                                max_retries=0, timeout=30)
    with pytest.raises(anthropic.AuthenticationError):
        wrong.messages.create(model="gpt-fake", max_tokens=2, messages=HI)


def _echoed(message: anthropic.types.Message) -> dict[str, Any]:
    """What the provider was sent: the echo model answers with the request itself."""
    block = message.content[0]
    assert block.type == "text"
    return json.loads(block.text)


def test_plain(client: anthropic.Anthropic) -> None:
    message = client.messages.create(model="gpt-fake", max_tokens=3, messages=HI)
    assert message.type == "message" and message.role == "assistant"
    assert message.model == "gpt-fake"
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "word0 word1 word2 "  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == 3 and message.usage.input_tokens >= 1


def test_streaming(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model="gpt-fake", max_tokens=4, messages=HI) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "word0 word1 word2 word3 "
    assert final.content[0].text == text  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 4


def test_raw_stream_events(client: anthropic.Anthropic) -> None:
    events = list(client.messages.create(model="gpt-fake", max_tokens=2, messages=HI,
                                         stream=True))
    assert [e.type for e in events] == [
        "message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop"]


def test_system_prompt_and_parameters(client: anthropic.Anthropic) -> None:
    sent = _echoed(client.messages.create(
        model="gpt-fake-echo", max_tokens=50, system="Be brief.", stop_sequences=["END"],
        messages=HI, extra_body={"temperature": 0.2}))  # older SDKs name it
    assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "hi"}]
    assert sent["max_tokens"] == 50 and sent["temperature"] == 0.2 and sent["stop"] == ["END"]
    blocks = _echoed(client.messages.create(
        model="gpt-fake-echo", max_tokens=5,
        system=[{"type": "text", "text": "One."}, {"type": "text", "text": "Two."}],
        messages=HI))
    assert blocks["messages"][0] == {"role": "system", "content": "One.\nTwo."}


def test_tool_use(client: anthropic.Anthropic) -> None:
    message = client.messages.create(model="gpt-fake-tools", max_tokens=5, tools=TOOLS,
                                     messages=[{"role": "user", "content": "weather?"}])
    assert message.stop_reason == "tool_use"
    use = next(b for b in message.content if b.type == "tool_use")
    assert use.name == "get_weather" and use.input == {"city": "Paris"}
    with client.messages.stream(model="gpt-fake-tools", max_tokens=2, tools=TOOLS,
                                messages=[{"role": "user", "content": "weather?"}]) as stream:
        final = stream.get_final_message()
    streamed = next(b for b in final.content if b.type == "tool_use")
    assert streamed.input == {"city": "Paris"} and final.stop_reason == "tool_use"


def test_tools_and_results_are_translated(client: anthropic.Anthropic) -> None:
    sent = _echoed(client.messages.create(
        model="gpt-fake-echo", max_tokens=5, tools=TOOLS,
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Looking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                 "input": {"city": "Paris"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                {"type": "text", "text": "thanks"}]}]))
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    assert sent["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assistant, tool, user = sent["messages"][1:]
    assert assistant["tool_calls"][0]["id"] == "toolu_1"
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    assert tool == {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"}
    assert user == {"role": "user", "content": "thanks"}


def test_ollama_model(client: anthropic.Anthropic, infra: Infra) -> None:
    message = client.messages.create(model="llama-fake:latest", max_tokens=2, messages=HI)
    assert message.content[0].text == "word0 word1 "  # type: ignore[union-attr]
    ollama = anthropic.Anthropic(base_url=f"{infra.gateway}/ollama", api_key=None,
                                 auth_token=infra.user_key, max_retries=0, timeout=30)
    with ollama.messages.stream(model="llama-fake", max_tokens=3, messages=HI) as stream:
        assert "".join(stream.text_stream) == "word0 word1 word2 "
    with pytest.raises(anthropic.NotFoundError):  # /ollama/v1 serves Ollama's models only
        ollama.messages.create(model="gpt-fake", max_tokens=3, messages=HI)


def test_ollama_tool_use(client: anthropic.Anthropic) -> None:
    """Ollama's tool calls (whole, in one line) become tool_use blocks, streamed or not."""
    ask = {"model": "llama-fake-tools:latest", "max_tokens": 2, "tools": TOOLS,
           "messages": [{"role": "user", "content": "weather?"}]}
    whole = client.messages.create(**ask)
    with client.messages.stream(**ask) as stream:
        streamed = stream.get_final_message()
    for message in (whole, streamed):
        use = next(b for b in message.content if b.type == "tool_use")
        assert use.name == "get_weather" and use.input == {"city": "Paris"}
        assert message.stop_reason == "tool_use"


def test_thinking_asks_ollama_to_think(client: anthropic.Anthropic) -> None:
    thinking: Any = {"type": "enabled", "budget_tokens": 1024}
    to_ollama = _echoed(client.messages.create(model="llama-fake-echo:latest", max_tokens=2048,
                                               thinking=thinking, messages=HI))
    assert to_ollama["think"] is True
    to_openai = _echoed(client.messages.create(model="gpt-fake-echo", max_tokens=2048,
                                               thinking=thinking, messages=HI))
    assert "think" not in to_openai and "top_k" not in to_openai


def test_count_tokens(client: anthropic.Anthropic) -> None:
    short = client.messages.count_tokens(model="gpt-fake", messages=HI)
    longer = client.messages.count_tokens(model="gpt-fake", system="A long system prompt.",
                                          tools=TOOLS, messages=HI)
    assert 1 <= short.input_tokens < longer.input_tokens
    with pytest.raises(anthropic.NotFoundError):
        client.messages.count_tokens(model="no-such-model", messages=HI)


def test_unknown_model_and_bad_input(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.messages.create(model="no-such-model", max_tokens=5, messages=HI)
    assert missing.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError) as bad_role:
        client.messages.create(model="gpt-fake", max_tokens=5,
                               messages=[{"role": "system", "content": "hi"}])  # type: ignore[list-item]
    assert "messages.0.role" in bad_role.value.message
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="gpt-fake", max_tokens=0, messages=HI)
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="gpt-fake", max_tokens=5, messages=[])


@pytest.mark.parametrize("body", [
    {"model": "gpt-fake", "messages": HI},  # no max_tokens
    {"model": "gpt-fake", "max_tokens": 5, "messages": [
        {"role": "user", "content": [{"type": "audio", "data": "x"}]}]},
    {"model": "gpt-fake", "max_tokens": 5, "messages": HI,
     "tools": [{"type": "web_search_20250305", "name": "web_search"}]},
])
def test_bad_input_in_anthropics_shape(infra: Infra, body: dict[str, Any]) -> None:
    answer = httpx.post(f"{infra.gateway}/api/v1/messages", json=body, headers=infra.user,
                        timeout=30)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert error["error"]["message"]


def test_provider_failure_mid_stream(client: anthropic.Anthropic) -> None:
    with (pytest.raises(anthropic.APIStatusError, match="failed mid-stream"),
          client.messages.stream(model="gpt-fake-errevent", max_tokens=8,
                                 messages=HI) as stream):
        for _text in stream.text_stream:
            pass


def test_open_webui_paths(infra: Infra) -> None:
    body = {"model": "gpt-fake", "max_tokens": 1, "messages": HI}
    answer = httpx.post(f"{infra.gateway}/api/message", json=body, headers=infra.user,
                        timeout=30)
    assert answer.status_code == 200 and answer.json()["content"][0]["text"] == "word0 "
    counted = httpx.post(f"{infra.gateway}/api/message/count_tokens", json=body,
                         headers=infra.user, timeout=30)
    assert counted.status_code == 200 and counted.json()["input_tokens"] >= 1
