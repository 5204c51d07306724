"""What the matrix's users may do beyond Open WebUI's default permissions (which let a user make
no model preset, collection or prompt, nor share one): they make one of each, and Alice shares
some with Bob (test_read_only). Set as the deployment's defaults, once, before anyone makes
anything; test_groups_permissions withholds what it checks and puts these back."""

from __future__ import annotations

import httpx

from tests.authz.owners import ok

GRANTED = {"workspace": ("models", "knowledge", "prompts", "models_import", "models_export"),
           "sharing": ("models", "knowledge", "prompts", "notes")}


def let_users_make_and_share(admin: httpx.Client) -> None:
    defaults = ok(admin.get("/api/v1/users/default/permissions"))
    for section, names in GRANTED.items():
        defaults[section].update(dict.fromkeys(names, True))
    ok(admin.post("/api/v1/users/default/permissions", json=defaults))
