"""An external Qdrant collection, searched with qdrant-client: a server at an http(s):// URL
(its async client), or, as QDRANT_URL takes it, `file:PATH` for qdrant-client's embedded
local mode (on a worker thread; for development only: it locks its folder, so two searches of
one folder at once fail, the second with a 502). One client per search, closed after it.

Each result is the point as Qdrant answers it, `{id, score, payload}`: the source's fields
are paths into it (`payload.text`)."""

from __future__ import annotations

import asyncio
from typing import Any

from owui.retrieval.external import SourceProblem, Unreachable


def _points(answer: Any) -> list[dict[str, Any]]:
    return [{"id": point.id, "score": point.score, "payload": point.payload or {}}
            for point in answer.points]


def _local(path: str, collection: str, vector: list[float], using: str | None,
           k: int) -> list[dict[str, Any]]:
    from qdrant_client import QdrantClient

    client = QdrantClient(path=path)
    try:
        return _points(client.query_points(collection, query=vector, using=using, limit=k,
                                           with_payload=True))
    finally:
        client.close()


async def _remote(endpoint: str, api_key: str | None, collection: str, vector: list[float],
                  using: str | None, k: int, seconds: float) -> list[dict[str, Any]]:
    from qdrant_client import AsyncQdrantClient
    from qdrant_client.http.exceptions import ResponseHandlingException

    client = AsyncQdrantClient(url=endpoint, api_key=api_key, timeout=max(1, int(seconds)),
                               check_compatibility=False)
    try:
        return _points(await client.query_points(collection, query=vector, using=using,
                                                 limit=k, with_payload=True))
    except ResponseHandlingException as exc:  # the request never got an answer
        raise Unreachable(str(exc.source)) from None
    finally:
        await client.close()


async def search(*, endpoint: str, auth: dict[str, Any], collection: str,
                 config: dict[str, Any], vector: list[float], k: int, seconds: float,
                 **_: Any) -> list[dict[str, Any]]:
    from qdrant_client.http.exceptions import UnexpectedResponse

    using = config.get("vector_field") or None
    try:
        if endpoint.startswith("file:"):
            path = endpoint.removeprefix("file://").removeprefix("file:")
            return await asyncio.to_thread(_local, path, collection, vector, using, k)
        if not endpoint.startswith(("http://", "https://")):
            raise SourceProblem(f"A Qdrant endpoint is an http(s):// URL (or file:PATH), "
                                f"not {endpoint!r}.")
        return await _remote(endpoint, auth.get("api_key"), collection, vector, using, k,
                             seconds)
    except UnexpectedResponse as exc:
        if exc.status_code in (400, 404, 422):
            raise SourceProblem(f"Qdrant at {endpoint} refused the search of collection "
                                f"'{collection}': {exc.content[:300]!r}") from None
        raise
    except ValueError as exc:  # local mode: no such collection, or vectors of another size
        raise SourceProblem(f"Qdrant at {endpoint} refused the search of collection "
                            f"'{collection}': {exc}") from None
