"""Open WebUI's connection settings: `/openai/config` and `/ollama/config` with their `update`,
`/openai/verify` and `/ollama/verify` (nothing saved), one connection's models
(`/openai/models/{url_idx}`), the provider switches, the `/openai/{path}` passthrough; admins
only. Each test leaves the connections as it found them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.inference.conftest import PROVIDER_KEY, Infra, _fake
from tests.support.procs import Proc


def _call(infra: Infra, method: str, path: str, headers: dict[str, str] | None = None,
          **kwargs: Any) -> httpx.Response:
    return httpx.request(method, infra.gateway + path, headers=headers or infra.admin,
                         timeout=30, **kwargs)


def _model_ids(infra: Infra) -> set[str]:
    return {m["id"] for m in _call(infra, "GET", "/api/models", infra.user).json()["data"]}


@pytest.fixture
def fresh_provider(infra: Infra) -> Iterator[Proc]:
    """An OpenAI-compatible provider no connection names yet."""
    proc = _fake("openai", "openai-new", {"FAKE_MODELS": "new-model-x;new-model-y"},
                 infra.log_dir)
    try:
        proc.wait_ready(path="/healthz")
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def openai_config(infra: Infra) -> Iterator[dict[str, Any]]:
    """The OpenAI config as it was, put back afterwards (keys read as "" and are kept)."""
    before = _call(infra, "GET", "/openai/config").json()
    yield before
    restored = _call(infra, "POST", "/openai/config/update", json=before)
    assert restored.status_code == 200, restored.text


def test_admins_only(infra: Infra) -> None:
    for method, path, body in (("GET", "/openai/config", None),
                               ("POST", "/openai/config/update", {}),
                               ("POST", "/openai/verify", {"url": "http://x", "key": ""}),
                               ("GET", "/openai/models/0", None),
                               ("GET", "/ollama/config", None),
                               ("POST", "/ollama/config/update", {}),
                               ("POST", "/ollama/verify", {"url": "http://x"}),
                               ("GET", "/openai/files", None)):
        answer = _call(infra, method, path, infra.user, json=body)
        assert answer.status_code == 403, (path, answer.text)


def test_verify_says_what_happened_and_saves_nothing(infra: Infra,
                                                     fresh_provider: Proc) -> None:
    before = _call(infra, "GET", "/openai/config").json()
    good = _call(infra, "POST", "/openai/verify",
                 json={"url": fresh_provider.url + "/v1", "key": ""})
    assert good.status_code == 200, good.text
    assert {m["id"] for m in good.json()["data"]} == {"new-model-x", "new-model-y"}
    dead = _call(infra, "POST", "/openai/verify", json={"url": infra.dead_url + "/v1", "key": ""})
    assert dead.status_code == 502 and "could not be reached" in dead.json()["detail"]
    keyed = infra.fakes["openai-a"].url + "/v1"
    assert _call(infra, "POST", "/openai/verify",
                 json={"url": keyed, "key": PROVIDER_KEY}).status_code == 200
    wrong = _call(infra, "POST", "/openai/verify", json={"url": keyed, "key": "sk-wrong"})
    assert wrong.status_code == 400 and "401" in wrong.json()["detail"]
    assert _call(infra, "POST", "/openai/verify",
                 json={"url": "ftp://nowhere", "key": ""}).status_code == 422
    assert _call(infra, "GET", "/openai/config").json() == before
    assert "new-model-x" not in _model_ids(infra)
    ollama = _call(infra, "POST", "/ollama/verify", json={"url": infra.fakes["ollama"].url})
    assert ollama.status_code == 200 and "version" in ollama.json()
    assert _call(infra, "POST", "/ollama/verify",
                 json={"url": infra.dead_url}).status_code == 502


def test_a_connection_added_in_the_config_serves_its_models(
        infra: Infra, fresh_provider: Proc, openai_config: dict[str, Any]) -> None:
    urls = [*openai_config["OPENAI_API_BASE_URLS"], fresh_provider.url + "/v1"]
    index = str(len(urls) - 1)
    configs = {**openai_config["OPENAI_API_CONFIGS"],
               index: {"enable": True, "prefix_id": "", "tags": [{"name": "fresh"}],
                       "model_ids": [], "connection_type": "external"}}
    updated = _call(infra, "POST", "/openai/config/update", json={
        **openai_config, "OPENAI_API_BASE_URLS": urls,
        "OPENAI_API_KEYS": ["" for _ in urls], "OPENAI_API_CONFIGS": configs})
    assert updated.status_code == 200, updated.text
    assert updated.json()["OPENAI_API_BASE_URLS"] == urls
    assert set(updated.json()["OPENAI_API_KEYS"]) == {""}
    listed = _call(infra, "GET", "/api/models", infra.user).json()["data"]
    entry = next(m for m in listed if m["id"] == "new-model-x")
    assert entry["tags"] == [{"name": "fresh"}] and entry["urlIdx"] == int(index)
    own = _call(infra, "GET", f"/openai/models/{index}").json()
    assert {m["id"] for m in own["data"]} == {"new-model-x", "new-model-y"}
    assert _call(infra, "GET", f"/openai/models/{len(urls)}").status_code == 404
    # The key sent as "" was kept: the provider that wants one still answers.
    chat = _call(infra, "POST", "/api/v1/inference/chat/completions", infra.user, json={
        "model": "gpt-fake", "messages": [{"role": "user", "content": "hi"}]})
    assert chat.status_code == 200, chat.text

    configs[index] = {**configs[index], "model_ids": ["new-model-y"], "prefix_id": "fresh"}
    _call(infra, "POST", "/openai/config/update", json={
        **openai_config, "OPENAI_API_BASE_URLS": urls, "OPENAI_API_KEYS": [],
        "OPENAI_API_CONFIGS": configs}).raise_for_status()
    ids = _model_ids(infra)
    assert "fresh.new-model-y" in ids and not {"new-model-x", "fresh.new-model-x"} & ids

    configs[index] = {**configs[index], "enable": False}
    _call(infra, "POST", "/openai/config/update", json={
        **openai_config, "OPENAI_API_BASE_URLS": urls, "OPENAI_API_KEYS": [],
        "OPENAI_API_CONFIGS": configs}).raise_for_status()
    assert "fresh.new-model-y" not in _model_ids(infra)
    shown = _call(infra, "GET", "/openai/config").json()["OPENAI_API_CONFIGS"][index]
    assert shown["enable"] is False and shown["model_ids"] == ["new-model-y"]


def test_the_switch_turns_a_provider_off_and_on(infra: Infra,
                                                openai_config: dict[str, Any]) -> None:
    assert "gpt-fake" in _model_ids(infra)
    off = _call(infra, "POST", "/openai/config/update",
                json={**openai_config, "ENABLE_OPENAI_API": False})
    assert off.json()["ENABLE_OPENAI_API"] is False
    ids = _model_ids(infra)
    assert "gpt-fake" not in ids and "llama-fake:latest" in ids
    assert _call(infra, "GET", "/openai/files").status_code == 503
    _call(infra, "POST", "/openai/config/update",
          json={**openai_config, "ENABLE_OPENAI_API": True}).raise_for_status()
    assert "gpt-fake" in _model_ids(infra)


def test_bad_updates_change_nothing(infra: Infra, openai_config: dict[str, Any]) -> None:
    urls = openai_config["OPENAI_API_BASE_URLS"]
    for body in ({**openai_config, "OPENAI_API_BASE_URLS": [*urls, "ftp://x"]},
                 {**openai_config, "OPENAI_API_CONFIGS": {"0": "on"}},
                 {**openai_config, "OPENAI_API_CONFIGS": {"0": {"prefix_id": "a b"}}},
                 {"OPENAI_API_KEYS": []}):
        answer = _call(infra, "POST", "/openai/config/update", json=body)
        assert answer.status_code == 422, (body, answer.text)
    assert _call(infra, "GET", "/openai/config").json() == openai_config
    assert _call(infra, "POST", "/ollama/config/update",
                 json={"OLLAMA_BASE_URLS": ["not a url"]}).status_code == 422


def test_ollama_config_round_trip(infra: Infra) -> None:
    before = _call(infra, "GET", "/ollama/config").json()
    assert before["ENABLE_OLLAMA_API"] is True
    assert infra.fakes["ollama"].url in before["OLLAMA_BASE_URLS"]
    index = str(before["OLLAMA_BASE_URLS"].index(infra.fakes["ollama"].url))
    configs = {**before["OLLAMA_API_CONFIGS"],
               index: {**before["OLLAMA_API_CONFIGS"][index], "prefix_id": "local"}}
    try:
        updated = _call(infra, "POST", "/ollama/config/update",
                        json={**before, "OLLAMA_API_CONFIGS": configs})
        assert updated.status_code == 200, updated.text
        assert "local.llama-fake:latest" in _model_ids(infra)
    finally:
        _call(infra, "POST", "/ollama/config/update", json=before).raise_for_status()
    assert "llama-fake:latest" in _model_ids(infra)


@pytest.fixture
def echo_connection(infra: Infra, openai_config: dict[str, Any]) -> Iterator[Proc]:
    """A provider that echoes what it is sent, added as the last OpenAI connection."""
    proc = _fake("echo_openai", "echo-openai", {"FAKE_MODELS": "echo-model",
                                                "FAKE_API_KEY": "sk-echo"}, infra.log_dir)
    try:
        proc.wait_ready(path="/healthz")
        urls = [*openai_config["OPENAI_API_BASE_URLS"], proc.url + "/v1"]
        keys = [*([""] * (len(urls) - 1)), "sk-echo"]
        _call(infra, "POST", "/openai/config/update", json={
            **openai_config, "OPENAI_API_BASE_URLS": urls,
            "OPENAI_API_KEYS": keys}).raise_for_status()
        yield proc
    finally:
        proc.stop()


def test_the_passthrough_goes_to_the_models_connection(infra: Infra,
                                                       echo_connection: Proc) -> None:
    sent = _call(infra, "POST", "/openai/files/upload?purpose=batch",
                 json={"model": "echo-model", "x": 1})
    assert sent.status_code == 200, sent.text
    echoed = sent.json()
    assert echoed["path"] == "/v1/files/upload" and echoed["query"] == "purpose=batch"
    assert echoed["authorization"] == "Bearer sk-echo"  # the connection's key, not the caller's
    assert '"x": 1' in echoed["body"] or '"x":1' in echoed["body"]
    for method in ("GET", "PUT", "DELETE"):
        answer = _call(infra, method, "/openai/batches/b1", json={"model": "echo-model"})
        assert answer.json()["method"] == method, answer.text
    # No model named: the first OpenAI connection (a provider with no such path: its 404).
    assert _call(infra, "GET", "/openai/batches/b1").status_code == 404
    speech = _call(infra, "POST", "/openai/audio/speech", infra.user,
                   json={"model": "echo-model", "input": "hi"})
    assert speech.json()["path"] == "/v1/audio/speech"  # a model call: every user may
    assert _call(infra, "POST", "/openai/audio/speech", infra.user,
                 json={"input": "hi"}).status_code == 422
    assert _call(infra, "POST", "/openai/responses", infra.user,
                 json={"model": "no-such-model", "input": "hi"}).status_code == 404
    assert _call(infra, "POST", "/openai/files", infra.user,
                 json={"model": "echo-model"}).status_code == 403
    config = _call(infra, "GET", "/openai/config").json()
    assert config["ENABLE_OPENAI_API_PASSTHROUGH"] is False
    _call(infra, "POST", "/openai/config/update", json={
        **config, "ENABLE_OPENAI_API_PASSTHROUGH": True}).raise_for_status()
    try:
        opened = _call(infra, "POST", "/openai/files", infra.user, json={"model": "echo-model"})
        assert opened.json()["path"] == "/v1/files", opened.text
    finally:
        _call(infra, "POST", "/openai/config/update", json={
            **config, "ENABLE_OPENAI_API_PASSTHROUGH": False}).raise_for_status()
