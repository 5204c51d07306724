"""The official `ollama` client, unchanged, through the gateway at /api/v1/inference/ollama
(and Open WebUI's /ollama), with the token in an Authorization header."""

from __future__ import annotations

import ollama
import pytest

from tests.inference.conftest import Infra


def _client(infra: Infra, token: str, prefix: str = "/api/v1/inference/ollama") -> ollama.Client:
    return ollama.Client(host=infra.gateway + prefix, timeout=30,
                         headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def client(infra: Infra) -> ollama.Client:
    return _client(infra, infra.user_key)


def test_list(client: ollama.Client) -> None:
    names = {m.model for m in client.list().models}
    assert {"llama-fake:latest", "embed-fake:latest"} <= names


def test_chat_streaming(client: ollama.Client) -> None:
    parts = list(client.chat(model="llama-fake:latest", stream=True,
                             messages=[{"role": "user", "content": "hi"}],
                             options={"num_predict": 3}))
    assert "".join(p.message.content for p in parts).split() == ["word0", "word1", "word2"]
    assert parts[-1].done and parts[-1].eval_count == 3


def test_chat_tools_and_generate(client: ollama.Client) -> None:
    answer = client.chat(model="llama-fake-tools:latest", stream=False,
                         messages=[{"role": "user", "content": "weather?"}])
    assert answer.message.tool_calls[0].function.arguments == {"city": "Paris"}
    generated = client.generate(model="llama-fake:latest", prompt="hi", stream=False,
                                options={"num_predict": 2})
    assert generated.response.split() == ["word0", "word1"]


def test_embed_show_version_ps(client: ollama.Client) -> None:
    embedded = client.embed(model="embed-fake", input=["a", "b"])  # ":latest" implied
    assert len(embedded.embeddings) == 2 and len(embedded.embeddings[0]) == 8
    assert client.show("llama-fake:latest").details.family == "llama"
    assert client.ps().models[0].model == "llama-fake:latest"
    assert _client_version(client) == "0.6.5"


def _client_version(client: ollama.Client) -> str:
    return client._request_raw("GET", "/api/version").json()["version"]


def test_open_webui_prefix(infra: Infra) -> None:
    client = _client(infra, infra.user_token, prefix="/ollama")
    assert any(m.model == "llama-fake:latest" for m in client.list().models)


def test_pull_progress_for_admins_only(infra: Infra) -> None:
    admin = _client(infra, infra.admin_token)
    progress = list(admin.pull("llama-fake:latest", stream=True))
    assert progress[0].status == "pulling manifest" and progress[-1].status == "success"
    assert any(p.completed == p.total == 4000 for p in progress)
    with pytest.raises(ollama.ResponseError) as refused:
        _client(infra, infra.user_token).pull("llama-fake:latest")
    assert refused.value.status_code == 403


def test_copy_and_delete_for_admins(infra: Infra) -> None:
    admin = _client(infra, infra.admin_token)
    admin.copy("llama-fake:latest", "llama-copy:latest")
    admin.delete("embed-fake:latest")
    stats = infra.fake_stats("ollama")
    assert {"source": "llama-fake:latest", "destination": "llama-copy:latest"} in stats["copied"]
    assert "embed-fake:latest" in stats["deleted"]
    with pytest.raises(ollama.ResponseError) as refused:
        _client(infra, infra.user_token).delete("embed-fake:latest")
    assert refused.value.status_code == 403


def test_unknown_model(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as missing:
        client.chat(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.status_code == 404


def test_url_idx_picks_a_connection(infra: Infra) -> None:
    import httpx

    base = f"{infra.gateway}/ollama/api"
    first = httpx.get(f"{base}/tags", params={"url_idx": 0}, headers=infra.user, timeout=30)
    assert first.status_code == 200 and first.json()["models"]
    missing = httpx.get(f"{base}/tags", params={"url_idx": 9}, headers=infra.user, timeout=30)
    assert missing.status_code == 404
    merged = httpx.get(f"{base}/tags", headers=infra.user, timeout=30).json()["models"]
    assert all(m["urls"] == [0] for m in merged)  # the second Ollama host is down


@pytest.mark.parametrize("model", ["llama-fake-broken:latest", "llama-fake-errline:latest"])
def test_broken_stream_raises_in_the_client(client: ollama.Client, model: str) -> None:
    """A provider that breaks off gives the client Ollama's own error line: it raises."""
    with pytest.raises(ollama.ResponseError, match=r"broke off|failed mid-stream"):
        for _part in client.chat(model=model, stream=True,
                                 messages=[{"role": "user", "content": "hi"}]):
            pass
