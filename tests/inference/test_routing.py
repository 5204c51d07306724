"""Failover, dead connections, broken streams, disconnects, and the errors a client gets."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from tests.inference.conftest import CONNECT_TIMEOUT, Infra

HELLO = [{"role": "user", "content": "hello"}]


def _events(text: str) -> list[str]:
    return [line[len("data: "):] for line in text.splitlines() if line.startswith("data: ")]


def test_failover_to_a_healthy_connection(infra: Infra, api: str) -> None:
    """`shared-model` is served by a healthy connection and by one that answers 503 to every
    call: every call succeeds, and the broken one was tried (then failed over)."""
    before = infra.fake_stats("openai-bad")["chat"]
    for stream in (False, True) * 6:
        response = httpx.post(f"{api}/chat/completions", headers=infra.user, timeout=30,
                              json={"model": "shared-model", "messages": HELLO,
                                    "stream": stream})
        assert response.status_code == 200, response.text
        if stream:
            assert _events(response.text)[-1] == "[DONE]"
    assert infra.fake_stats("openai-bad")["chat"] > before


def test_failover_when_a_connection_dies(infra: Infra, api: str, tmp_path) -> None:
    """A connection that listed the model, then went away, is failed over at once."""
    from tests.inference.conftest import _fake

    extra = _fake("openai", "openai-extra", {"FAKE_MODELS": "gpt-b-only"}, tmp_path)
    try:
        extra.wait_ready(path="/healthz")
        added = httpx.post(f"{api}/connections", headers=infra.admin, timeout=30,
                           json={"provider": "openai", "url": extra.url + "/v1"}).json()
        models = httpx.get(f"{api}/models", headers=infra.user, timeout=30).json()["data"]
        served = next(m for m in models if m["id"] == "gpt-b-only")
        assert added["id"] in served["connections"] and len(served["connections"]) == 2
        extra.stop()
        for _ in range(6):
            response = httpx.post(f"{api}/chat/completions", headers=infra.user, timeout=30,
                                  json={"model": "gpt-b-only", "messages": HELLO})
            assert response.status_code == 200, response.text
    finally:
        extra.stop()
        if "added" in locals():
            httpx.delete(f"{api}/connections/{added['id']}", headers=infra.admin, timeout=30)


def test_all_connections_failing_gives_502(infra: Infra, api: str) -> None:
    response = httpx.post(f"{api}/chat/completions", headers=infra.user, timeout=30,
                          json={"model": "gpt-fake-status-400", "messages": HELLO})
    assert response.status_code == 400  # the provider says the request is at fault: passed on
    assert "answers 400" in response.json()["detail"]


def test_dead_connections_do_not_slow_the_list(infra: Infra, api: str) -> None:
    """One Ollama host refuses connections and one OpenAI host never answers: a forced
    refresh answers within the connect timeout, marks both down, lists the live ones."""
    start = time.monotonic()
    response = httpx.get(f"{api}/models", params={"refresh": "true"}, headers=infra.admin,
                         timeout=30)
    elapsed = time.monotonic() - start
    assert response.status_code == 200
    assert elapsed < CONNECT_TIMEOUT + 2.0, elapsed
    body = response.json()
    status = {c["url"]: c["status"] for c in body["connections"]}
    assert status[infra.dead_url] == "down"
    assert status[infra.fakes["openai-hang"].url + "/v1"] == "down"
    assert status[infra.fakes["ollama"].url] == "ok"
    assert {"gpt-fake", "llama-fake:latest"} <= {m["id"] for m in body["data"]}
    # Once known down, they are not waited for again: the next list is quick.
    start = time.monotonic()
    httpx.get(f"{api}/models", headers=infra.user, timeout=30).raise_for_status()
    assert time.monotonic() - start < CONNECT_TIMEOUT


def test_models_are_tagged_with_provider_and_connection(infra: Infra, api: str) -> None:
    body = httpx.get(f"{api}/models", headers=infra.user, timeout=30).json()
    models = {m["id"]: m for m in body["data"]}
    assert models["llama-fake:latest"]["provider"] == "ollama"
    assert models["gpt-fake"]["provider"] == "openai"
    assert models["shared-model"]["connection"] in models["shared-model"]["connections"]
    assert len(models["shared-model"]["connections"]) == 3  # a, b and the broken one
    assert all("url" not in c for c in body["connections"])  # users do not see the hosts


@pytest.mark.parametrize("model", ["gpt-fake-broken", "gpt-fake-errevent",
                                   "llama-fake-broken:latest", "llama-fake-errline:latest"])
def test_error_mid_stream_is_a_clean_event(infra: Infra, api: str, model: str) -> None:
    response = httpx.post(f"{api}/chat/completions", headers=infra.user, timeout=30,
                          json={"model": model, "messages": HELLO, "stream": True})
    assert response.status_code == 200
    events = _events(response.text)
    errors = [json.loads(e) for e in events if e != "[DONE]" and "error" in json.loads(e)]
    assert len(errors) == 1 and errors[0]["error"]["message"]
    assert events[-1] == "[DONE]"
    assert "\n\n" + "data: " + events[-2] in response.text  # the error is an event of its own


def test_error_mid_stream_raises_in_the_sdk(infra: Infra, api: str) -> None:
    client = openai.OpenAI(base_url=api, api_key=infra.user_key, timeout=30, max_retries=0)
    stream = client.chat.completions.create(model="gpt-fake-broken", messages=HELLO,
                                            stream=True)
    with pytest.raises(openai.APIError, match="broke off"):
        for _chunk in stream:
            pass


def _wait_for(check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


@pytest.mark.parametrize(("fake", "model"), [("openai-a", "gpt-fake-slow"),
                                             ("ollama", "llama-fake-slow:latest")])
def test_client_disconnect_cancels_the_provider_call(infra: Infra, api: str, fake: str,
                                                     model: str) -> None:
    cut_before = infra.fake_stats(fake)["streams_cut"]
    with httpx.stream("POST", f"{api}/chat/completions", headers=infra.user, timeout=30,
                      json={"model": model, "messages": HELLO, "stream": True,
                            "max_tokens": 400, "options": {"num_predict": 400}}) as response:
        lines = response.iter_lines()
        assert next(line for line in lines if line.startswith("data: "))
    _wait_for(lambda: infra.fake_stats(fake)["streams_cut"] > cut_before)


def test_unknown_model_is_404(infra: Infra, api: str) -> None:
    client = openai.OpenAI(base_url=api, api_key=infra.user_token, timeout=30, max_retries=0)
    with pytest.raises(openai.NotFoundError, match="no-such-model"):
        client.chat.completions.create(model="no-such-model", messages=HELLO)
    response = httpx.post(f"{api}/embeddings", headers=infra.user, timeout=30,
                          json={"model": "no-such-model", "input": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize("body", [
    {"model": "gpt-fake", "messages": HELLO, "temperature": 7},
    {"model": "gpt-fake", "messages": []},
    {"model": "gpt-fake", "messages": [{"role": "wizard", "content": "hi"}]},
    {"messages": HELLO},
    {"model": "gpt-fake", "messages": HELLO, "max_tokens": 0},
])
def test_bad_params_are_422(infra: Infra, api: str, body: dict[str, object]) -> None:
    response = httpx.post(f"{api}/chat/completions", headers=infra.user, timeout=30, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_malformed_json_and_untranslatable_requests(infra: Infra, api: str) -> None:
    response = httpx.post(f"{api}/chat/completions", timeout=30, content=b"{nope",
                          headers={**infra.user, "content-type": "application/json"})
    assert response.status_code == 400
    remote_image = [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]
    response = httpx.post(f"{api}/chat/completions", headers=infra.user, timeout=30,
                          json={"model": "llama-fake:latest", "messages": remote_image})
    assert response.status_code == 400
    assert "messages[0].content[0].image_url" in response.json()["detail"]
    response = httpx.post(f"{api}/embeddings", headers=infra.user, timeout=30,
                          json={"model": "embed-fake:latest", "input": [[1, 2, 3]]})
    assert response.status_code == 400 and "input" in response.json()["detail"]


def test_direct_call_needs_a_token(infra: Infra) -> None:
    response = httpx.get(f"{infra.inference}/api/v1/inference/models", timeout=30)
    assert response.status_code == 401


