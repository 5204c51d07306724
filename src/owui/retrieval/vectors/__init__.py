"""Vector stores behind one interface: LanceDB (embedded) and a Chroma server."""

from __future__ import annotations

from owui.core.config import Settings
from owui.retrieval.vectors.base import Hit, Record, VectorStore, VectorStoreError


def create_store(settings: Settings) -> VectorStore:
    if settings.vector_db == "chroma":
        from owui.retrieval.vectors.chroma import ChromaStore

        if not settings.chroma_http_url:
            raise VectorStoreError("VECTOR_DB=chroma needs CHROMA_HTTP_URL")
        return ChromaStore(settings.chroma_http_url, settings.owui_data_dir / "vectors")
    if settings.vector_db != "lancedb":
        raise VectorStoreError(f"VECTOR_DB={settings.vector_db} is not supported by this "
                               "service; use lancedb or chroma")
    from owui.retrieval.vectors.lance import LanceStore

    return LanceStore(settings.owui_data_dir / "vectors" / "lancedb",
                      settings.rag_vector_index_min_rows)


__all__ = ["Hit", "Record", "VectorStore", "VectorStoreError", "create_store"]
