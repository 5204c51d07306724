"""An external Chroma collection (a `chroma run` server, owui's server-profile store), searched
over Chroma's HTTP API (v2) with the service's httpx client: look the collection up by name,
then query it with the embedded question.

Each result is `{id, document, metadata, score}`; Chroma answers distances, turned into a
score where higher is nearer: 1 - d for the cosine and inner-product spaces, 1 / (1 + d) for
l2 (Chroma's default)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from owui.retrieval.external import SourceProblem, Unreachable

BASE = "/api/v2/tenants/default_tenant/databases/{database}/collections"


def _headers(auth: dict[str, Any]) -> dict[str, str]:
    token = auth.get("api_key") or auth.get("token")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _space(collection: dict[str, Any]) -> str:
    hnsw = (collection.get("configuration_json") or {}).get("hnsw") or {}
    return str(hnsw.get("space") or (collection.get("metadata") or {}).get("hnsw:space")
               or "l2")


def _score(distance: float, space: str) -> float:
    return 1.0 - distance if space in ("cosine", "ip") else 1.0 / (1.0 + distance)


async def _call(http: httpx.AsyncClient, method: str, url: str, what: str,
                **kwargs: Any) -> Any:
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise TimeoutError from None
    except httpx.TransportError as exc:
        raise Unreachable(f"{exc.__class__.__name__}: {exc}") from None
    if response.status_code in (400, 404, 422):
        raise SourceProblem(f"Chroma refused {what}: {response.text[:300]}")
    response.raise_for_status()
    return response.json()


async def search(*, http: httpx.AsyncClient, endpoint: str, auth: dict[str, Any],
                 options: dict[str, Any], collection: str, vector: list[float], k: int,
                 seconds: float, **_: Any) -> list[dict[str, Any]]:
    base = endpoint.rstrip("/") + BASE.format(
        database=quote(str(options.get("db_name") or "default_database"), safe=""))
    headers = _headers(auth)
    found = await _call(http, "GET", f"{base}/{quote(collection, safe='')}",
                        f"collection '{collection}'", headers=headers, timeout=seconds)
    answer = await _call(http, "POST", f"{base}/{found['id']}/query",
                         f"the search of collection '{collection}'", headers=headers,
                         timeout=seconds, json={
                             "query_embeddings": [vector], "n_results": k,
                             "include": ["documents", "metadatas", "distances"]})
    space = _space(found)
    ids, documents = answer["ids"][0], answer["documents"][0]
    metadatas, distances = answer["metadatas"][0], answer["distances"][0]
    return [{"id": i, "document": doc, "metadata": meta or {}, "score": _score(d, space)}
            for i, doc, meta, d in zip(ids, documents, metadatas, distances, strict=True)]
