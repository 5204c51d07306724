"""The results contract, store by store, below the service: ids, scores, metadata, filters by
collection, copy, delete by file or by collection, full text and hybrid fusion. LanceDB, Chroma
(a `chroma run` server), Qdrant (qdrant-client's local mode: no Qdrant server can run here), and
Milvus twice: Milvus Lite behind a `.db` path, and a `milvus-lite server` process reached over
gRPC at an http:// URI, as a Milvus server is."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from owui.retrieval.vectors.base import Record, VectorStore, VectorStoreError
from owui.retrieval.vectors.chroma import ChromaStore
from owui.retrieval.vectors.lance import LanceStore
from owui.retrieval.vectors.milvus import MilvusStore
from owui.retrieval.vectors.qdrant import QdrantStore
from tests.retrieval.conftest import BIN
from tests.support.procs import closed_port, free_port, spawn

DIM = 16


def _wait_listening(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s")


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory, retrieval_logs: Path,
                  ) -> Iterator[str]:
    port = free_port()
    proc = spawn([str(BIN / "milvus-lite"), "server", "--data-dir",
                  str(tmp_path_factory.mktemp("milvus-server")), "--host", "127.0.0.1",
                  "--port", str(port)], "milvus-lite", port, {}, retrieval_logs)
    try:
        _wait_listening(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


@pytest.fixture(params=["lancedb", "chroma", "qdrant", "milvus-lite", "milvus-server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> VectorStore:
    kind = request.param
    if kind == "lancedb":
        return LanceStore(tmp_path / "lance", index_min_rows=1000)
    if kind == "chroma":
        return ChromaStore(request.getfixturevalue("chroma_server"), tmp_path)
    if kind == "qdrant":
        return QdrantStore(f"file:{tmp_path / 'qdrant'}")
    if kind == "milvus-lite":
        return MilvusStore(str(tmp_path / "milvus.db"))
    return MilvusStore(request.getfixturevalue("milvus_server"), token="root:Milvus")


def _records(notes: str, odd: str) -> list[Record]:
    vectors = np.random.default_rng(5).normal(size=(24, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    records = []
    for i in range(24):
        text = f"row {i} is about topic{i % 4} and the harbour"
        if i == 2:
            text = "row 2 is about topic2 topic2 topic2"  # first for the words topic2
        records.append(Record(uuid.uuid4().hex, notes if i < 16 else odd, f"f{i % 3}", text,
                              vectors[i], {"i": i, "name": f"doc{i}.txt"}))
    return records


def _descending(scores: list[float]) -> bool:
    return all(a >= b - 1e-9 for a, b in pairwise(scores))


async def test_the_results_contract(store: VectorStore) -> None:
    tag = uuid.uuid4().hex[:8]  # the Chroma server is shared with other tests
    notes, odd, copy = f"notes-{tag}", f'odd "quoted" \\ name-{tag}', f"copy-{tag}"
    records = _records(notes, odd)
    await store.start()
    try:
        await store.add(records)
        await store.maintain()  # what the service does once ingestion is quiet
        assert (await store.count(notes), await store.count(odd)) == (16, 8)

        nearest = await store.vector_search([notes], records[3].vector, 3)
        top = nearest[0]
        assert (top.id, top.collection, top.file_id, top.text, top.meta) == (
            records[3].id, notes, "f0", records[3].text, {"i": 3, "name": "doc3.txt"})
        assert top.score == pytest.approx(1.0, abs=1e-3)
        assert _descending([hit.score for hit in nearest]) and len(nearest) == 3
        every = await store.vector_search([notes, odd], records[20].vector, 50)
        assert every[0].id == records[20].id and len(every) == 24
        assert {hit.collection for hit in every} == {notes, odd}

        words = await store.text_search([notes], "Topic2", 20)
        assert [hit.id for hit in words][:1] == [records[2].id]
        assert {hit.id for hit in words} == {r.id for r in records[:16] if r.meta["i"] % 4 == 2}
        assert _descending([hit.score for hit in words]) and words[-1].score > 0
        assert await store.text_search([notes], "  ", 5) == []

        fused = await store.hybrid_search([notes], records[2].vector, "topic2", 4)
        assert fused[0].id == records[2].id and fused[0].score == pytest.approx(1.0, abs=1e-6)
        assert _descending([hit.score for hit in fused]) and len(fused) == 4
        assert (await store.hybrid_search([notes], records[2].vector, "", 2))[0].id \
            == records[2].id

        in_file = [r for r in records if r.collection == notes and r.file_id == "f1"]
        assert await store.copy(notes, copy, "f1") == len(in_file)
        copied = await store.vector_search([copy], in_file[0].vector, 1)
        assert copied[0].id != in_file[0].id
        assert (copied[0].text, copied[0].meta, copied[0].file_id) == (
            in_file[0].text, in_file[0].meta, "f1")

        everywhere = sum(r.file_id == "f1" for r in records) + len(in_file)
        assert await store.delete(file_id="f1") == everywhere
        assert await store.count(copy) == 0
        assert await store.delete(collection=odd, file_id="f0") == 2
        assert await store.delete(collection=odd) == 3
        assert (await store.count(notes), await store.count(odd)) == (16 - len(in_file), 0)
        assert await store.vector_search([notes], np.ones(DIM // 2, np.float32), 3) == []
    finally:
        await store.delete(collection=notes)
        await store.close()


async def test_an_unreachable_qdrant_server_is_a_store_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    store = QdrantStore(url)
    with pytest.raises(VectorStoreError, match=f"Qdrant at {url} failed"):
        await store.count("anything")
    await store.close()
