"""A BM25 full-text index in SQLite FTS5, for stores without one of their own (Chroma).

FTS5 updates its inverted index on every insert and delete, so it is never rebuilt; bm25()
ranks. One connection per thread, WAL, so searches run while a document is being added.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from owui.retrieval.vectors.base import Hit, Record, meta_from_json

_WORD = re.compile(r"\w+", re.UNICODE)
_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS chunks USING fts5(
    text, id UNINDEXED, collection UNINDEXED, file_id UNINDEXED, meta UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2'
)
"""


def match_query(query: str) -> str:
    """Any of the query's words, each quoted so that FTS5 syntax in it means nothing."""
    words = dict.fromkeys(word.lower() for word in _WORD.findall(query))
    return " OR ".join(f'"{word}"' for word in words)


class FullTextIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    @property
    def db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        return connection

    def add(self, records: Sequence[Record]) -> None:
        rows = [(r.text, r.id, r.collection, r.file_id, r.meta_json()) for r in records]
        with self._write, self.db:
            self.db.executemany("INSERT INTO chunks (text, id, collection, file_id, meta) "
                                "VALUES (?, ?, ?, ?, ?)", rows)

    def delete(self, where: str, params: Sequence[str]) -> None:
        with self._write, self.db:
            self.db.execute(f"DELETE FROM chunks WHERE {where}", params)

    def search(self, collections: Sequence[str], query: str, k: int) -> list[Hit]:
        expression = match_query(query)
        if not expression or not collections:
            return []
        marks = ", ".join("?" for _ in collections)
        rows = self.db.execute(
            f"SELECT id, collection, file_id, text, meta, bm25(chunks) AS rank FROM chunks "
            f"WHERE chunks MATCH ? AND collection IN ({marks}) ORDER BY rank LIMIT ?",
            [expression, *collections, k]).fetchall()
        # bm25() is negative, lower is better: flip it so that higher is better everywhere.
        return [Hit(row[0], row[1], row[2], row[3], -float(row[5]), meta_from_json(row[4]))
                for row in rows]
