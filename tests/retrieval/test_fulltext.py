"""The full-text index beside Chroma (vectors/fts.py): BM25 ranks as the formula says, segments
merge, deletes keep document frequencies exact, and an index of the earlier FTS5 layout moves
over on open."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from owui.retrieval.vectors import bm25
from owui.retrieval.vectors.base import Record
from owui.retrieval.vectors.fts import MERGE_AT, FullTextIndex, idf

ZERO = np.zeros(1, np.float32)


def _record(id_: str, text: str, collection: str = "kb", file_id: str = "f") -> Record:
    return Record(id_, collection, file_id, text, ZERO, {"name": f"{id_}.txt"})


def _expected(text: str, query_terms: list[str], frequencies: dict[str, int], total: int) -> float:
    indices, weights = bm25.document_vector(text)
    weight = dict(zip(indices, weights, strict=True))
    return sum(weight.get(bm25.term_index(t), 0.0) * idf(total, frequencies[t])
               for t in query_terms)


def test_scores_are_bm25_and_inert_to_syntax(tmp_path: Path) -> None:
    index = FullTextIndex(tmp_path / "ft.sqlite")
    texts = {"a": "The harbour opens at dawn", "b": "harbours and harbour lights, harbour!",
             "c": "nothing to see", "d": 'OPT_NON_STR_KEYS AND "quoted" OR (NEAR'}
    index.add([_record(key, text) for key, text in texts.items()])
    hits = index.search(["kb"], "Harbour", 10)
    assert [hit.id for hit in hits] == ["b", "a"]
    assert hits[0].score == pytest.approx(_expected(texts["b"], ["harbour"], {"harbour": 2}, 4),
                                          rel=1e-5)
    assert (hits[0].text, hits[0].meta, hits[0].file_id) == (texts["b"], {"name": "b.txt"}, "f")
    assert [hit.id for hit in index.search(["kb"], 'opt_non_str_keys "quoted" (NEAR', 5)] == ["d"]
    assert index.search(["kb"], "!!! ???", 5) == []
    assert index.search(["other"], "harbour", 5) == []
    assert index.search(["kb"], "harbour", 1)[0].id == "b"


def test_segments_merge_and_deletes_keep_frequencies_exact(tmp_path: Path) -> None:
    index = FullTextIndex(tmp_path / "ft.sqlite")
    for i in range(MERGE_AT * 2 + 1):  # one add per document: a segment each
        index.add([_record(f"r{i}", f"river number {i}", file_id=f"f{i % 2}")])
        index.add([_record(f"o{i}", f"river elsewhere {i}", "other", f"f{i % 2}")])
    segments = index.db.execute("SELECT count(*) FROM postings WHERE collection = 'kb' AND "
                                "term = ?", (bm25.term_index("river"),)).fetchone()[0]
    assert segments <= MERGE_AT
    assert len(index.search(["kb"], "river", 100)) == MERGE_AT * 2 + 1
    assert len(index.search(["kb", "other"], "river", 100)) == 2 * (MERGE_AT * 2 + 1)

    index.delete(collection="kb", file_id="f1")
    left = [f"r{i}" for i in range(MERGE_AT * 2 + 1) if i % 2 == 0]
    hits = index.search(["kb"], "river 4", 100)
    assert {hit.id for hit in hits} == set(left) and hits[0].id == "r4"
    total = len(left)
    assert hits[0].score == pytest.approx(
        _expected("river number 4", ["river", "4"], {"river": total, "4": 1}, total), rel=1e-5)
    index.delete(ids=["r0"])
    assert "r0" not in {hit.id for hit in index.search(["kb"], "river", 100)}
    index.delete(file_id="f0")  # in every collection
    assert index.search(["kb"], "river", 100) == []
    assert len(index.search(["other"], "river", 100)) == MERGE_AT  # those of f1
    index.delete(collection="other")
    assert index.db.execute("SELECT count(*) FROM postings").fetchone()[0] == 0
    assert index.db.execute("SELECT count(*) FROM texts").fetchone()[0] == 0
    with pytest.raises(ValueError):
        index.delete()


def test_an_fts5_index_of_earlier_versions_moves_over(tmp_path: Path) -> None:
    path = tmp_path / "ft.sqlite"
    with sqlite3.connect(path) as old:
        old.execute("CREATE VIRTUAL TABLE chunks USING fts5(text, id UNINDEXED, collection "
                    "UNINDEXED, file_id UNINDEXED, meta UNINDEXED)")
        old.execute("INSERT INTO chunks VALUES ('copper kettle', 'x', 'kb', 'f', '{\"p\": 1}')")
    index = FullTextIndex(path)
    hits = index.search(["kb"], "kettle", 5)
    assert [(h.id, h.meta) for h in hits] == [("x", {"p": 1})]
    assert hits[0].score == pytest.approx(_expected("copper kettle", ["kettl"],
                                                    {"kettl": 1}, 1), rel=1e-5)
    assert index.db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'chunks'"
                            ).fetchone()[0] == 0
    assert math.isfinite(hits[0].score)
