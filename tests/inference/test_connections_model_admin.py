"""Model management on an OpenAI connection that is a llama.cpp server or LM Studio
(`/openai/models/{url_idx}/...`, admin): each operation reaches the server's own endpoint under
its root URL, with the connection's key and the model's name without the connection's prefix.
The stand-in echoes what it is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.inference.conftest import Infra, _fake
from tests.support.procs import Proc


def _call(infra: Infra, method: str, path: str, headers: dict[str, str] | None = None,
          **kwargs: Any) -> httpx.Response:
    return httpx.request(method, infra.gateway + path, headers=headers or infra.admin,
                         timeout=30, **kwargs)


@pytest.fixture
def servers(infra: Infra) -> Iterator[dict[str, int]]:
    """A llama.cpp and an LM Studio stand-in as the last two OpenAI connections (by url_idx)."""
    before = _call(infra, "GET", "/openai/config").json()
    procs: list[Proc] = []
    try:
        for name in ("llama", "lmstudio"):
            procs.append(_fake("echo_openai", f"echo-{name}", {"FAKE_API_KEY": "sk-local"},
                               infra.log_dir))
            procs[-1].wait_ready(path="/healthz")
        urls = [*before["OPENAI_API_BASE_URLS"], procs[0].url + "/v1", procs[1].url + "/api/v1"]
        first = len(urls) - 2
        configs = {**before["OPENAI_API_CONFIGS"],
                   str(first): {"enable": True, "provider": "llama.cpp", "prefix_id": "lc"},
                   str(first + 1): {"enable": True, "provider": "lmstudio"}}
        keys = [""] * first + ["sk-local", "sk-local"]
        _call(infra, "POST", "/openai/config/update", json={
            **before, "OPENAI_API_BASE_URLS": urls, "OPENAI_API_KEYS": keys,
            "OPENAI_API_CONFIGS": configs}).raise_for_status()
        yield {"llama.cpp": first, "lmstudio": first + 1, "plain": 0}
    finally:
        for proc in procs:
            proc.stop()
        _call(infra, "POST", "/openai/config/update", json=before).raise_for_status()


def _echo(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    echoed = answer.json()
    assert echoed["authorization"] == "Bearer sk-local"
    return echoed


def test_llama_cpp_operations(infra: Infra, servers: dict[str, int]) -> None:
    base = f"/openai/models/{servers['llama.cpp']}"
    assert _echo(_call(infra, "GET", f"{base}/catalog"))["path"] == "/models"
    for operation, path in (("download", "/models"), ("load", "/models/load"),
                            ("unload", "/models/unload")):
        echoed = _echo(_call(infra, "POST", f"{base}/{operation}",
                             json={"model": "lc.tiny", "quant": "q4"}))
        assert (echoed["method"], echoed["path"]) == ("POST", path)
        assert json.loads(echoed["body"]) == {"model": "tiny", "quant": "q4"}  # prefix off
    deleted = _echo(_call(infra, "DELETE", base, params={"model": "lc.tiny"}))
    assert (deleted["method"], deleted["path"], deleted["query"]) == (
        "DELETE", "/models", "model=tiny")
    events = _call(infra, "GET", f"{base}/sse")
    assert events.status_code == 200 and "/models/sse" in events.text
    assert _call(infra, "GET", f"{base}/download/status/job-1").status_code == 400


def test_lm_studio_operations(infra: Infra, servers: dict[str, int]) -> None:
    base = f"/openai/models/{servers['lmstudio']}"
    assert _echo(_call(infra, "GET", f"{base}/catalog"))["path"] == "/api/v1/models"
    status = _echo(_call(infra, "GET", f"{base}/download/status/job-1"))
    assert status["path"] == "/api/v1/models/download/status/job-1"
    unloaded = _echo(_call(infra, "POST", f"{base}/unload", json={"model": "tiny"}))
    assert json.loads(unloaded["body"]) == {"instance_id": "tiny"}
    assert _call(infra, "GET", f"{base}/sse").status_code == 400  # LM Studio has none


def test_other_connections_and_bad_input(infra: Infra, servers: dict[str, int]) -> None:
    plain = _call(infra, "GET", f"/openai/models/{servers['plain']}/catalog")
    assert plain.status_code == 400 and "does not support model management" in plain.text
    beyond = servers["lmstudio"] + 1
    assert _call(infra, "GET", f"/openai/models/{beyond}/catalog").status_code == 404
    base = f"/openai/models/{servers['llama.cpp']}"
    assert _call(infra, "POST", f"{base}/load", json={}).status_code == 422
    assert _call(infra, "GET", f"{base}/download/status/a%2F..%2Fb").status_code in (404, 422)
    assert _call(infra, "GET", f"{base}/catalog", infra.user).status_code == 403


def test_unload_a_model_where_it_runs(infra: Infra, servers: dict[str, int]) -> None:
    unload = "/api/models/unload"
    answer = _call(infra, "POST", unload, json={"model": "llama-fake:latest"})
    assert answer.status_code == 200 and answer.json() == {"status": True}, answer.text
    assert "llama-fake:latest" in infra.fake_stats("ollama")["unloaded"]
    preset = _call(infra, "POST", "/api/v1/models/create", json={
        "id": "unload-me", "name": "U", "base_model_id": "llama-fake-echo:latest",
        "meta": {}, "params": {}})
    assert preset.status_code == 200, preset.text
    assert _call(infra, "POST", unload, json={"model": "unload-me"}).status_code == 200
    assert "llama-fake-echo:latest" in infra.fake_stats("ollama")["unloaded"]
    echoed = _echo(_call(infra, "POST", unload, json={"model": "lc.echo-model"}))
    assert echoed["path"] == "/models/unload"
    assert json.loads(echoed["body"]) == {"model": "echo-model"}
    plain = _call(infra, "POST", unload, json={"model": "gpt-fake"})
    assert plain.status_code == 400 and "does not support model unloading" in plain.text
    assert _call(infra, "POST", unload, json={"model": "no-such"}).status_code == 404
    assert _call(infra, "POST", unload, json={}).status_code == 422
    assert _call(infra, "POST", unload, infra.user,
                 json={"model": "gpt-fake"}).status_code == 403
