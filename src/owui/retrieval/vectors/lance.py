"""LanceDB, embedded under OWUI_DATA_DIR: one table per vector size, with a native full-text
(BM25) index, scalar indexes on collection and file, and an HNSW index once the table is large.
New rows are searchable at once (unindexed rows are scanned) and folded into the indexes by
`maintain()`, so no index is ever rebuilt for a query.

lancedb takes seconds to import: it is imported and opened on a worker thread after start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from owui.retrieval.vectors.base import (
    Hit,
    Record,
    VectorStore,
    VectorStoreError,
    best,
    meta_from_json,
)

log = logging.getLogger("owui.retrieval.lancedb")
COLUMNS = ["id", "collection", "file_id", "text", "meta"]


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def collection_filter(collections: Sequence[str]) -> str:
    if len(collections) == 1:
        return f"collection = {quote(collections[0])}"
    return f"collection IN ({', '.join(quote(c) for c in collections)})"


class LanceStore(VectorStore):
    name = "lancedb"

    def __init__(self, path: Path, index_min_rows: int) -> None:
        self.path = path
        self.index_min_rows = index_min_rows
        self._db: Any = None
        self._opening: asyncio.Future[Any] | None = None
        self._tables: dict[int, Any] = {}
        self._write = threading.Lock()

    async def start(self) -> None:
        if self._opening is None:
            self._opening = asyncio.get_running_loop().run_in_executor(None, self._connect)

    def _connect(self) -> Any:
        # Hybrid queries project scores the old way inside lancedb; its warning is noise here.
        os.environ.setdefault("LANCEDB_LOG", "error")
        import lancedb

        self.path.mkdir(parents=True, exist_ok=True)
        return lancedb.connect(str(self.path))

    async def _run(self, fn: Any, *args: Any) -> Any:
        if self._db is None:
            await self.start()
            assert self._opening is not None
            self._db = await asyncio.shield(self._opening)
        try:
            return await asyncio.to_thread(fn, *args)
        except (OSError, RuntimeError, ValueError) as exc:
            raise VectorStoreError(f"LanceDB failed: {exc}") from exc

    # tables

    def _existing(self, refresh: bool = False) -> dict[int, Any]:
        """Tables by vector size; listed once, again only when asked (a size not seen yet)."""
        if self._tables and not refresh:
            return self._tables
        for name in self._db.list_tables().tables:
            if name.startswith("chunks_") and name[7:].isdigit():
                dim = int(name[7:])
                if dim not in self._tables:
                    self._tables[dim] = self._db.open_table(name)
        return self._tables

    def _table(self, dim: int) -> Any:
        tables = self._existing(refresh=dim not in self._tables)
        if dim not in tables:
            tables[dim] = self._create(dim)
        return tables[dim]

    def _create(self, dim: int) -> Any:
        import pyarrow as pa
        from lancedb.index import FTS, BTree

        schema = pa.schema([("id", pa.string()), ("collection", pa.string()),
                            ("file_id", pa.string()), ("text", pa.string()),
                            ("meta", pa.string()), ("vector", pa.list_(pa.float32(), dim))])
        table = self._db.create_table(f"chunks_{dim}", schema=schema, exist_ok=True)
        table.create_index("text", config=FTS(with_position=False), replace=True)
        table.create_index("collection", config=BTree(), replace=True)
        table.create_index("file_id", config=BTree(), replace=True)
        return table

    # writes

    async def add(self, records: Sequence[Record]) -> None:
        if records:
            await self._run(self._add, records)

    def _add(self, records: Sequence[Record]) -> None:
        import pyarrow as pa

        dim = int(records[0].vector.shape[0])
        vectors = np.vstack([r.vector for r in records]).astype(np.float32)
        batch = pa.table({
            "id": [r.id for r in records], "collection": [r.collection for r in records],
            "file_id": [r.file_id for r in records], "text": [r.text for r in records],
            "meta": [r.meta_json() for r in records],
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), dim)})
        with self._write:
            self._table(dim).add(batch)  # one commit: all of a document's rows or none

    async def delete(self, *, collection: str | None = None, file_id: str | None = None) -> int:
        clauses = []
        if collection is not None:
            clauses.append(f"collection = {quote(collection)}")
        if file_id is not None:
            clauses.append(f"file_id = {quote(file_id)}")
        if not clauses:
            raise ValueError("delete needs a collection or a file")
        return await self._run(self._delete, " AND ".join(clauses))

    def _delete(self, where: str) -> int:
        removed = 0
        with self._write:
            for table in self._existing().values():
                count = table.count_rows(where)
                if count:
                    table.delete(where)
                    removed += count
        return removed

    async def copy(self, source: str, target: str, file_id: str) -> int:
        return await self._run(self._copy, source, target, file_id)

    def _copy(self, source: str, target: str, file_id: str) -> int:
        import pyarrow as pa

        where = f"collection = {quote(source)} AND file_id = {quote(file_id)}"
        copied = 0
        with self._write:
            for table in self._existing().values():
                count = table.count_rows(where)
                if not count:
                    continue
                rows = table.search().where(where).limit(count).to_arrow()
                rows = rows.set_column(rows.schema.get_field_index("collection"), "collection",
                                       pa.array([target] * rows.num_rows, pa.string()))
                rows = rows.set_column(rows.schema.get_field_index("id"), "id",
                                       pa.array([uuid.uuid4().hex for _ in range(rows.num_rows)]))
                table.add(rows.select([f.name for f in table.schema]))
                copied += rows.num_rows
        return copied

    async def count(self, collection: str) -> int:
        return await self._run(self._count, f"collection = {quote(collection)}")

    def _count(self, where: str) -> int:
        return sum(table.count_rows(where) for table in self._existing().values())

    # reads

    def _for_vector(self, vector: np.ndarray) -> Any:
        dim = int(vector.shape[0])
        return self._existing(refresh=dim not in self._tables).get(dim)

    async def vector_search(self, collections: Sequence[str], vector: np.ndarray,
                            k: int) -> list[Hit]:
        return await self._run(self._vector, collections, vector, k)

    def _vector(self, collections: Sequence[str], vector: np.ndarray, k: int) -> list[Hit]:
        table = self._for_vector(vector)
        if table is None:
            return []
        rows = (table.search(vector, query_type="vector").distance_type("cosine")
                .where(collection_filter(collections), prefilter=True)
                .select([*COLUMNS, "_distance"]).limit(k).to_list())
        return [_hit(row, 1.0 - float(row["_distance"])) for row in rows]

    async def text_search(self, collections: Sequence[str], query: str, k: int) -> list[Hit]:
        if not query.strip():
            return []
        return await self._run(self._text, collections, query, k)

    def _text(self, collections: Sequence[str], query: str, k: int) -> list[Hit]:
        hits: list[Hit] = []
        for table in self._existing().values():
            rows = (table.search(query, query_type="fts", fts_columns="text")
                    .where(collection_filter(collections), prefilter=True)
                    .select([*COLUMNS, "_score"]).limit(k).to_list())
            hits.extend(_hit(row, float(row["_score"])) for row in rows)
        return best(hits, k)

    # upkeep

    async def maintain(self) -> None:
        await self._run(self._maintain)

    def _maintain(self) -> None:
        for table in list(self._existing().values()):
            # Index building can take a minute on a large table: writers go on meanwhile.
            self._ensure_ann(table)
            with self._write:
                table.optimize()

    def _ensure_ann(self, table: Any) -> None:
        rows = table.count_rows()
        if rows < self.index_min_rows:
            return
        if any("Hnsw" in index.index_type for index in table.list_indices()):
            return
        from lancedb.index import HnswSq

        log.info("building an HNSW index over %d rows of %s", rows, table.name)
        table.create_index("vector", config=HnswSq(distance_type="cosine",
                                                   num_partitions=max(1, rows // 50_000)))


def _hit(row: dict[str, Any], score: float) -> Hit:
    return Hit(row["id"], row["collection"], row["file_id"], row["text"], score,
               meta_from_json(row.get("meta")))
