"""What the matrix's users may do beyond Open WebUI's default permissions (which let a user make
no model preset, collection or prompt, nor share one): every user makes one of each (the
deployment's defaults, set once before anyone makes anything), and Alice alone, through a group,
may share them (test_read_only); Bob may not, so he cannot look her up either.
test_groups_permissions withholds what it checks and puts these back."""

from __future__ import annotations

import httpx

from tests.authz.owners import ok

MAKE = {"workspace": ("models", "knowledge", "prompts", "models_import", "models_export")}
SHARE = {"sharing": {"models": True, "knowledge": True, "prompts": True, "notes": True}}


def let_users_make_and_alice_share(admin: httpx.Client, alice_id: str) -> None:
    defaults = ok(admin.get("/api/v1/users/default/permissions"))
    for section, names in MAKE.items():
        defaults[section].update(dict.fromkeys(names, True))
    ok(admin.post("/api/v1/users/default/permissions", json=defaults))
    group = ok(admin.post("/api/v1/groups/create", json={
        "name": "Sharers", "description": "may share", "permissions": SHARE}))
    ok(admin.post(f"/api/v1/groups/id/{group['id']}/users/add", json={"user_ids": [alice_id]}))
