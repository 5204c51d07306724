"""Choosing a vector store: VECTOR_DB with its address and secret; a bad or missing address
stops the service at start with a message that names the variable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from owui.core.config import Settings, SettingsError, load_settings
from owui.retrieval.vectors import VectorStoreError, create_store
from owui.retrieval.vectors.milvus import MilvusStore
from owui.retrieval.vectors.qdrant import QdrantStore
from tests.retrieval.conftest import BIN
from tests.support.procs import free_port


@pytest.mark.parametrize(("variable", "value"), [
    ("QDRANT_URL", "qdrant:6333"), ("QDRANT_URL", "ftp://qdrant"), ("QDRANT_URL", "http://"),
    ("MILVUS_URI", "milvus.sqlite"), ("MILVUS_URI", "grpc://milvus:19530"),
])
def test_a_bad_store_address_names_its_variable(monkeypatch: pytest.MonkeyPatch,
                                                variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert f"{variable}:" in str(caught.value) and repr(value) in str(caught.value)


def test_each_store_gets_its_address_and_secret(tmp_path: Path) -> None:
    qdrant = create_store(Settings(vector_db="qdrant", qdrant_url="https://q.example:6333",
                                   qdrant_api_key="qk", owui_data_dir=tmp_path))
    assert isinstance(qdrant, QdrantStore)
    assert (qdrant.url, qdrant.api_key, qdrant.local_path) == ("https://q.example:6333", "qk",
                                                               None)
    local = create_store(Settings(vector_db="qdrant", qdrant_url=f"file:{tmp_path}/q",
                                  owui_data_dir=tmp_path))
    assert isinstance(local, QdrantStore) and local.local_path == f"{tmp_path}/q"
    milvus = create_store(Settings(vector_db="milvus", milvus_uri="tcp://milvus:19530",
                                   milvus_token="root:Milvus", owui_data_dir=tmp_path))
    assert isinstance(milvus, MilvusStore) and milvus.token == "root:Milvus"
    lite = create_store(Settings(vector_db="milvus", milvus_uri=str(tmp_path / "m.db"),
                                 owui_data_dir=tmp_path))
    assert isinstance(lite, MilvusStore) and lite.token is None


@pytest.mark.parametrize(("kind", "variable"), [
    ("chroma", "CHROMA_HTTP_URL"), ("qdrant", "QDRANT_URL"), ("milvus", "MILVUS_URI")])
def test_a_store_without_its_address_is_refused(tmp_path: Path, kind: str,
                                                variable: str) -> None:
    with pytest.raises(VectorStoreError, match=f"VECTOR_DB={kind} needs {variable}"):
        create_store(Settings(vector_db=kind, owui_data_dir=tmp_path))


def test_the_service_stops_at_start_naming_the_variable(tmp_path: Path, jwt_secret: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "JWT_SECRET_KEY": jwt_secret,
           "OWUI_DATA_DIR": str(tmp_path), "OWUI_LOG_FORMAT": "text", "VECTOR_DB": "milvus"}
    done = subprocess.run([str(BIN / "owui"), "serve", "retrieval", "--port", str(free_port())],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "VECTOR_DB=milvus needs MILVUS_URI" in done.stdout + done.stderr
