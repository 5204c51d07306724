"""Vector stores behind one interface: LanceDB (embedded), a Chroma server, Qdrant and Milvus.

Each module imports its client library only when the store connects, so that the service
starts fast and a store's library is loaded only where it is used.
"""

from __future__ import annotations

from pydantic import SecretStr

from owui.core.config import Settings
from owui.core.extras import missing_extra
from owui.retrieval.vectors.base import Hit, Record, VectorStore, VectorStoreError


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


# The client library of each store that is an extra, and the extra's name.
_EXTRAS = {"chroma": ("chromadb", "chroma"), "qdrant": ("qdrant_client", "qdrant"),
           "milvus": ("pymilvus", "milvus")}


def create_store(settings: Settings) -> VectorStore:
    kind = settings.vector_db
    if kind in _EXTRAS and (problem := missing_extra(*_EXTRAS[kind], f"VECTOR_DB={kind}")):
        raise VectorStoreError(problem)
    if kind == "chroma":
        from owui.retrieval.vectors.chroma import ChromaStore

        return ChromaStore(_required(settings.chroma_http_url, kind, "CHROMA_HTTP_URL"),
                           settings.owui_data_dir / "vectors")
    if kind == "qdrant":
        from owui.retrieval.vectors.qdrant import QdrantStore

        return QdrantStore(_required(settings.qdrant_url, kind, "QDRANT_URL"),
                           _secret(settings.qdrant_api_key))
    if kind == "milvus":
        from owui.retrieval.vectors.milvus import MilvusStore

        return MilvusStore(_required(settings.milvus_uri, kind, "MILVUS_URI"),
                           _secret(settings.milvus_token))
    from owui.retrieval.vectors.lance import LanceStore

    return LanceStore(settings.owui_data_dir / "vectors" / "lancedb",
                      settings.rag_vector_index_min_rows)


def _required(value: str | None, kind: str, variable: str) -> str:
    if not value:
        raise VectorStoreError(f"VECTOR_DB={kind} needs {variable}")
    return value


__all__ = ["Hit", "Record", "VectorStore", "VectorStoreError", "create_store"]
