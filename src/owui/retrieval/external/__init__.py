"""Collections kept in an external vector database (Open WebUI 0.12's external knowledge): an
admin's connection (routes/external.py keeps them) and a source, a collection that another
system fills. owui embeds the query with its own model, searches that collection where it is,
and turns each result into a hit like any collection's (the citations of a chat). owui never
writes to an external store.

One module per provider, each `async search(...) -> list[dict]` of raw results (the fields
the source's config names are read from them by dotted path): `qdrant` and `milvus` (Open
WebUI's), `chroma` (owui's own server store, an addition). pgvector connections are kept, as
Open WebUI keeps them, but not searched: owui ships no pgvector driver, and says so (400).

Failures name the endpoint: unreachable 502, no answer in time 504, a source that does not
fit (no such collection, vectors of another size) 400."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.errors import BadRequestError, UpstreamError
from owui.core.extras import missing_extra
from owui.retrieval.access import FILE_PREFIX
from owui.retrieval.live import EXTERNAL_CONNECTIONS
from owui.retrieval.models import Knowledge
from owui.retrieval.vectors import Hit

SEARCHED = ("qdrant", "milvus", "chroma")
DEFAULT_TIMEOUT = 30.0
MAX_COUNT = 100
# What each provider's results hold where the source's config names nothing (Open WebUI's).
DEFAULTS = {"qdrant": {"content_field": "payload.text", "metadata_field": "payload.metadata",
                       "document_id_field": "id"},
            "milvus": {"content_field": "data.text", "metadata_field": "metadata",
                       "document_id_field": "id", "vector_field": "vector"},
            "chroma": {"content_field": "document", "metadata_field": "metadata",
                       "document_id_field": "id"}}
_EXTRAS = {"qdrant": ("qdrant_client", "qdrant"), "milvus": ("pymilvus", "milvus")}


class SourceProblem(BadRequestError):
    """The source as configured does not fit the store (400): the message says what to fix."""


class Unreachable(Exception):
    """The store could not be reached (a provider module raises it with the reason)."""


@dataclass(frozen=True, slots=True)
class Target:
    """An external collection to search: the knowledge it backs, its connection, its source."""

    knowledge_id: str
    knowledge_name: str
    connection: dict[str, Any]
    source: dict[str, Any]


def normalized_source(source: dict[str, Any], provider: str) -> dict[str, Any]:
    """Open WebUI's rules for a source: a collection by name, a content field (and for
    Milvus a vector field); config keys the provider does not take are dropped."""
    kind = str(source.get("type") or "collection").strip()
    name = str(source.get("name") or "").strip()
    if kind != "collection":
        raise BadRequestError("Only collection sources are supported (source.type "
                              "'collection').")
    if not name:
        raise BadRequestError("Collection name is required (source.name).")
    allowed = {"content_field", "metadata_field", "document_id_field"}
    if provider in ("qdrant", "milvus", "pgvector"):
        allowed.add("vector_field")
    if provider == "pgvector":
        allowed |= {"table_name", "collection_field"}
    config: dict[str, str] = {}
    for key, value in (source.get("config") or {}).items():
        if key not in allowed or value is None:
            continue
        if not isinstance(value, str):
            raise BadRequestError(f"source.config.{key} must be a string (a field's name or "
                                  "dotted path).")
        if value.strip():
            config[key] = value.strip()
    if not config.get("content_field"):
        raise BadRequestError("Content field is required (source.config.content_field).")
    if provider in ("milvus", "pgvector") and not config.get("vector_field"):
        raise BadRequestError("Vector field is required (source.config.vector_field).")
    return {"type": kind, "name": name, "config": config}


def connections(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    return list(snapshot.get(EXTERNAL_CONNECTIONS) or [])


def external_meta(connection: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """A collection's `meta` as Open WebUI writes it for an external source."""
    return {"source": "external", "read_only": True,
            "external": {"connection_id": connection.get("id"), "source": source,
                         "provider": connection.get("provider"),
                         "auth_mode": "service_account", "capabilities": {"retrieve": True}}}


def is_external(knowledge: Knowledge) -> bool:
    return (knowledge.meta or {}).get("source") == "external"


async def split(session: AsyncSession, snapshot: dict[str, Any],
                keys: Sequence[str]) -> tuple[list[str], list[Target]]:
    """The keys owui's own store holds, and the external collections among them. Only a
    knowledge id can name one: files' and named collections' keys cost no query (a memory
    lookup, a chat's attached file)."""
    ids = [key for key in keys if ":" not in key and not key.startswith(FILE_PREFIX)]
    if not ids:
        return list(keys), []
    found = (await session.scalars(select(Knowledge).where(Knowledge.id.in_(ids)))).all()
    external = {k.id: k for k in found if is_external(k)}
    targets = [target_of(k, snapshot) for k in external.values()]
    return [key for key in keys if key not in external], targets


def target_of(knowledge: Knowledge, snapshot: dict[str, Any]) -> Target:
    meta = (knowledge.meta or {}).get("external") or {}
    connection_id = meta.get("connection_id")
    for connection in connections(snapshot):
        if connection.get("id") == connection_id:
            return Target(knowledge.id, knowledge.name, connection, meta.get("source") or {})
    raise SourceProblem(f"Knowledge collection '{knowledge.name}' uses external connection "
                        f"'{connection_id}', which no longer exists: edit the source.")


def _timeout(connection: dict[str, Any]) -> float:
    value = (connection.get("config") or {}).get("timeout")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return min(float(value), 300.0)
    return DEFAULT_TIMEOUT


def _provider(name: str) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
    if name == "pgvector":
        raise BadRequestError("owui does not search pgvector sources (it ships no pgvector "
                              "driver): use a qdrant, milvus or chroma connection.")
    if name not in SEARCHED:
        raise BadRequestError(f"Unsupported external knowledge provider {name!r}: one of "
                              f"{', '.join(SEARCHED)}.")
    if name in _EXTRAS and (problem := missing_extra(*_EXTRAS[name], f"A {name} source")):
        raise BadRequestError(problem)
    if name == "qdrant":
        from owui.retrieval.external.qdrant import search
    elif name == "milvus":
        from owui.retrieval.external.milvus import search
    else:
        from owui.retrieval.external.chroma import search
    return search


async def retrieve(http: httpx.AsyncClient, target: Target, vector: Sequence[float],
                   k: int) -> list[Hit]:
    """The k nearest results of the target's collection, as hits of its knowledge id."""
    connection = target.connection
    endpoint = str(connection.get("endpoint") or "")
    if not connection.get("enabled", True):
        raise BadRequestError(f"External connection '{connection.get('name')}' is disabled.")
    provider = str(connection.get("provider") or "")
    search = _provider(provider)
    config = {**DEFAULTS[provider], **(target.source.get("config") or {})}
    timeout = _timeout(connection)
    started = time.monotonic()
    try:
        raw = await asyncio.wait_for(search(
            http=http, endpoint=endpoint, auth=connection.get("auth_config") or {},
            options=connection.get("config") or {}, collection=target.source.get("name"),
            config=config, vector=list(vector), k=k, seconds=timeout), timeout)
    except TimeoutError:
        raise UpstreamError("external", 504, f"External knowledge source {endpoint} did not "
                            f"answer within {time.monotonic() - started:.0f} s.") from None
    except Unreachable as exc:
        raise UpstreamError("external", 502, f"External knowledge source {endpoint} could "
                            f"not be reached: {exc}") from None
    except (SourceProblem, UpstreamError):
        raise
    except Exception as exc:  # client libraries raise many kinds: the store failed us
        raise UpstreamError("external", 502, f"External knowledge source {endpoint} failed: "
                            f"{exc.__class__.__name__}: {exc}") from None
    return [_hit(item, config, target) for item in raw[:k]]


def path_of(data: Any, path: str | None, default: Any = None) -> Any:
    """`a.b.c` read from nested mappings (Open WebUI's field paths)."""
    if not path:
        return default
    value = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return default
        value = value.get(part, default)
    return value


def _hit(item: dict[str, Any], config: dict[str, Any], target: Target) -> Hit:
    metadata = path_of(item, config.get("metadata_field"), {}) or {}
    if not isinstance(metadata, dict):
        metadata = {"external_metadata": metadata}
    title = item.get("title")
    url = item.get("url")
    document_id = path_of(item, config.get("document_id_field"))
    name = item.get("source") or title or metadata.get("source") or metadata.get("name") \
        or target.knowledge_name
    file_id = str(document_id) if document_id is not None else f"external-{target.knowledge_id}"
    meta = {**metadata, "name": title or name, "source": name, "url": url, "file_id": file_id,
            "knowledge_id": target.knowledge_id, "knowledge_name": target.knowledge_name,
            "external": True}
    if document_id is not None:
        meta["document_id"] = document_id
    content = path_of(item, config.get("content_field"), "")
    return Hit(str(item.get("id", "")), target.knowledge_id, file_id,
               content if isinstance(content, str) else str(content or ""),
               float(item.get("score") or 0.0), meta)


def view(hits: Sequence[Hit]) -> dict[str, list[Any]]:
    """A test's answer, as Open WebUI's: the documents, their metadata and scores."""
    return {"documents": [hit.text for hit in hits], "metadatas": [hit.meta for hit in hits],
            "distances": [hit.score for hit in hits]}
