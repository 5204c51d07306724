"""Open WebUI's sharing permissions, enforced where a resource's `access_grants` are set.

Open WebUI 0.12 refuses an Access change the user may not make (it used to drop it quietly):
sharing with users or groups needs `sharing.<kind>`, with every signed-in user (a user grant
to `*`) `sharing.public_<kind>`, and only an admin may let everyone change a resource.
Folders have no public form: any grant needs `sharing.folders`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from owui.core.access import ANYONE, Access
from owui.core.errors import ForbiddenError

# The resource kinds of Open WebUI's `sharing` permissions, as the messages name them.
NOUNS = {"models": "a model", "knowledge": "a knowledge collection", "tools": "a tool",
         "prompts": "a prompt", "notes": "a note", "skills": "a skill", "folders": "a folder"}
NO_PUBLIC_FORM = frozenset({"folders"})


def _field(grant: Any, name: str) -> Any:
    return grant.get(name) if isinstance(grant, Mapping) else getattr(grant, name, None)


def _key(grant: Any) -> tuple[Any, Any, Any]:
    return (_field(grant, "principal_type"), _field(grant, "principal_id"),
            _field(grant, "permission"))


def check_sharing(grants: Iterable[Any] | None, who: Access, kind: str, *,
                  current: Iterable[Any] | None = None) -> None:
    """Raise ForbiddenError naming the permission `who` lacks to set these grants on a
    resource of `kind` (a key of NOUNS). Only a change is checked: grants already in
    `current` (the resource's grants before) pass, so saving a resource as it is never fails.
    Grants may be mappings or objects."""
    kept = {_key(g) for g in current or ()}
    grants = [g for g in grants or () if _key(g) not in kept]
    if not grants or who.is_admin:
        return
    public = [g for g in grants
              if _field(g, "principal_type") == "user" and _field(g, "principal_id") == ANYONE]
    noun = NOUNS[kind]
    if any(_field(g, "permission") == "write" for g in public):
        raise ForbiddenError(f"access_grants: only admins may let everyone change {noun}.")
    needed = {f"sharing.{kind}": len(public) < len(grants)}
    if kind in NO_PUBLIC_FORM:
        needed[f"sharing.{kind}"] = True
    else:
        needed[f"sharing.public_{kind}"] = bool(public)
    for key, required in needed.items():
        if required and not who.allows(key):
            raise ForbiddenError(f"access_grants: sharing {noun} this way needs the '{key}' "
                                 "permission; ask an admin to grant it.")
