"""Model presets in memory for the hot path: who may use one, and what it does to a request.

The table is small and read on every call, so it is held here and loaded again after each
write, and in the background every few seconds for other replicas' writes (service.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from owui.core import access, sharing
from owui.core.tokens import Claims
from owui.inference.models import Preset

# Params that go to any provider as they are (Open WebUI's names are OpenAI's).
OPENAI_PARAMS = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed",
                 "frequency_penalty", "presence_penalty", "logit_bias", "reasoning_effort",
                 "response_format")
# Params only Ollama understands: sent as its options, dropped for OpenAI connections.
OLLAMA_PARAMS = ("num_ctx", "top_k", "min_p", "num_predict", "repeat_penalty", "repeat_last_n",
                 "mirostat", "mirostat_eta", "mirostat_tau", "tfs_z", "typical_p", "num_keep",
                 "num_batch", "num_gpu", "num_thread", "use_mmap", "use_mlock", "keep_alive",
                 "think")


@dataclass(frozen=True, slots=True)
class PresetView:
    id: str
    user_id: str
    base_model_id: str | None
    name: str
    params: dict[str, Any]
    meta: dict[str, Any]
    access_grants: list[dict[str, Any]]
    is_active: bool
    created_at: int
    updated_at: int

    @property
    def base(self) -> str:
        """The model it runs on; with no base it changes the model of its own id."""
        return self.base_model_id or self.id

    @property
    def system(self) -> str | None:
        value = self.params.get("system")
        return str(value) if value else None


# Verifies the gateway's signed access header (set once the service starts: use_secret).
_verifier: list[access.AccessVerifier] = []


def use_secret(secret: str) -> None:
    _verifier[:] = [access.AccessVerifier(secret)]


def as_access(who: Claims | access.Access) -> access.Access:
    """The caller's access: given, or read from the access header of the request being served
    (core.access keeps it per request), so that group grants count on the hot path too."""
    if isinstance(who, access.Access):
        return who
    if _verifier:
        return access.access_of(who.sub, who.role, access.forwarded_header(), _verifier[0])
    return access.Access(who.sub, who.role, frozenset(), {})


def can_read(preset: PresetView | Preset, who: Claims | access.Access) -> bool:
    return access.can_read(preset.access_grants, as_access(who), owner_id=preset.user_id)


def can_write(preset: PresetView | Preset, who: Claims | access.Access) -> bool:
    return access.can_write(preset.access_grants, as_access(who), owner_id=preset.user_id)


def check_sharing(grants: list[Any] | None, who: access.Access,
                  current: list[Any] | None = None) -> None:
    """A preset shared as Open WebUI allows it (core.sharing); `current`: its grants before."""
    sharing.check_sharing(grants, who, "models", current=current)


def view(row: Preset) -> PresetView:
    return PresetView(row.id, row.user_id, row.base_model_id, row.name, dict(row.params or {}),
                      dict(row.meta or {}), list(row.access_grants or []), row.is_active,
                      row.created_at, row.updated_at)


class Presets:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.by_id: dict[str, PresetView] = {}

    async def reload(self) -> None:
        async with self.sessions() as session:
            rows = await session.scalars(select(Preset))
            self.by_id = {row.id: view(row) for row in rows}

    async def current(self) -> dict[str, PresetView]:
        return self.by_id

    async def usable(self, model_id: str, user: Claims | access.Access) -> PresetView | None:
        """The active preset of that id that the user may call, if any."""
        preset = (await self.current()).get(model_id)
        if preset is None or not preset.is_active or not can_read(preset, user):
            return None
        return preset


def with_system(messages: list[dict[str, Any]], system: str) -> list[dict[str, Any]]:
    """The preset's system prompt first; an existing leading system message follows it."""
    if messages and messages[0].get("role") == "system" and isinstance(
            messages[0].get("content"), str):
        first = {**messages[0], "content": f"{system}\n{messages[0]['content']}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": system}, *messages]


def apply_preset(body: dict[str, Any], preset: PresetView, provider: str) -> dict[str, Any]:
    """The request as the preset makes it: its params win, as in Open WebUI."""
    params = preset.params
    out = dict(body)
    for key in OPENAI_PARAMS:
        if params.get(key) is not None:
            out[key] = params[key]
    if provider == "ollama":
        options = {k: params[k] for k in OLLAMA_PARAMS if params.get(k) is not None}
        for key in ("keep_alive", "think"):
            if key in options:
                out[key] = options.pop(key)
        if options:
            out["options"] = {**(out.get("options") or {}), **options}
    if preset.system and isinstance(out.get("messages"), list):
        out["messages"] = with_system(out["messages"], preset.system)
    return out
