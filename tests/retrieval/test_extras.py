"""A setting that needs an extra which is not installed stops the service with a message that
names the extra to install (core/extras.py), for every store and S3 storage."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from owui.core import extras
from owui.core.config import Settings
from owui.retrieval.storage import S3Storage, StorageError
from owui.retrieval.vectors import VectorStoreError, create_store


@pytest.fixture
def nothing_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    optional = {"chromadb", "qdrant_client", "pymilvus", "boto3"}
    real = importlib.util.find_spec
    monkeypatch.setattr(extras.importlib.util, "find_spec",
                        lambda name, *a: None if name in optional else real(name, *a))


@pytest.mark.parametrize(("store", "variable", "extra"), [
    ("chroma", {"CHROMA_HTTP_URL": "http://127.0.0.1:1"}, "chroma"),
    ("qdrant", {"QDRANT_URL": "http://127.0.0.1:1"}, "qdrant"),
    ("milvus", {"MILVUS_URI": "/tmp/x.db"}, "milvus")])
def test_a_store_without_its_extra(nothing_optional: None, tmp_path: Path, store: str,
                                   variable: dict[str, str], extra: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"VECTOR_DB": store, "OWUI_DATA_DIR": str(tmp_path), **variable}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(VectorStoreError, match=rf"VECTOR_DB={store} needs the '{extra}' extra"
                                               rf".*pip install 'owui\[{extra}\]'"):
        create_store(Settings())


def test_s3_without_its_extra(nothing_optional: None, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWUI_DATA_DIR", str(tmp_path))
    with pytest.raises(StorageError, match=r"STORAGE_PROVIDER=s3 needs the 's3' extra"):
        S3Storage(Settings())


def test_the_default_store_needs_no_extra(nothing_optional: None, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWUI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("VECTOR_DB", raising=False)
    assert create_store(Settings()).__class__.__name__ == "LanceStore"
