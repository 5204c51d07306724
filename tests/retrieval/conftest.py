"""A retrieval service behind a gateway, once per vector store: LanceDB with local files and
SQLite (the laptop profile); a Chroma server with S3 (moto) and PostgreSQL (the server profile);
Qdrant with PostgreSQL; Milvus with SQLite. The same tests run against all four. Web search goes
to a fake engine on loopback.

No Qdrant server can run here (none ships in a package registry, and there is no Docker), so
Qdrant runs in qdrant-client's local mode: the same async client and calls, executed in process.
Milvus is Milvus Lite behind a `.db` URI: pymilvus talks gRPC to it on a loopback port."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import bearer, signup
from tests.support.permissions import grant_to_group
from tests.support.postgres import make_postgres_database, postgres_server  # noqa: F401
from tests.support.procs import Proc, free_port, spawn, start_fake, start_service

BIN = Path(sys.executable).parent
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
          "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing",
          "S3_REGION_NAME": "us-east-1", "S3_BUCKET_NAME": "owui-files"}


@pytest.fixture(scope="package")
def retrieval_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("retrieval-logs")


def _started(proc: Proc, path: str, timeout: float = 60.0) -> Proc:
    try:
        proc.wait_ready(timeout=timeout, path=path)
    except BaseException:
        proc.stop()
        raise
    return proc


@pytest.fixture(scope="package")
def chroma_server(tmp_path_factory: pytest.TempPathFactory, retrieval_logs: Path,
                  ) -> Iterator[str]:
    port = free_port()
    path = tmp_path_factory.mktemp("chroma")
    proc = spawn([str(BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1",
                  "--port", str(port)], "chroma", port, {}, retrieval_logs)
    _started(proc, "/api/v2/heartbeat")
    yield proc.url
    proc.stop()


@pytest.fixture(scope="package")
def s3_server(retrieval_logs: Path) -> Iterator[dict[str, str]]:
    """moto's S3 in server mode (real HTTP), with the bucket made."""
    import boto3

    port = free_port()
    proc = spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                 "moto", port, {}, retrieval_logs)
    _started(proc, "/moto-api/")
    env = {**S3_ENV, "S3_ENDPOINT_URL": proc.url}
    boto3.client("s3", endpoint_url=proc.url, region_name="us-east-1",
                 aws_access_key_id="testing", aws_secret_access_key="testing",
                 ).create_bucket(Bucket=env["S3_BUCKET_NAME"])
    yield env
    proc.stop()


@pytest.fixture(scope="package")
def web_fake(retrieval_logs: Path) -> Iterator[str]:
    proc = start_fake("websearch", "websearch-fake", {}, retrieval_logs)
    yield proc.url
    proc.stop()


@dataclass
class Deployment:
    backend: str
    gateway: str
    retrieval: Proc
    users: dict[str, dict[str, Any]]

    def auth(self, who: str) -> dict[str, str]:
        return bearer(self.users[who]["token"])

    def user_id(self, who: str) -> str:
        return str(self.users[who]["id"])

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.gateway, headers=self.auth(who), timeout=120)


def _backend_env(request: pytest.FixtureRequest, backend: str, data_dir: Path) -> dict[str, str]:
    if backend == "lancedb":
        return {"VECTOR_DB": "lancedb", "STORAGE_PROVIDER": "local"}
    if backend == "milvus":
        return {"VECTOR_DB": "milvus", "MILVUS_URI": str(data_dir / "milvus.db"),
                "STORAGE_PROVIDER": "local"}
    make_database: Callable[[], str] = request.getfixturevalue("make_postgres_database")
    if backend == "qdrant":
        return {"VECTOR_DB": "qdrant", "QDRANT_URL": f"file:{data_dir / 'qdrant'}",
                "STORAGE_PROVIDER": "local", "DATABASE_URL": make_database()}
    return {"VECTOR_DB": "chroma", "CHROMA_HTTP_URL": request.getfixturevalue("chroma_server"),
            "STORAGE_PROVIDER": "s3", **request.getfixturevalue("s3_server"),
            "DATABASE_URL": make_database()}


@pytest.fixture(scope="package", params=["lancedb", "chroma", "qdrant", "milvus"])
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               jwt_secret: str, web_fake: str, retrieval_logs: Path) -> Iterator[Deployment]:
    backend = request.param
    data_dir = tmp_path_factory.mktemp(f"retrieval-{backend}")
    env = {"JWT_SECRET_KEY": jwt_secret, "OWUI_DATA_DIR": str(data_dir),
           "OWUI_LOG_FORMAT": "text", "RAG_FILE_MAX_SIZE": "1", "CHUNK_SIZE": "64",
           "CHUNK_OVERLAP": "8", "RAG_EMBEDDING_MODEL_PRELOAD": "true",
           "WEB_SEARCH_ENGINE": "searxng", "SEARXNG_QUERY_URL": f"{web_fake}/search",
           "ENABLE_RAG_LOCAL_WEB_FETCH": "true", "WEB_SEARCH_RESULT_COUNT": "5",
           **_backend_env(request, backend, data_dir)}
    retrieval = start_service("retrieval", env, retrieval_logs)
    gateway = start_service("gateway", {
        "JWT_SECRET_KEY": jwt_secret, "OWUI_DATA_DIR": str(data_dir / "gateway"),
        "OWUI_LOG_FORMAT": "text", "RETRIEVAL_SERVICE_URL": retrieval.url,
        "RATE_LIMIT": "100000/minute", "SIGNIN_RATE_LIMIT": "100000/minute"}, retrieval_logs)
    try:
        users = {who: signup(gateway.url, name=who.title(),
                             email=f"{who}-{uuid.uuid4().hex[:6]}@x.io")
                 for who in ("admin", "alice", "bob")}
        # Alice and Bob make and share collections: a group gives them `workspace.knowledge`
        # and `sharing.knowledge` (Open WebUI's defaults do not); anyone else signed up here
        # is a plain user without them.
        with httpx.Client(base_url=gateway.url, headers=bearer(users["admin"]["token"]),
                          timeout=60) as admin:
            grant_to_group(admin, "Collection makers",
                           [str(users[who]["id"]) for who in ("alice", "bob")],
                           "workspace.knowledge", "sharing.knowledge")
        yield Deployment(backend, gateway.url, retrieval, users)
    finally:
        gateway.stop()
        retrieval.stop()


def wait_processed(client: httpx.Client, file_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll the file's processing status until it is completed or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/files/{file_id}/process/status").json()
        if status["status"] in ("completed", "failed"):
            return status
        time.sleep(0.2)
    raise TimeoutError(f"file {file_id} still {status} after {timeout}s")


def upload(client: httpx.Client, name: str, body: bytes, *, wait: bool = True,
           **params: Any) -> dict[str, Any]:
    response = client.post("/api/v1/files/", files={"file": (name, body)}, params=params)
    assert response.status_code == 200, response.text
    file = response.json()
    if wait and params.get("process", True):
        file["status"] = wait_processed(client, file["id"])
    return file


@pytest.fixture
def alice(deployment: Deployment) -> Iterator[httpx.Client]:
    with deployment.client("alice") as client:
        yield client


@pytest.fixture
def bob(deployment: Deployment) -> Iterator[httpx.Client]:
    with deployment.client("bob") as client:
        yield client
