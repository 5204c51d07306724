"""A BM25 full-text index in SQLite, for a store without one of its own (Chroma: its local
server has no full-text ranking; sparse vectors are for its distributed and hosted forms).

SQLite's FTS5 was used here first: its bm25() is computed row by row for every chunk holding
any word of the query, 50-130 ms at 100,000 chunks for common words (profiled: matching alone
took 3 ms). Here the inverted index is ours, in plain tables: per collection and term, the
postings as packed arrays (chunk numbers, and BM25 term weights from bm25.py, the terms and
weights Qdrant gets too), so a query reads a few blobs and ranks with numpy: a few ms.

`texts` holds what a hit carries, `postings` (collection, term, segment) the arrays, `sizes`
the chunks per collection (for the inverse document frequency, computed at query time, so it
is always current). An add writes one segment per term; a term's segments are merged into one
when there are more than MERGE_AT, so a query reads few blobs. A delete rewrites the posting
lists of the terms its chunks held: document frequencies stay exact. One connection per
thread, WAL, so searches run while a document is being added; writes take SQLite's write lock
(BEGIN IMMEDIATE), so several processes can share the file.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from array import array
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from owui.retrieval.vectors import bm25
from owui.retrieval.vectors.base import Hit, Record, meta_from_json

MERGE_AT = 8  # segments of one term before they are merged into one
_BATCH = 500  # terms per IN (...) list
_SCHEMA = """
CREATE TABLE IF NOT EXISTS texts (
    n INTEGER PRIMARY KEY, id TEXT NOT NULL, collection TEXT NOT NULL, file_id TEXT NOT NULL,
    text TEXT NOT NULL, meta TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS texts_by_collection ON texts (collection, file_id);
CREATE INDEX IF NOT EXISTS texts_by_file ON texts (file_id);
CREATE INDEX IF NOT EXISTS texts_by_id ON texts (id);
CREATE TABLE IF NOT EXISTS postings (
    collection TEXT NOT NULL, term INTEGER NOT NULL, segment INTEGER NOT NULL,
    chunks BLOB NOT NULL, weights BLOB NOT NULL,
    PRIMARY KEY (collection, term, segment)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sizes (
    collection TEXT PRIMARY KEY, chunks INTEGER NOT NULL) WITHOUT ROWID;
"""


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _batches(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), _BATCH):
        yield values[start:start + _BATCH]


def idf(total: int, frequency: int) -> float:
    """BM25's inverse document frequency, in the form that is never negative (Lucene's)."""
    return math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))


class FullTextIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db.executescript(_SCHEMA)  # (executescript commits as it starts)
        with self._writing() as db:
            self._migrate(db)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False,
                                     isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    @property
    def db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        return connection

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._write:
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _migrate(self, db: sqlite3.Connection) -> None:
        """The FTS5 table of earlier versions ('chunks'): its rows move into this index."""
        found = db.execute("SELECT sql FROM sqlite_master WHERE name = 'chunks'").fetchone()
        if found is None or "fts5" not in (found[0] or "").lower():
            return
        rows = db.execute("SELECT id, collection, file_id, text, meta FROM chunks").fetchall()
        by_collection: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
        for id_, collection, file_id, text, meta in rows:
            by_collection[collection].append((id_, file_id, text, meta))
        for collection, group in by_collection.items():
            self._insert(db, collection, group)
        db.execute("DROP TABLE chunks")

    # writes

    def add(self, records: Sequence[Record]) -> None:
        by_collection: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
        for r in records:
            by_collection[r.collection].append((r.id, r.file_id, r.text, r.meta_json()))
        with self._writing() as db:
            for collection, group in by_collection.items():
                self._insert(db, collection, group)

    def _insert(self, db: sqlite3.Connection, collection: str,
                rows: list[tuple[str, str, str, str]]) -> None:
        first = db.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM texts").fetchone()[0]
        db.executemany("INSERT INTO texts VALUES (?, ?, ?, ?, ?, ?)",
                       [(first + i, id_, collection, file_id, text, meta)
                        for i, (id_, file_id, text, meta) in enumerate(rows)])
        lists: dict[int, tuple[array[int], array[float]]] = {}
        for i, (_, _, text, _) in enumerate(rows):
            for term, weight in zip(*bm25.document_vector(text), strict=True):
                numbers, weights = lists.setdefault(term, (array("q"), array("f")))
                numbers.append(first + i)
                weights.append(weight)
        db.executemany("INSERT INTO postings VALUES (?, ?, ?, ?, ?)",
                       [(collection, term, first, numbers.tobytes(), weights.tobytes())
                        for term, (numbers, weights) in lists.items()])
        db.execute("INSERT INTO sizes VALUES (?, ?) ON CONFLICT (collection) DO UPDATE "
                   "SET chunks = chunks + excluded.chunks", (collection, len(rows)))
        terms = sorted(lists)
        for batch in _batches(terms):
            crowded = [term for (term,) in db.execute(
                f"SELECT term FROM postings WHERE collection = ? AND term IN ({_marks(batch)}) "
                f"GROUP BY term HAVING count(*) > ?", [collection, *batch, MERGE_AT])]
            self._rewrite(db, collection, crowded, None)

    def _rewrite(self, db: sqlite3.Connection, collection: str, terms: Sequence[int],
                 dead: np.ndarray | None) -> None:
        """Merge each term's segments into one, leaving out the `dead` chunk numbers."""
        for batch in _batches(terms):
            segments: dict[int, list[tuple[bytes, bytes]]] = defaultdict(list)
            for term, numbers, weights in db.execute(
                    f"SELECT term, chunks, weights FROM postings WHERE collection = ? AND "
                    f"term IN ({_marks(batch)}) ORDER BY term, segment", [collection, *batch]):
                segments[term].append((numbers, weights))
            db.execute(f"DELETE FROM postings WHERE collection = ? AND term IN ({_marks(batch)})",
                       [collection, *batch])
            merged = []
            for term, parts in segments.items():
                numbers = np.concatenate([np.frombuffer(p[0], np.int64) for p in parts])
                weights = np.concatenate([np.frombuffer(p[1], np.float32) for p in parts])
                if dead is not None:
                    keep = ~np.isin(numbers, dead)
                    numbers, weights = numbers[keep], weights[keep]
                if numbers.size:
                    merged.append((collection, term, int(numbers[0]), numbers.tobytes(),
                                   weights.tobytes()))
            db.executemany("INSERT INTO postings VALUES (?, ?, ?, ?, ?)", merged)

    def delete(self, *, collection: str | None = None, file_id: str | None = None,
               ids: Sequence[str] | None = None) -> None:
        """The chunks of a collection, of a file (in one collection or all), or by id."""
        if ids is not None:
            where, params = f"id IN ({_marks(ids)})", list(ids)
        else:
            chosen = {key: value for key, value in (("collection", collection),
                                                    ("file_id", file_id)) if value is not None}
            if not chosen:
                raise ValueError("delete needs a collection, a file or ids")
            where = " AND ".join(f"{key} = ?" for key in chosen)
            params = list(chosen.values())
        with self._writing() as db:
            if collection is not None and file_id is None and ids is None:
                for table in ("postings", "texts", "sizes"):
                    db.execute(f"DELETE FROM {table} WHERE collection = ?", (collection,))
                return
            gone: dict[str, list[tuple[int, str]]] = defaultdict(list)
            for n, owner, text in db.execute(f"SELECT n, collection, text FROM texts "
                                             f"WHERE {where}", params):
                gone[owner].append((n, text))
            for owner, rows in gone.items():
                terms = sorted({term for _, text in rows
                                for term in bm25.document_vector(text)[0]})
                dead = np.array([n for n, _ in rows], np.int64)
                self._rewrite(db, owner, terms, dead)
                db.execute("UPDATE sizes SET chunks = chunks - ? WHERE collection = ?",
                           (len(rows), owner))
            db.execute(f"DELETE FROM texts WHERE {where}", params)

    # reads

    def search(self, collections: Sequence[str], query: str, k: int) -> list[Hit]:
        terms = bm25.query_vector(query)[0]
        if not terms or not collections or k <= 0:
            return []
        db = self.db
        db.execute("BEGIN")  # one snapshot for postings, sizes and texts
        try:
            return self._search(db, collections, terms, k)
        finally:
            db.execute("COMMIT")

    def _search(self, db: sqlite3.Connection, collections: Sequence[str], terms: list[int],
                k: int) -> list[Hit]:
        where = f"collection IN ({_marks(collections)})"
        parts: dict[int, list[tuple[bytes, bytes]]] = defaultdict(list)
        for term, numbers, weights in db.execute(
                f"SELECT term, chunks, weights FROM postings WHERE {where} AND "
                f"term IN ({_marks(terms)})", [*collections, *terms]):
            parts[term].append((numbers, weights))
        if not parts:
            return []
        total = db.execute(f"SELECT COALESCE(SUM(chunks), 0) FROM sizes WHERE {where}",
                           list(collections)).fetchone()[0]
        numbers_all, scores_all = [], []
        for blobs in parts.values():
            numbers = np.concatenate([np.frombuffer(b[0], np.int64) for b in blobs])
            weights = np.concatenate([np.frombuffer(b[1], np.float32) for b in blobs])
            numbers_all.append(numbers)
            scores_all.append(weights * idf(total, numbers.size))
        numbers = np.concatenate(numbers_all)
        low, high = int(numbers.min()), int(numbers.max())
        if high - low < 4 * numbers.size + 1024:  # dense enough: sum into a plain array
            scores = np.bincount(numbers - low, weights=np.concatenate(scores_all))
            unique = np.flatnonzero(scores)
            scores = scores[unique]
            unique += low
        else:
            unique, inverse = np.unique(numbers, return_inverse=True)
            scores = np.bincount(inverse, weights=np.concatenate(scores_all))
        top = np.argpartition(-scores, k - 1)[:k] if unique.size > k else np.arange(unique.size)
        top = top[np.argsort(-scores[top], kind="stable")]
        chosen = [int(n) for n in unique[top]]
        rows = {row[0]: row for row in db.execute(
            f"SELECT n, id, collection, file_id, text, meta FROM texts "
            f"WHERE n IN ({_marks(chosen)})", chosen)}
        return [Hit(row[1], row[2], row[3], row[4], float(scores[i]), meta_from_json(row[5]))
                for i, n in zip(top, chosen, strict=True) if (row := rows.get(n)) is not None]
