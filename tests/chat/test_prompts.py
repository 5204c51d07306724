"""Prompts (`/api/v1/prompts`): the prompts page and the `/` menu, as Open WebUI 0.12 serves
them; a command taken, sizes, paging and another user's prompts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.chat.conftest import Backend, ok

PROMPTS = {"workspace": {"prompts": True}}


def set_defaults(backend: Backend, permissions: dict[str, dict[str, bool]]) -> None:
    """The deployment's default permissions (the gateway's; Open WebUI's built-ins else)."""
    with backend.admin.client() as admin:
        defaults = ok(admin.get("/api/v1/users/default/permissions"))
        for section, values in permissions.items():
            defaults[section] = {**defaults[section], **values}
        ok(admin.post("/api/v1/users/default/permissions", json=defaults))


def eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    """Permissions reach every service within about a second (the access header's)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the permission change did not arrive"
        time.sleep(0.2)


@pytest.fixture(scope="module", autouse=True)
def users_may_make_prompts(backend: Backend) -> Iterator[None]:
    """Open WebUI's default keeps prompts to admins; these users are given the permission."""
    set_defaults(backend, PROMPTS)
    yield
    set_defaults(backend, {"workspace": {"prompts": False}})


def make(client: httpx.Client, command: str = "summarize", **fields: Any) -> dict[str, Any]:
    body = {"command": command, "name": command.title(), "content": "Summarize: {{CLIPBOARD}}",
            **fields}
    return ok(client.post("/api/v1/prompts/create", json=body))


def test_create_read_list_and_the_slash_menu(fresh) -> None:
    made = make(fresh, "/summarize", tags=["writing"], meta={"description": "short"})
    assert made["command"] == "summarize" and made["is_active"] is True
    assert made["version_id"] and made["access_grants"] == []
    read = ok(fresh.get(f"/api/v1/prompts/id/{made['id']}"))
    assert read["write_access"] is True and read["user"]["id"] == made["user_id"]
    assert read["content"] == "Summarize: {{CLIPBOARD}}" and read["tags"] == ["writing"]
    assert [p["command"] for p in ok(fresh.get("/api/v1/prompts/"))] == ["summarize"]
    page = ok(fresh.get("/api/v1/prompts/list"))
    assert page["total"] == 1 and page["items"][0]["id"] == made["id"]
    assert ok(fresh.get("/api/v1/prompts/tags")) == ["writing"]


def test_a_command_taken_is_409_and_nothing_is_stored(fresh) -> None:
    make(fresh, "taken")
    again = fresh.post("/api/v1/prompts/create",
                       json={"command": "/taken", "name": "Other", "content": "x"})
    assert again.status_code == 409 and "/taken" in again.json()["detail"]
    assert len(ok(fresh.get("/api/v1/prompts/"))) == 1
    other = make(fresh, "other")
    renamed = fresh.post(f"/api/v1/prompts/id/{other['id']}/update/meta",
                         json={"name": "x", "command": "taken"})
    assert renamed.status_code == 409
    assert ok(fresh.get(f"/api/v1/prompts/id/{other['id']}"))["command"] == "other"


def test_commands_are_per_user(fresh, alice) -> None:
    make(fresh, "shared-name")
    make(alice, "shared-name")


def test_bad_commands_and_sizes(fresh) -> None:
    for command in ("", "two words", "a/b", "x" * 257):
        answer = fresh.post("/api/v1/prompts/create",
                            json={"command": command, "name": "n", "content": "c"})
        assert answer.status_code == 422, (command, answer.text)
    big = fresh.post("/api/v1/prompts/create",
                     json={"command": "big", "name": "n", "content": "x" * 200_001})
    assert big.status_code == 413 and "200,000" in big.json()["detail"]
    assert ok(fresh.get("/api/v1/prompts/list")) == {"items": [], "total": 0}
    longest = make(fresh, "/" + "y" * 256)  # the '/' is not part of it
    assert len(longest["command"]) == 256


def test_edit_versions_restore_and_diff(fresh) -> None:
    made = make(fresh, "draft")
    first = made["version_id"]
    edited = ok(fresh.post(f"/api/v1/prompts/id/{made['id']}/update", json={
        "command": "draft", "name": "Draft 2", "content": "line one\nline two",
        "commit_message": "second"}))
    assert edited["content"] == "line one\nline two" and edited["version_id"] != first
    history = ok(fresh.get(f"/api/v1/prompts/id/{made['id']}/history"))
    assert [h["commit_message"] for h in history] == ["second", "Initial version"]
    assert history[0]["parent_id"] == first and history[0]["user"]["id"] == made["user_id"]
    # Saved but not made current: kept as a version only.
    kept = ok(fresh.post(f"/api/v1/prompts/id/{made['id']}/update", json={
        "command": "draft", "name": "Draft 2", "content": "trial", "is_production": False}))
    assert kept["content"] == "line one\nline two"
    assert len(ok(fresh.get(f"/api/v1/prompts/id/{made['id']}/history"))) == 3
    diff = ok(fresh.get(f"/api/v1/prompts/id/{made['id']}/history/diff",
                        params={"from_id": first, "to_id": edited["version_id"]}))
    assert "+line one" in diff["content_diff"] and diff["name_changed"] is True
    entry = ok(fresh.get(f"/api/v1/prompts/id/{made['id']}/history/{first}"))
    assert entry["snapshot"]["content"] == "Summarize: {{CLIPBOARD}}"
    restored = ok(fresh.post(f"/api/v1/prompts/id/{made['id']}/update/version",
                             json={"version_id": first}))
    assert restored["content"] == "Summarize: {{CLIPBOARD}}" and restored["version_id"] == first
    # The current version stays; another goes, its child taking its parent.
    current = fresh.delete(f"/api/v1/prompts/id/{made['id']}/history/{first}")
    assert current.status_code == 400
    assert ok(fresh.delete(f"/api/v1/prompts/id/{made['id']}/history/{edited['version_id']}"))
    left = ok(fresh.get(f"/api/v1/prompts/id/{made['id']}/history"))
    assert len(left) == 2 and left[0]["parent_id"] == first
    unknown = fresh.post(f"/api/v1/prompts/id/{made['id']}/update/version",
                         json={"version_id": "nope"})
    assert unknown.status_code == 404


def test_toggle_hides_from_the_menu_and_delete(fresh) -> None:
    made = make(fresh, "toggled", tags=["t"])
    assert ok(fresh.post(f"/api/v1/prompts/id/{made['id']}/toggle"))["is_active"] is False
    assert ok(fresh.get("/api/v1/prompts/")) == []
    assert ok(fresh.get("/api/v1/prompts/tags")) == []
    assert ok(fresh.get("/api/v1/prompts/list"))["total"] == 1  # the page shows it, off
    assert ok(fresh.delete(f"/api/v1/prompts/id/{made['id']}/delete")) is True
    assert fresh.get(f"/api/v1/prompts/id/{made['id']}").status_code == 404


def test_list_search_tags_order_and_paging(fresh) -> None:
    for number in range(32):
        make(fresh, f"p{number:02d}", tags=["even" if number % 2 == 0 else "odd"])
    first = ok(fresh.get("/api/v1/prompts/list", params={"order_by": "name",
                                                          "direction": "asc"}))
    assert first["total"] == 32 and len(first["items"]) == 30
    assert first["items"][0]["command"] == "p00"
    second = ok(fresh.get("/api/v1/prompts/list", params={"page": 2, "order_by": "name",
                                                           "direction": "asc"}))
    assert [p["command"] for p in second["items"]] == ["p30", "p31"]
    beyond = ok(fresh.get("/api/v1/prompts/list", params={"page": 99}))
    assert beyond == {"items": [], "total": 32}
    assert fresh.get("/api/v1/prompts/list", params={"page": 0}).status_code == 422
    assert fresh.get("/api/v1/prompts/list", params={"page": "x"}).status_code == 422
    odd = ok(fresh.get("/api/v1/prompts/list", params={"tag": "ODD"}))
    assert odd["total"] == 16
    found = ok(fresh.get("/api/v1/prompts/list", params={"query": "P1"}))
    assert {p["command"] for p in found["items"]} == {f"p1{n}" for n in range(10)}
    assert ok(fresh.get("/api/v1/prompts/list", params={"view_option": "shared"}))["total"] == 0
    assert ok(fresh.get("/api/v1/prompts/tags")) == ["even", "odd"]


def test_another_users_prompt_is_404(alice, bob) -> None:
    made = make(alice, "alices")
    base = f"/api/v1/prompts/id/{made['id']}"
    for method, path, body in [
            ("GET", base, None), ("POST", f"{base}/update",
                                  {"command": "x", "name": "x", "content": "x"}),
            ("POST", f"{base}/update/meta", {"command": "x", "name": "x"}),
            ("POST", f"{base}/update/version", {"version_id": made["version_id"]}),
            ("POST", f"{base}/toggle", None), ("GET", f"{base}/history", None),
            ("GET", f"{base}/history/{made['version_id']}", None),
            ("DELETE", f"{base}/history/{made['version_id']}", None),
            ("POST", f"{base}/access/update", {"access_grants": []}),
            ("DELETE", f"{base}/delete", None)]:
        answer = bob.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    assert made["id"] not in {p["id"] for p in ok(bob.get("/api/v1/prompts/"))}
    assert ok(alice.get(base))["content"] == made["content"]


def test_making_prompts_needs_the_permission(backend, fresh) -> None:
    body = {"command": "perm", "name": "Perm", "content": "x"}
    set_defaults(backend, {"workspace": {"prompts": False}})
    try:
        eventually(lambda: fresh.post("/api/v1/prompts/create", json=body).status_code == 403)
        refused = fresh.post("/api/v1/prompts/create", json=body)
        assert "workspace.prompts" in refused.json()["detail"]
        assert ok(fresh.get("/api/v1/prompts/")) == []  # reading needs none
        with backend.admin.client() as admin:  # an admin needs none
            made = ok(admin.post("/api/v1/prompts/create", json={**body, "command": "perm-admin"}))
            ok(admin.delete(f"/api/v1/prompts/id/{made['id']}/delete"))
    finally:
        set_defaults(backend, PROMPTS)
    eventually(lambda: fresh.post("/api/v1/prompts/create", json=body).status_code == 200)
