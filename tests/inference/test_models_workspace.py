"""The Models page's routes beyond create/edit/delete: base models for the admin, the paged list
with tags and order, export and import (all or nothing), an admin's sync, version history, and a
preset whose base model is gone (a clear error at create and in the chat)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tests.conftest import bearer, signup
from tests.inference.conftest import Infra

MODELS = "/api/v1/models"


def _call(infra: Infra, method: str, path: str, headers: dict[str, str],
          **kwargs: Any) -> httpx.Response:
    return httpx.request(method, infra.gateway + path, headers=headers, timeout=30, **kwargs)


def _new_id(stem: str = "m") -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def _create(infra: Infra, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    form = {"id": _new_id(), "name": "Preset", "base_model_id": "gpt-fake", "meta": {},
            "params": {}, **fields}
    answer = _call(infra, "POST", f"{MODELS}/create", headers, json=form)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _ask(infra: Infra, headers: dict[str, str], model: str) -> httpx.Response:
    return _call(infra, "POST", "/api/v1/inference/chat/completions", headers,
                 json={"model": model, "messages": [{"role": "user", "content": "hi"}]})


def test_base_models_are_the_providers_for_the_admin(infra: Infra) -> None:
    preset = _create(infra, infra.admin)
    base = _call(infra, "GET", "/api/models/base", infra.admin)
    assert base.status_code == 200, base.text
    ids = {m["id"] for m in base.json()["data"]}
    assert {"gpt-fake", "llama-fake:latest"} <= ids and preset["id"] not in ids
    record = _create(infra, infra.admin, id="gpt-fake-echo", base_model_id=None,
                     name="Echo (renamed)", meta={"tags": [{"name": "tested"}]})
    try:
        records = _call(infra, "GET", f"{MODELS}/base", infra.admin).json()
        assert record["id"] in {r["id"] for r in records}
        assert preset["id"] not in {r["id"] for r in records}
        assert "tested" in _call(infra, "GET", f"{MODELS}/base/tags", infra.admin).json()
        tagged = _call(infra, "GET", f"{MODELS}/base", infra.admin, params={"tag": "nope"})
        assert tagged.json() == []
        # A base-model record is no workspace preset.
        listed = _call(infra, "GET", f"{MODELS}/list", infra.admin,
                       params={"query": "renamed"}).json()
        assert listed == {"items": [], "total": 0}
    finally:
        _call(infra, "POST", f"{MODELS}/model/delete", infra.admin, json={"id": record["id"]})
    for path in ("/api/models/base", f"{MODELS}/base", f"{MODELS}/base/tags"):
        assert _call(infra, "GET", path, infra.user).status_code == 403


def test_the_list_filters_by_tag_and_orders(infra: Infra) -> None:
    owner = bearer(signup(infra.gateway)["token"])
    made = [_create(infra, owner, name=name, meta={"tags": [{"name": tag}]})
            for name, tag in (("beta", "red"), ("alpha", "blue"), ("gamma", "red"))]
    red = _call(infra, "GET", f"{MODELS}/list", owner,
                params={"tag": "RED", "view_option": "created"}).json()
    assert red["total"] == 2 and {i["name"] for i in red["items"]} == {"beta", "gamma"}
    by_name = _call(infra, "GET", f"{MODELS}/list", owner, params={
        "order_by": "name", "direction": "asc", "view_option": "created"}).json()
    assert [i["name"] for i in by_name["items"]] == ["alpha", "beta", "gamma"]
    assert all(i["version_id"] for i in by_name["items"])
    assert {"blue", "red"} <= set(_call(infra, "GET", f"{MODELS}/tags", owner).json())
    assert _call(infra, "GET", f"{MODELS}/list", owner,
                 params={"order_by": "sideways"}).status_code == 422
    assert len(made) == 3


def test_a_base_model_no_connection_serves_is_refused_clearly(infra: Infra) -> None:
    for base in ("no-such-model", None):
        answer = _call(infra, "POST", f"{MODELS}/create", infra.user, json={
            "id": _new_id(), "name": "x", "base_model_id": base, "meta": {}, "params": {}})
        assert answer.status_code == 400, answer.text
        assert "base_model_id" in answer.json()["detail"]
    same = _new_id()
    answer = _call(infra, "POST", f"{MODELS}/create", infra.user, json={
        "id": same, "name": "x", "base_model_id": same, "meta": {}, "params": {}})
    assert answer.status_code == 400
    preset = _create(infra, infra.user)
    moved = _call(infra, "POST", f"{MODELS}/model/update", infra.user,
                  json={**preset, "base_model_id": "gone-model"})
    assert moved.status_code == 400 and "gone-model" in moved.json()["detail"]
    # An import keeps what it is given: the chat then says which base is gone.
    orphan = _new_id("orphan")
    assert _call(infra, "POST", f"{MODELS}/import", infra.user, json={"models": [
        {"id": orphan, "name": "Orphan", "base_model_id": "vanished-model"}]}).json() is True
    chat = _ask(infra, infra.user, orphan)
    assert chat.status_code == 404
    assert "vanished-model" in chat.json()["detail"], chat.text


def test_export_then_import_elsewhere(infra: Infra) -> None:
    alice = bearer(signup(infra.gateway)["token"])
    bob = bearer(signup(infra.gateway)["token"])
    one = _create(infra, alice, name="One", params={"system": "Be terse."})
    two = _create(infra, alice, name="Two", meta={"description": "second"})
    exported = _call(infra, "GET", f"{MODELS}/export", alice)
    assert exported.status_code == 200
    assert {m["id"] for m in exported.json()} == {one["id"], two["id"]}
    picked = _call(infra, "GET", f"{MODELS}/export", alice, params={"ids": [one["id"]]}).json()
    assert [m["params"] for m in picked] == [{"system": "Be terse."}]
    # Another user's model is not theirs to export.
    assert _call(infra, "GET", f"{MODELS}/export", bob,
                 params={"ids": [one["id"]]}).status_code == 404
    copies = [{**m, "id": m["id"] + "-copy"} for m in exported.json()]
    assert _call(infra, "POST", f"{MODELS}/import", bob, json={"models": copies}).json() is True
    mine = _call(infra, "GET", f"{MODELS}/list", bob, params={"view_option": "created"}).json()
    assert {i["id"] for i in mine["items"]} == {c["id"] for c in copies}
    assert all(i["user_id"] != one["user_id"] for i in mine["items"])
    # Importing again updates: meta merged over the stored one, params replaced.
    again = [{"id": one["id"] + "-copy", "meta": {"tags": [{"name": "t"}]},
              "params": {"temperature": 0.2}}]
    assert _call(infra, "POST", f"{MODELS}/import", bob, json={"models": again}).json() is True
    got = _call(infra, "GET", f"{MODELS}/model", bob, params={"id": one["id"] + "-copy"}).json()
    assert got["name"] == "One" and got["params"] == {"temperature": 0.2}
    assert got["meta"]["tags"] == [{"name": "t"}]


def test_a_bad_import_stores_nothing(infra: Infra) -> None:
    user = bearer(signup(infra.gateway)["token"])
    taken = _create(infra, infra.admin)
    fresh = _new_id("fresh")
    cases = [
        ([{"id": fresh, "name": "ok", "base_model_id": "gpt-fake"},
          {"id": "has space", "name": "bad", "base_model_id": "gpt-fake"}], 422, "models[1]"),
        ([{"id": fresh, "name": "ok", "base_model_id": "gpt-fake"},
          {"id": taken["id"], "name": "mine now", "base_model_id": "gpt-fake"}], 409, "taken"),
        ([{"id": fresh, "name": "no base"}], 400, "base model"),
        ([{"id": fresh, "name": "a", "base_model_id": "gpt-fake"},
          {"id": fresh, "name": "b", "base_model_id": "gpt-fake"}], 400, "twice"),
        ([{"id": fresh, "name": "x", "base_model_id": "gpt-fake",
           "access_grants": [{"principal_type": "user", "principal_id": "*",
                              "permission": "write"}]}], 403, "admins"),
    ]
    for models, status, words in cases:
        answer = _call(infra, "POST", f"{MODELS}/import", user, json={"models": models})
        assert answer.status_code == status, (models, answer.text)
        assert words in answer.json()["detail"], answer.text
        assert _call(infra, "GET", f"{MODELS}/model", user,
                     params={"id": fresh}).status_code == 404
    assert _call(infra, "POST", f"{MODELS}/import", user,
                 json={"models": "nope"}).status_code == 422
    assert _call(infra, "GET", f"{MODELS}/model", infra.admin,
                 params={"id": taken["id"]}).json()["name"] == "Preset"


def test_version_history_and_going_back(infra: Infra) -> None:
    owner = bearer(signup(infra.gateway)["token"])
    preset = _create(infra, owner, name="First", params={"system": "v1"})
    first_version = preset["version_id"]
    updated = _call(infra, "POST", f"{MODELS}/model/update", owner, json={
        **preset, "name": "Second", "params": {"system": "v2"},
        "commit_message": "sharper"}).json()
    assert updated["version_id"] != first_version
    _call(infra, "POST", f"{MODELS}/model/toggle", owner, params={"id": preset["id"]})
    history = _call(infra, "GET", f"{MODELS}/model/history", owner,
                    params={"id": preset["id"]}).json()
    assert [h["id"] for h in history] == [updated["version_id"], first_version]  # no toggle
    assert history[0]["commit_message"] == "sharper"
    assert history[0]["parent_id"] == first_version
    entry = _call(infra, "GET", f"{MODELS}/model/history/{first_version}", owner,
                  params={"id": preset["id"]}).json()
    assert entry["snapshot"]["name"] == "First"
    assert entry["snapshot"]["params"] == {"system": "v1"}
    back = _call(infra, "POST", f"{MODELS}/model/update/version", owner,
                 params={"id": preset["id"]}, json={"version_id": first_version})
    assert back.status_code == 200, back.text
    assert back.json()["name"] == "First" and back.json()["version_id"] == first_version
    assert back.json()["is_active"] is False  # the switch is not part of a version
    current = _call(infra, "DELETE", f"{MODELS}/model/history/{first_version}", owner,
                    params={"id": preset["id"]})
    assert current.status_code == 400
    dropped = _call(infra, "DELETE", f"{MODELS}/model/history/{updated['version_id']}", owner,
                    params={"id": preset["id"]})
    assert dropped.status_code == 200 and dropped.json() is True
    assert _call(infra, "GET", f"{MODELS}/model/history/{updated['version_id']}", owner,
                 params={"id": preset["id"]}).status_code == 404


def test_history_is_read_by_users_and_changed_by_writers(infra: Infra) -> None:
    owner = bearer(signup(infra.gateway)["token"])
    private = _create(infra, owner)
    shared = _create(infra, owner, params={"system": "secret"}, access_grants=[
        {"principal_type": "user", "principal_id": "*", "permission": "read"}])
    other = bearer(signup(infra.gateway)["token"])
    path = f"{MODELS}/model/history"
    assert _call(infra, "GET", path, other, params={"id": private["id"]}).status_code == 404
    listed = _call(infra, "GET", path, other, params={"id": shared["id"]})
    assert [h["id"] for h in listed.json()] == [shared["version_id"]]
    entry = _call(infra, "GET", f"{path}/{shared['version_id']}", other,
                  params={"id": shared["id"]}).json()
    assert entry["snapshot"]["params"] == {}  # a reader does not see the system prompt
    assert _call(infra, "DELETE", f"{path}/{shared['version_id']}", other,
                 params={"id": shared["id"]}).status_code == 403
    assert _call(infra, "POST", f"{MODELS}/model/update/version", other,
                 params={"id": shared["id"]},
                 json={"version_id": shared["version_id"]}).status_code == 403
    assert _call(infra, "POST", f"{MODELS}/model/update/version", other,
                 params={"id": private["id"]},
                 json={"version_id": private["version_id"]}).status_code == 404
    assert _call(infra, "GET", path, infra.admin, params={"id": private["id"]}).status_code == 200
    assert _call(infra, "GET", path, owner, params={"id": private["id"],
                                                    "page": "0"}).status_code == 422


def test_an_admin_syncs_the_whole_set(infra: Infra) -> None:
    keep = _create(infra, infra.user)
    drop = _create(infra, infra.user)
    every = [m for m in _call(infra, "GET", f"{MODELS}/all", infra.admin).json()
             if m["id"] != drop["id"]]
    added = {"id": _new_id("synced"), "name": "Synced", "base_model_id": "gpt-fake",
             "meta": {}, "params": {}}
    synced = _call(infra, "POST", f"{MODELS}/sync", infra.admin,
                   json={"models": [*every, added]})
    assert synced.status_code == 200, synced.text
    assert {m["id"] for m in synced.json()} == {m["id"] for m in every} | {added["id"]}
    assert _call(infra, "GET", f"{MODELS}/model", infra.user,
                 params={"id": drop["id"]}).status_code == 404
    assert _call(infra, "GET", f"{MODELS}/model", infra.user,
                 params={"id": keep["id"]}).status_code == 200
    assert _call(infra, "POST", f"{MODELS}/sync", infra.user,
                 json={"models": []}).status_code == 403
    assert _call(infra, "POST", f"{MODELS}/sync", infra.admin,
                 json={"models": [added, added]}).status_code == 400


def _defaults(infra: Infra, changes: dict[str, dict[str, bool]]) -> None:
    url = f"{infra.gateway}/api/v1/users/default/permissions"
    current = httpx.get(url, headers=infra.admin, timeout=30).json()
    for section, values in changes.items():
        current[section].update(values)
    httpx.post(url, headers=infra.admin, json=current, timeout=30).raise_for_status()


def _eventually(check: Any, seconds: float = 10) -> None:
    """Permissions reach every service within about a second (the gateway's access header)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the permission change did not apply in time"
        time.sleep(0.2)


def test_permissions_and_group_shares(infra: Infra) -> None:
    user = bearer(signup(infra.gateway)["token"])
    form = {"name": "x", "base_model_id": "gpt-fake", "meta": {}, "params": {}}
    try:
        _defaults(infra, {"workspace": {"models": False, "models_import": False,
                                        "models_export": False},
                          "sharing": {"models": False, "public_models": False}})

        def refused(method: str, path: str, key: str, **kwargs: Any) -> bool:
            answer = _call(infra, method, path, user, **kwargs)
            return answer.status_code == 403 and key in answer.json()["detail"]

        _eventually(lambda: refused("POST", f"{MODELS}/create", "workspace.models",
                                    json={**form, "id": _new_id()}))
        assert refused("POST", f"{MODELS}/import", "workspace.models_import",
                       json={"models": []})
        assert refused("GET", f"{MODELS}/export", "workspace.models_export")
        _defaults(infra, {"workspace": {"models": True}})
        _eventually(lambda: _call(infra, "POST", f"{MODELS}/create", user, json={
            **form, "id": _new_id()}).status_code == 200)
        everyone = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]
        assert refused("POST", f"{MODELS}/create", "sharing.public_models",
                       json={**form, "id": _new_id(), "access_grants": everyone})
    finally:
        _defaults(infra, {"workspace": {"models": True, "models_import": True,
                                        "models_export": True},
                          "sharing": {"models": True, "public_models": True}})
    # A model shared with a group is usable by its members, and only by them.
    group = _call(infra, "POST", "/api/v1/groups/create", infra.admin,
                  json={"name": _new_id("team"), "description": "testers"})
    assert group.status_code == 200, group.text
    member = signup(infra.gateway)
    _call(infra, "POST", f"/api/v1/groups/id/{group.json()['id']}/users/add", infra.admin,
          json={"user_ids": [member["id"]]}).raise_for_status()
    shared = _create(infra, infra.admin, access_grants=[
        {"principal_type": "group", "principal_id": group.json()["id"], "permission": "read"}])
    _eventually(lambda: _ask(infra, bearer(member["token"]), shared["id"]).status_code == 200)
    assert _ask(infra, user, shared["id"]).status_code == 404
    listed = {m["id"] for m in _call(infra, "GET", "/api/models",
                                     bearer(member["token"])).json()["data"]}
    assert shared["id"] in listed
