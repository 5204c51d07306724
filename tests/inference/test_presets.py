"""Model presets with Open WebUI's `/api/v1/models` routes: CRUD, sharing, the model list,
and their system prompt and params applied to calls."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.conftest import bearer, signup
from tests.inference.conftest import Infra

SHARED = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]


def _create(infra: Infra, headers: dict[str, str], **fields: object) -> dict[str, object]:
    form = {"id": f"preset-{uuid.uuid4().hex[:8]}", "name": "Preset", "meta": {},
            "params": {}, **fields}
    response = httpx.post(f"{infra.gateway}/api/v1/models/create", headers=headers, json=form,
                          timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _ask(infra: Infra, headers: dict[str, str], model: str, **extra: object) -> httpx.Response:
    return httpx.post(f"{infra.gateway}/api/v1/inference/chat/completions", headers=headers,
                      timeout=30, json={"model": model, **extra,
                                        "messages": [{"role": "user", "content": "hi"}]})


@pytest.mark.parametrize("base", ["gpt-fake-echo", "llama-fake-echo:latest"])
def test_preset_applies_system_prompt_and_params(infra: Infra, base: str) -> None:
    preset = _create(infra, infra.user, base_model_id=base, name="Terse",
                     params={"system": "Answer in one word.", "temperature": 0.1,
                             "seed": 7, "num_ctx": 2048})
    answer = _ask(infra, infra.user, str(preset["id"]), temperature=1.5)
    assert answer.status_code == 200, answer.text
    sent = json.loads(answer.json()["choices"][0]["message"]["content"])
    assert sent["messages"][0] == {"role": "system", "content": "Answer in one word."}
    if base.startswith("llama"):
        assert sent["options"] == {"temperature": 0.1, "seed": 7, "num_ctx": 2048}
    else:
        assert (sent["temperature"], sent["seed"]) == (0.1, 7) and "num_ctx" not in sent
    assert answer.json()["model"] in (preset["id"], base)


def test_private_preset_is_the_owners_only(infra: Infra) -> None:
    preset = _create(infra, infra.user, base_model_id="gpt-fake", name="Mine")
    other = bearer(signup(infra.gateway)["token"])
    assert _ask(infra, other, str(preset["id"])).status_code == 404
    got = httpx.get(f"{infra.gateway}/api/v1/models/model", params={"id": preset["id"]},
                    headers=other, timeout=30)
    assert got.status_code == 404
    listed = httpx.get(f"{infra.gateway}/api/models", headers=other, timeout=30).json()["data"]
    assert preset["id"] not in {m["id"] for m in listed}
    mine = httpx.get(f"{infra.gateway}/api/models", headers=infra.user, timeout=30).json()
    entry = next(m for m in mine["data"] if m["id"] == preset["id"])
    assert entry["preset"] is True and entry["info"]["base_model_id"] == "gpt-fake"
    assert entry["provider"] == "openai"
    assert _ask(infra, infra.admin, str(preset["id"])).status_code == 200  # admins see all


def test_shared_preset_is_read_only_for_others(infra: Infra) -> None:
    preset = _create(infra, infra.user, base_model_id="llama-fake:latest", name="Shared",
                     access_grants=SHARED, params={"system": "secret prompt"})
    assert preset["access_grants"][0]["principal_id"] == "*"
    other = bearer(signup(infra.gateway)["token"])
    assert _ask(infra, other, str(preset["id"])).status_code == 200
    seen = httpx.get(f"{infra.gateway}/api/v1/models/model", params={"id": preset["id"]},
                     headers=other, timeout=30).json()
    assert seen["write_access"] is False and seen["params"] == {}  # the prompt stays hidden
    update = {**preset, "name": "Taken over"}
    assert httpx.post(f"{infra.gateway}/api/v1/models/model/update", headers=other,
                      json=update, timeout=30).status_code == 403
    assert httpx.post(f"{infra.gateway}/api/v1/models/model/delete", headers=other,
                      json={"id": preset["id"]}, timeout=30).status_code == 403


def test_crud_with_open_webui_routes(infra: Infra) -> None:
    base = infra.gateway + "/api/v1/models"
    preset = _create(infra, infra.user, base_model_id="gpt-fake", name="Draft",
                     meta={"description": "d", "tags": [{"name": "work"}]})
    assert preset["user_id"] and preset["is_active"] is True
    taken = httpx.post(f"{base}/create", headers=infra.user, timeout=30,
                       json={"id": preset["id"], "name": "x", "meta": {}, "params": {}})
    assert taken.status_code == 409
    updated = httpx.post(f"{base}/model/update", headers=infra.user, timeout=30, json={
        **preset, "name": "Final", "params": {"temperature": 0.5}}).json()
    assert updated["name"] == "Final" and updated["params"] == {"temperature": 0.5}
    got = httpx.get(f"{base}/model", params={"id": preset["id"]}, headers=infra.user,
                    timeout=30).json()
    assert got["write_access"] is True and got["name"] == "Final"
    listing = httpx.get(f"{base}/list", params={"query": "final"}, headers=infra.user,
                        timeout=30).json()
    assert [i["id"] for i in listing["items"]] == [preset["id"]] and listing["total"] == 1
    assert "work" in httpx.get(f"{base}/tags", headers=infra.user, timeout=30).json()
    toggled = httpx.post(f"{base}/model/toggle", params={"id": preset["id"]},
                         headers=infra.user, timeout=30).json()
    assert toggled["is_active"] is False
    assert _ask(infra, infra.user, str(preset["id"])).status_code == 404  # inactive
    deleted = httpx.post(f"{base}/model/delete", headers=infra.user, json={"id": preset["id"]},
                         timeout=30)
    assert deleted.status_code == 200 and deleted.json() is True
    assert httpx.get(f"{base}/model", params={"id": preset["id"]}, headers=infra.user,
                     timeout=30).status_code == 404


def test_access_update_shares_a_preset(infra: Infra) -> None:
    preset = _create(infra, infra.user, base_model_id="gpt-fake", name="Later shared")
    other = bearer(signup(infra.gateway)["token"])
    assert _ask(infra, other, str(preset["id"])).status_code == 404
    httpx.post(f"{infra.gateway}/api/v1/models/model/access/update", headers=infra.user,
               timeout=30, json={"id": preset["id"], "access_grants": SHARED}
               ).raise_for_status()
    assert _ask(infra, other, str(preset["id"])).status_code == 200


@pytest.mark.parametrize("form", [
    {"id": "has space", "name": "x", "meta": {}, "params": {}},
    {"id": "ok", "meta": {}, "params": {}},
    {"id": "ok2", "name": "x", "access_grants": [{"principal_type": "robot",
                                                  "principal_id": "*", "permission": "read"}]},
])
def test_bad_preset_forms_are_422(infra: Infra, form: dict[str, object]) -> None:
    response = httpx.post(f"{infra.gateway}/api/v1/models/create", headers=infra.user,
                          json=form, timeout=30)
    assert response.status_code == 422


def test_admin_only_preset_routes(infra: Infra) -> None:
    for method, path in (("GET", "/all"), ("DELETE", "/delete/all")):
        response = httpx.request(method, f"{infra.gateway}/api/v1/models{path}",
                                 headers=infra.user, timeout=30)
        assert response.status_code == 403
    assert httpx.get(f"{infra.gateway}/api/v1/models/all", headers=infra.admin,
                     timeout=30).status_code == 200
