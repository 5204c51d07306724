"""The vector stores' upkeep: LanceDB folds new rows into its full-text index and builds an
HNSW index once the table is large; the service module stays cheap to import."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np

from owui.retrieval.vectors.base import Record
from owui.retrieval.vectors.lance import LanceStore


def _records(count: int, collection: str, rng: np.random.Generator) -> list[Record]:
    vectors = rng.normal(size=(count, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [Record(uuid.uuid4().hex, collection, f"f{i % 7}", f"row {i} about topic{i % 50}",
                   vectors[i]) for i in range(count)]


async def test_lancedb_indexes_are_updated_not_rebuilt(tmp_path: Path) -> None:
    store = LanceStore(tmp_path / "lance", index_min_rows=300)
    await store.start()
    rng = np.random.default_rng(1)
    first = _records(200, "c", rng)
    await store.add(first)
    await store.maintain()
    table = store._tables[16]
    assert not any("Hnsw" in i.index_type for i in table.list_indices())

    second = _records(200, "c", rng)
    await store.add(second)
    fts = next(i for i in table.list_indices() if i.index_type == "FTS")
    assert fts.num_unindexed_rows == 200  # searchable already, folded in by maintain()
    assert (await store.text_search(["c"], "topic7", 50))
    await store.maintain()
    indices = {i.index_type: i for i in table.list_indices()}
    assert "IvfHnswSq" in indices
    assert indices["FTS"].num_unindexed_rows == 0
    hits = await store.vector_search(["c"], second[5].vector, 3)
    assert hits[0].id == second[5].id and hits[0].score > 0.99
    assert await store.delete(file_id="f3") > 0
    assert all(h.file_id != "f3" for h in await store.text_search(["c"], "row", 400))


def test_the_service_module_imports_no_heavy_library() -> None:
    code = ("import sys, owui.retrieval.app; heavy = [m for m in ('torch', 'lancedb', "
            "'chromadb', 'qdrant_client', 'pymilvus', 'sentence_transformers', 'transformers', "
            "'pyarrow') if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env={"JWT_SECRET_KEY": "x" * 40, "PATH": ""})
    assert done.returncode == 0, done.stdout + done.stderr
