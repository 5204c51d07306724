"""Open WebUI's integration paths through the gateway: `/api/v1/chat/completions`,
`/api/v1/embeddings` and `/api/embeddings`, with the official `openai` client pointed at
`<gateway>/api/v1` as integrations written for Open WebUI do."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.inference.conftest import Infra


@pytest.fixture
def client(infra: Infra) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{infra.gateway}/api/v1", api_key=infra.user_key,
                         max_retries=0, timeout=30)


@pytest.mark.parametrize("model", ["gpt-fake", "llama-fake:latest"])
def test_chat_completions(client: openai.OpenAI, model: str) -> None:
    answer = client.chat.completions.create(model=model, max_tokens=2,
                                            messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "word0 word1 "
    stream = client.chat.completions.create(model=model, max_tokens=3, stream=True,
                                            stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "hi"}])
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == \
        "word0 word1 word2 "
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3


@pytest.mark.parametrize("model", ["text-embedding-fake", "embed-fake:latest"])
def test_embeddings(client: openai.OpenAI, infra: Infra, model: str) -> None:
    vectors = client.embeddings.create(model=model, input=["a", "b"])
    assert [d.index for d in vectors.data] == [0, 1] and len(vectors.data[0].embedding) == 8
    legacy = httpx.post(f"{infra.gateway}/api/embeddings", headers=infra.user, timeout=30,
                        json={"model": model, "input": "a"})
    assert legacy.status_code == 200, legacy.text
    # The client asked for base64 (float32): equal to float32 precision.
    assert legacy.json()["data"][0]["embedding"] == pytest.approx(vectors.data[0].embedding)


def test_refusals(client: openai.OpenAI, infra: Infra) -> None:
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model",
                                       messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.UnprocessableEntityError):
        client.embeddings.create(model="", input="a")
    wrong = httpx.get(f"{infra.gateway}/api/v1/chat/completions", headers=infra.user,
                      timeout=30)
    assert wrong.status_code == 405
    anonymous = httpx.post(f"{infra.gateway}/api/v1/embeddings", timeout=30,
                           json={"model": "text-embedding-fake", "input": "a"})
    assert anonymous.status_code == 401
