"""Open WebUI's Ollama routes through the gateway, beyond what the `ollama` client calls: the
`/{url_idx}` variants, status, unload, and Ollama's OpenAI-compatible `/ollama/v1/*` (with the
official `openai` client where it applies)."""

from __future__ import annotations

import hashlib
import json

import httpx
import ollama
import openai
import pytest

from tests.inference.conftest import Infra

CHAT = {"model": "llama-fake:latest", "messages": [{"role": "user", "content": "hi"}]}


def _post(infra: Infra, path: str, body: dict[str, object], token: str | None = None,
          **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or infra.user_token}"}
    return httpx.post(f"{infra.gateway}{path}", json=body, headers=headers, timeout=30,
                      **kwargs)  # type: ignore[arg-type]


def test_status(infra: Infra) -> None:
    answer = httpx.get(f"{infra.gateway}/ollama/", headers=infra.user, timeout=30)
    assert answer.status_code == 200 and answer.json() == {"status": True}


@pytest.mark.parametrize("path", ["/ollama/api/tags/0", "/ollama/api/version/0",
                                  "/ollama/api/ps/0"])
def test_get_by_path_index(infra: Infra, path: str) -> None:
    answer = httpx.get(f"{infra.gateway}{path}", headers=infra.user, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()


def test_unknown_or_dead_index(infra: Infra) -> None:
    missing = httpx.get(f"{infra.gateway}/ollama/api/tags/7", headers=infra.user, timeout=30)
    assert missing.status_code == 404 and "url_idx 7" in missing.json()["detail"]
    negative = httpx.get(f"{infra.gateway}/ollama/api/tags/-1", headers=infra.user, timeout=30)
    assert negative.status_code == 422
    # Position 1 is a host that does not answer: 503, named, never a hang or a 500.
    dead = _post(infra, "/ollama/api/chat/1", {**CHAT, "stream": False})
    assert dead.status_code == 503, dead.text
    assert "unreachable" in dead.json()["detail"]


def test_chat_by_path_index_streams_ndjson(infra: Infra) -> None:
    body = {**CHAT, "options": {"num_predict": 3}}
    with httpx.stream("POST", f"{infra.gateway}/ollama/api/chat/0", json=body,
                      headers=infra.user, timeout=30) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in answer.iter_lines() if line]
    assert [line["message"]["content"] for line in lines[:-1]] == ["word0 ", "word1 ", "word2 "]
    assert lines[-1]["done"] is True


@pytest.mark.parametrize(("path", "body", "key"), [
    ("/ollama/api/generate/0", {"model": "llama-fake:latest", "prompt": "hi", "stream": False,
                                "options": {"num_predict": 2}}, "response"),
    ("/ollama/api/embed/0", {"model": "embed-fake:latest", "input": ["a"]}, "embeddings"),
    ("/ollama/api/embeddings/0", {"model": "embed-fake:latest", "prompt": "a"}, "embedding"),
])
def test_by_model_routes_by_path_index(infra: Infra, path: str, body: dict[str, object],
                                       key: str) -> None:
    answer = _post(infra, path, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()[key]


def test_unload_is_for_admins(infra: Infra) -> None:
    body = {"model": "llama-fake:latest"}
    assert _post(infra, "/ollama/api/unload", body).status_code == 403
    answer = _post(infra, "/ollama/api/unload", body, infra.admin_token)
    assert answer.status_code == 200 and answer.json() == {"status": True}
    assert "llama-fake:latest" in infra.fake_stats("ollama")["unloaded"]
    unknown = _post(infra, "/ollama/api/unload", {"model": "nope"}, infra.admin_token)
    assert unknown.status_code == 404


@pytest.mark.parametrize("path", ["/ollama/api/pull/0", "/ollama/api/create/0",
                                  "/ollama/api/copy/0"])
def test_managing_by_path_index_is_for_admins(infra: Infra, path: str) -> None:
    body = {"model": "llama-fake:latest", "source": "llama-fake:latest",
            "destination": "llama-two:latest", "stream": False}
    assert _post(infra, path, body).status_code == 403
    answer = _post(infra, path, body, infra.admin_token)
    assert answer.status_code == 200, answer.text


def test_push_answers_both_methods(infra: Infra) -> None:
    for method in ("POST", "DELETE"):
        answer = httpx.request(method, f"{infra.gateway}/ollama/api/push/0", timeout=30,
                               json={"model": "llama-fake:latest", "stream": False},
                               headers=infra.admin)
        assert answer.status_code == 200, (method, answer.text)


def _openai(infra: Infra, token: str, suffix: str = "") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{infra.gateway}/ollama/v1{suffix}", api_key=token,
                         max_retries=0, timeout=30)


def test_v1_chat_and_embeddings_with_the_openai_client(infra: Infra) -> None:
    client = _openai(infra, infra.user_key)
    answer = client.chat.completions.create(model="llama-fake:latest", max_tokens=2,
                                            messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "word0 word1 "
    stream = client.chat.completions.create(model="llama-fake", max_tokens=3, stream=True,
                                            messages=[{"role": "user", "content": "hi"}])
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == \
        "word0 word1 word2 "
    vectors = client.embeddings.create(model="embed-fake:latest", input=["a", "b"])
    assert len(vectors.data) == 2 and len(vectors.data[0].embedding) == 8


def test_v1_is_for_ollama_models_only(infra: Infra) -> None:
    client = _openai(infra, infra.user_token)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-fake", messages=[
            {"role": "user", "content": "hi"}])


def test_v1_by_path_index(infra: Infra) -> None:
    answer = _post(infra, "/ollama/v1/chat/completions/0", {**CHAT, "max_tokens": 1})
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "word0 "
    missing = _post(infra, "/ollama/v1/embeddings/5", {"model": "embed-fake", "input": "a"})
    assert missing.status_code == 404


def test_v1_models(infra: Infra) -> None:
    listed = _openai(infra, infra.user_token).models.list()
    assert {"llama-fake:latest", "embed-fake:latest"} <= {m.id for m in listed.data}
    assert all(m.owned_by == "ollama" for m in listed.data)
    one = httpx.get(f"{infra.gateway}/ollama/v1/models/0", headers=infra.admin, timeout=30)
    assert one.status_code == 200 and one.json()["data"]
    refused = httpx.get(f"{infra.gateway}/ollama/v1/models/0", headers=infra.user, timeout=30)
    assert refused.status_code == 403


def test_v1_completions_passed_through(infra: Infra) -> None:
    client = _openai(infra, infra.user_token)
    answer = client.completions.create(model="llama-fake:latest", prompt="hi", max_tokens=2)
    assert answer.choices[0].text == "word0 word1 "
    stream = client.completions.create(model="llama-fake:latest", prompt="hi", max_tokens=3,
                                       stream=True)
    assert "".join(c.choices[0].text for c in stream) == "word0 word1 word2 "


def test_v1_responses_passed_through(infra: Infra) -> None:
    answer = _post(infra, "/ollama/v1/responses", {"model": "llama-fake:latest", "input": "hi",
                                                   "max_output_tokens": 2})
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"][0]["content"][0]["text"] == "word0 word1 "
    with httpx.stream("POST", f"{infra.gateway}/ollama/v1/responses/0", headers=infra.user,
                      json={"model": "llama-fake:latest", "input": "hi", "stream": True,
                            "max_output_tokens": 2}, timeout=30) as streamed:
        assert streamed.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in streamed.iter_lines()
                  if line.startswith("data: ")]
    assert [e["type"] for e in events] == ["response.output_text.delta"] * 2 + [
        "response.completed"]
    refused = _post(infra, "/ollama/v1/responses", {"input": "hi"})
    assert refused.status_code == 422


def _events(answer: httpx.Response) -> list[dict[str, object]]:
    return [json.loads(line[6:]) for line in answer.text.splitlines() if line.startswith("data: ")]


def test_copy_and_delete_answer_true(infra: Infra) -> None:
    copied = _post(infra, "/ollama/api/copy", {"source": "llama-fake:latest",
                                               "destination": "llama-three:latest"},
                   infra.admin_token)
    assert copied.status_code == 200 and copied.json() is True
    unknown = _post(infra, "/ollama/api/copy/0", {"source": "nope", "destination": "x"},
                    infra.admin_token)
    assert unknown.status_code == 404 and "not found" in unknown.json()["error"]
    deleted = httpx.request("DELETE", f"{infra.gateway}/ollama/api/delete/0", timeout=30,
                            json={"name": "llama-fake-slow:latest"}, headers=infra.admin)
    assert deleted.status_code == 200 and deleted.json() is True
    assert "llama-fake-slow:latest" in infra.fake_stats("ollama")["deleted"]


def test_upload_a_model_file(infra: Infra) -> None:
    data = b"GGUF" + bytes(range(256)) * 64
    files = {"file": ("tiny-model.gguf", data, "application/octet-stream")}
    refused = httpx.post(f"{infra.gateway}/ollama/models/upload", files=files,
                         headers=infra.user, timeout=30)
    assert refused.status_code == 403
    answer = httpx.post(f"{infra.gateway}/ollama/models/upload/0", files=files,
                        headers=infra.admin, timeout=30)
    assert answer.status_code == 200, answer.text
    events = _events(answer)
    assert events[-2]["completed"] == events[-2]["total"] == len(data)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert events[-1] == {"done": True, "blob": digest, "name": "tiny-model.gguf",
                          "model_created": "tiny-model"}
    stats = infra.fake_stats("ollama")
    assert stats["blobs"][digest] == len(data) and "tiny-model" in stats["created"]


def test_download_only_from_model_hosts(infra: Infra) -> None:
    for url in (f"{infra.fakes['ollama'].url}/stats", "http://huggingface.co/x.gguf",
                "file:///etc/passwd"):
        answer = _post(infra, "/ollama/models/download", {"url": url}, infra.admin_token)
        assert answer.status_code == 400 and "only" in answer.json()["detail"], url
    assert _post(infra, "/ollama/models/download", {"url": "https://huggingface.co/a.gguf"}
                 ).status_code == 403
    missing = _post(infra, "/ollama/models/download/9",
                    {"url": "https://huggingface.co/a.gguf"}, infra.admin_token)
    assert missing.status_code == 404


def test_ollama_client_at_open_webuis_prefix(infra: Infra) -> None:
    """The official client pointed at `/ollama`, as Open WebUI's users point it."""
    admin = ollama.Client(host=f"{infra.gateway}/ollama", timeout=30,
                          headers={"Authorization": f"Bearer {infra.admin_token}"})
    assert admin.show("llama-fake:latest").details.family == "llama"
    assert admin.ps().models[0].model == "llama-fake:latest"
    assert len(admin.embed(model="embed-fake", input="a").embeddings) == 1
    parts = list(admin.generate(model="llama-fake", prompt="hi", stream=True,
                                options={"num_predict": 2}))
    assert "".join(p.response for p in parts) == "word0 word1 "
    assert admin.create(model="llama-made", from_="llama-fake:latest").status == "success"
    assert admin.push("llama-fake:latest").status == "success"
