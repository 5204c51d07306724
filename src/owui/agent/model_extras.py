"""What a workspace model (an inference preset) adds to a run, as Open WebUI's chat middleware
adds it: its knowledge (`meta.knowledge`: collections and files searched before the model, as
if attached to the message) and its filters (`meta.filterIds`, run beside the global ones).

The preset lives in the inference service (GET /api/v1/models/model, a database read there).
It is kept here FRESH_FOR seconds per user and model, as long as inference's own replicas take
to see each other's preset edits: a read costs a run ~5 ms at load 18 on 2 cores (median, 11.1
vs 6.3 ms for a 5-token run with a new user each time; 5.7 vs 7.4 ms for one user's runs, kept).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from owui.agent.clients.inference import InferenceClient
from owui.core.client import ServiceError
from owui.core.tokens import Claims

log = logging.getLogger("owui.agent.model_extras")
FRESH_FOR = 5.0  # seconds a preset read is used again (inference's runtime.SYNC_AFTER)
MAX_KEPT = 2048  # (user, model) pairs kept; past it the table starts again


@dataclass(frozen=True, slots=True)
class ModelExtras:
    collections: tuple[str, ...] = ()
    file_ids: tuple[str, ...] = ()
    filter_ids: tuple[str, ...] = ()


NONE = ModelExtras()


def _ids(items: Any) -> list[str]:
    return [i for i in items if isinstance(i, str) and i] if isinstance(items, list) else []


def extras_of(meta: dict[str, Any]) -> ModelExtras:
    """The knowledge items of the model editor (`{"type": "collection"|"file"|"note", "id"}`,
    and the older `collection_name(s)` items), and its filter ids. Notes are not searched."""
    collections: list[str] = []
    files: list[str] = []
    for item in meta.get("knowledge") or []:
        if not isinstance(item, dict):
            continue
        legacy = _ids([item.get("collection_name")]) + _ids(item.get("collection_names"))
        kind, ident = item.get("type"), item.get("id")
        if legacy:
            collections += legacy
        elif isinstance(ident, str) and ident and kind in ("collection", None):
            collections.append(ident)
        elif isinstance(ident, str) and ident and kind in ("file", "doc"):
            files.append(ident)
    return ModelExtras(tuple(dict.fromkeys(collections)), tuple(dict.fromkeys(files)),
                       tuple(dict.fromkeys(_ids(meta.get("filterIds")))))


class ModelExtrasCache:
    def __init__(self, inference: InferenceClient) -> None:
        self.inference = inference
        self._kept: dict[tuple[str, str], tuple[float, ModelExtras]] = {}

    async def get(self, user: Claims, token: str, model: str) -> ModelExtras:
        key = (user.sub, model)
        kept = self._kept.get(key)
        now = time.monotonic()
        if kept is not None and now - kept[0] < FRESH_FOR:
            return kept[1]
        try:
            preset = await self.inference.preset(token, model)
        except ServiceError as exc:
            # The model call that follows meets the same fault and reports it; the run is
            # not failed here for what only adds to it.
            log.warning("model %s: preset not read, run without its knowledge and filters: %s",
                        model, exc.detail)
            return NONE
        meta = preset.get("meta") if preset else None
        extras = extras_of(meta) if isinstance(meta, dict) else NONE
        if len(self._kept) >= MAX_KEPT:
            self._kept.clear()
        self._kept[key] = (now, extras)
        return extras
