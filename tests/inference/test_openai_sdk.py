"""The official `openai` SDK, unchanged, through the gateway: sync and async, streaming and
not, with a JWT and with an API key, against both kinds of provider."""

from __future__ import annotations

import base64
import json
import struct

import openai
import pytest

from tests.inference.conftest import Infra

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture(params=["jwt", "api_key"])
def client(request: pytest.FixtureRequest, infra: Infra, api: str) -> openai.OpenAI:
    key = infra.user_token if request.param == "jwt" else infra.user_key
    return openai.OpenAI(base_url=api, api_key=key, timeout=30, max_retries=0)


def test_models_list_merges_providers(client: openai.OpenAI) -> None:
    ids = {model.id for model in client.models.list()}
    assert {"gpt-fake", "shared-model", "gpt-b-only", "llama-fake:latest"} <= ids
    assert "hang-model" not in ids  # its connection never answers


@pytest.mark.parametrize("model", ["gpt-fake", "llama-fake:latest"])
def test_chat_completion(client: openai.OpenAI, model: str) -> None:
    answer = client.chat.completions.create(model=model, messages=HELLO, max_tokens=4)
    assert answer.choices[0].message.content.split() == ["word0", "word1", "word2", "word3"]
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.completion_tokens == 4


@pytest.mark.parametrize("model", ["gpt-fake", "llama-fake:latest"])
def test_chat_stream_with_usage(client: openai.OpenAI, model: str) -> None:
    stream = client.chat.completions.create(model=model, messages=HELLO, max_tokens=5,
                                            stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.split() == [f"word{i}" for i in range(5)]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5


@pytest.mark.parametrize("model", ["gpt-fake-tools", "llama-fake-tools:latest"])
def test_tool_calls(client: openai.OpenAI, model: str) -> None:
    tools = [{"type": "function", "function": {
        "name": "get_weather", "parameters": {"type": "object",
                                              "properties": {"city": {"type": "string"}}}}}]
    answer = client.chat.completions.create(model=model, messages=HELLO, tools=tools)
    call = answer.choices[0].message.tool_calls[0]
    assert answer.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    stream = client.chat.completions.create(model=model, messages=HELLO, tools=tools,
                                            stream=True)
    deltas = [c.choices[0].delta for c in stream if c.choices]
    calls = [t for d in deltas for t in d.tool_calls or []]
    assert calls and calls[0].function.name == "get_weather" and calls[0].id


def test_ollama_translation_of_images_tools_and_history(infra: Infra,
                                                        client: openai.OpenAI) -> None:
    """Text, an inline image, an earlier tool call and its result reach Ollama in its own
    terms: images as base64, arguments as objects, the tool result with the tool's name."""
    image = base64.b64encode(b"\x89PNG fake").decode()
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}}]},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "lookup", "arguments": "{\"q\": \"png\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "an image format"},
    ]
    answer = client.chat.completions.create(model="llama-fake-echo:latest", messages=messages,
                                            temperature=0.3, max_tokens=7, seed=1)
    sent = json.loads(answer.choices[0].message.content)
    assert sent["messages"][1] == {"role": "user", "content": "what is this?",
                                   "images": [image]}
    assert sent["messages"][2]["tool_calls"] == [
        {"function": {"name": "lookup", "arguments": {"q": "png"}}}]
    assert sent["messages"][3] == {"role": "tool", "content": "an image format",
                                   "tool_name": "lookup"}
    assert sent["options"] == {"temperature": 0.3, "num_predict": 7, "seed": 1}


@pytest.mark.parametrize("model", ["text-embedding-fake", "embed-fake:latest"])
def test_embeddings(client: openai.OpenAI, model: str) -> None:
    # The SDK asks for base64 unless told otherwise; both encodings must come back right.
    floats = client.embeddings.create(model=model, input=["a b", "c"],
                                      encoding_format="float")
    packed = client.embeddings.create(model=model, input=["a b", "c"])
    assert [d.index for d in floats.data] == [0, 1]
    assert len(floats.data[0].embedding) == 8
    assert packed.data[1].embedding == pytest.approx(floats.data[1].embedding, rel=1e-6)
    assert floats.usage.prompt_tokens == 3


def test_base64_embedding_is_little_endian_float32(infra: Infra, api: str) -> None:
    import httpx

    body = httpx.post(f"{api}/embeddings", headers=infra.user, timeout=30, json={
        "model": "embed-fake:latest", "input": "x", "encoding_format": "base64"}).json()
    raw = base64.b64decode(body["data"][0]["embedding"])
    assert len(struct.unpack(f"<{len(raw) // 4}f", raw)) == 8


async def test_async_client(infra: Infra, api: str) -> None:
    async with openai.AsyncOpenAI(base_url=api, api_key=infra.user_key, timeout=30,
                                  max_retries=0) as client:
        models = [m.id async for m in client.models.list()]
        assert "llama-fake:latest" in models
        answer = await client.chat.completions.create(model="shared-model", messages=HELLO)
        assert answer.choices[0].message.content
        stream = await client.chat.completions.create(model="llama-fake:latest",
                                                      messages=HELLO, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text.startswith("word0")
        vectors = await client.embeddings.create(model="embed-fake:latest", input="hi")
        assert len(vectors.data[0].embedding) == 8


def test_open_webui_path(infra: Infra) -> None:
    client = openai.OpenAI(base_url=f"{infra.gateway}/openai", api_key=infra.user_token,
                           timeout=30, max_retries=0)
    assert client.chat.completions.create(model="gpt-fake", messages=HELLO).choices


@pytest.mark.parametrize("path", ["/api/models", "/api/v1/models", "/openai/models"])
def test_open_webui_model_lists(infra: Infra, path: str) -> None:
    import httpx

    response = httpx.get(infra.gateway + path, params={"refresh": "false"}, headers=infra.user,
                         timeout=30)
    assert response.status_code == 200
    models = {m["id"]: m for m in response.json()["data"]}
    assert models["llama-fake:latest"]["owned_by"] == "ollama"
    assert models["llama-fake:latest"]["ollama"]["details"]["family"] == "llama"
    assert models["gpt-fake"]["object"] == "model"
