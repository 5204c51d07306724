"""`/api/v1/inference/connections`: admins add, test, change and remove connections at run
time; users get 403."""

from __future__ import annotations

import httpx
import pytest

from tests.inference.conftest import PROVIDER_KEY, Infra


def _model_ids(infra: Infra, api: str) -> set[str]:
    response = httpx.get(f"{api}/models", headers=infra.user, timeout=30)
    return {m["id"] for m in response.json()["data"]}


def test_environment_gives_the_initial_set(infra: Infra, api: str) -> None:
    # As read when the stack started: other tests change connections (an admin's change makes
    # a row the admin's), so the rows now depend on which tests ran before this one.
    urls = [(r["provider"], r["url"], r["source"], r["has_api_key"]) for r in infra.seeded]
    assert ("ollama", infra.fakes["ollama"].url, "env", False) in urls
    assert ("openai", infra.fakes["openai-a"].url + "/v1", "env", True) in urls
    assert ("openai", infra.fakes["openai-b"].url + "/v1", "env", False) in urls
    rows = httpx.get(f"{api}/connections", headers=infra.admin, timeout=30).json()
    assert all("api_key" not in r for r in [*infra.seeded, *rows])  # keys are never shown


def test_add_change_and_remove_at_run_time(infra: Infra, api: str) -> None:
    form = {"provider": "openai", "url": infra.fakes["openai-a"].url + "/v1",
            "api_key": PROVIDER_KEY, "prefix_id": "second", "name": "A again"}
    created = httpx.post(f"{api}/connections", headers=infra.admin, json=form, timeout=30)
    assert created.status_code == 201, created.text
    row = created.json()
    try:
        assert row["status"] == "ok" and row["models"] > 0
        assert "second.gpt-fake" in _model_ids(infra, api)
        answer = httpx.post(f"{api}/chat/completions", headers=infra.user, timeout=30, json={
            "model": "second.gpt-fake", "messages": [{"role": "user", "content": "hi"}]})
        assert answer.status_code == 200 and answer.json()["model"] == "gpt-fake"

        changed = httpx.patch(f"{api}/connections/{row['id']}", headers=infra.admin,
                              json={"enabled": False}, timeout=30).json()
        assert changed["enabled"] is False and changed["source"] == "admin"
        assert "second.gpt-fake" not in _model_ids(infra, api)

        httpx.patch(f"{api}/connections/{row['id']}", headers=infra.admin, timeout=30,
                    json={"enabled": True, "api_key": "sk-wrong"}).raise_for_status()
        refused = httpx.post(f"{api}/chat/completions", headers=infra.user, timeout=30, json={
            "model": "second.gpt-fake", "messages": [{"role": "user", "content": "hi"}]})
        assert refused.status_code in (404, 502)  # its list fails too, with the wrong key
    finally:
        deleted = httpx.delete(f"{api}/connections/{row['id']}", headers=infra.admin,
                               timeout=30)
    assert deleted.status_code == 200
    assert httpx.get(f"{api}/connections/{row['id']}", headers=infra.admin,
                     timeout=30).status_code == 404
    assert "second.gpt-fake" not in _model_ids(infra, api)


def test_test_a_connection_with_the_official_clients(infra: Infra, api: str) -> None:
    rows = httpx.get(f"{api}/connections", headers=infra.admin, timeout=30).json()
    by_url = {r["url"]: r["id"] for r in rows}
    ollama = httpx.post(f"{api}/connections/{by_url[infra.fakes['ollama'].url]}/test",
                        headers=infra.admin, timeout=30).json()
    assert ollama["ok"] and "llama-fake:latest" in ollama["models"]
    openai_a = httpx.post(f"{api}/connections/{by_url[infra.fakes['openai-a'].url + '/v1']}"
                          "/test", headers=infra.admin, timeout=30).json()
    assert openai_a["ok"] and "gpt-fake" in openai_a["models"]
    dead = httpx.post(f"{api}/connections/{by_url[infra.dead_url]}/test",
                      headers=infra.admin, timeout=30).json()
    assert dead["ok"] is False and dead["error"]
    unsaved = httpx.post(f"{api}/connections/test", headers=infra.admin, timeout=30, json={
        "provider": "openai", "url": infra.fakes["openai-a"].url + "/v1", "api_key": "bad"})
    assert unsaved.json()["ok"] is False and "401" in unsaved.json()["error"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/connections", None),
    ("POST", "/connections", {"provider": "ollama", "url": "http://127.0.0.1:1"}),
    ("POST", "/connections/test", {"provider": "ollama", "url": "http://127.0.0.1:1"}),
    ("PATCH", "/connections/any", {"enabled": False}),
    ("DELETE", "/connections/any", None),
])
def test_users_get_403(infra: Infra, api: str, method: str, path: str,
                       body: dict[str, object] | None) -> None:
    response = httpx.request(method, api + path, headers=infra.user, json=body, timeout=30)
    assert response.status_code == 403


@pytest.mark.parametrize("body", [
    {"provider": "vllm", "url": "http://127.0.0.1:1"},
    {"provider": "ollama", "url": "ftp://host"},
    {"provider": "ollama", "url": "http://h", "prefix_id": "has space"},
])
def test_bad_connection_forms_are_422(infra: Infra, api: str, body: dict[str, object]) -> None:
    response = httpx.post(f"{api}/connections", headers=infra.admin, json=body, timeout=30)
    assert response.status_code == 422
