"""`owui render` for a server profile on each vector store: Qdrant runs beside the services
(StatefulSet / Compose service), Milvus is always external (its standalone form needs etcd and
an object store), Chroma stays as it was. Manifests validate offline like the shipped ones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from owui.cli.manifests.common import RenderError
from owui.cli.profiles import ProfileError, load_profile
from owui.cli.render import Target, render_files
from owui.core.services import NAMES
from tests.deploy.conftest import k8s_objects, run_cli
from tests.deploy.test_render import BIN, K8S_VERSION, by_kind

MILVUS = "http://milvus.example:19530"


def _profile(tmp_path: Path, vectors: str, **deploy: object) -> str:
    path = tmp_path / f"server-{vectors}.yaml"
    path.write_text(yaml.safe_dump({
        "stores": {"database": "postgres", "vectors": vectors, "redis": True},
        "env": {"DEFAULT_USER_ROLE": "pending",
                **({"QDRANT_API_KEY": "qdrant-key-123"} if vectors == "qdrant" else {}),
                **({"MILVUS_TOKEN": "root:Milvus"} if vectors == "milvus" else {})},
        "deploy": deploy}))
    return str(path)


def _render(tmp_path: Path, target: str, profile: str) -> Path:
    folder = tmp_path / f"{target}-{Path(profile).stem}"
    code, _, err = run_cli("render", target, "--profile", profile, "-o", str(folder))
    assert code == 0, err
    return folder


def _valid_k8s(folder: Path) -> list[dict]:
    objects = k8s_objects(folder)
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    return objects


def _valid_compose(folder: Path) -> dict:
    path = folder / "docker-compose.yml"
    done = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema",
                           "vendor.compose-spec", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return yaml.safe_load(path.read_text())


def test_qdrant_runs_as_a_stateful_set_with_its_key_from_the_secret(tmp_path: Path) -> None:
    folder = _render(tmp_path, "k8s", _profile(tmp_path, "qdrant"))
    objects = _valid_k8s(folder)
    assert (folder / "10-qdrant.yaml").exists() and not (folder / "10-chroma.yaml").exists()
    assert set(by_kind(objects, "StatefulSet")) == {"owui-postgres", "owui-qdrant", "owui-redis"}
    stateful = by_kind(objects, "StatefulSet")["owui-qdrant"]["spec"]
    container = stateful["template"]["spec"]["containers"][0]
    assert container["image"].startswith("qdrant/qdrant:")
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/qdrant/storage"}]
    assert {"name": "QDRANT__SERVICE__API_KEY", "valueFrom": {"secretKeyRef": {
        "name": "owui-secrets", "key": "QDRANT_API_KEY"}}} in container["env"]
    assert by_kind(objects, "Service")["owui-qdrant"]["spec"]["ports"][0]["port"] == 6333
    config = by_kind(objects, "ConfigMap")["owui-config"]["data"]
    assert config["VECTOR_DB"] == "qdrant" and config["QDRANT_URL"] == "http://owui-qdrant:6333"
    assert "CHROMA_HTTP_URL" not in config and "QDRANT_API_KEY" not in config
    secret = by_kind(objects, "Secret")["owui-secrets"]["stringData"]
    assert secret["QDRANT_API_KEY"] == "qdrant-key-123"


def test_qdrant_in_compose(tmp_path: Path) -> None:
    doc = _valid_compose(_render(tmp_path, "compose", _profile(tmp_path, "qdrant")))
    assert "chroma" not in doc["services"] and "qdrant" in doc["volumes"]
    qdrant = doc["services"]["qdrant"]
    assert qdrant["volumes"] == ["qdrant:/qdrant/storage"] and "healthcheck" in qdrant
    assert qdrant["environment"]["QDRANT__SERVICE__API_KEY"].startswith("${QDRANT_API_KEY:?")
    for service in NAMES:
        body = doc["services"][service]
        assert body["environment"]["QDRANT_URL"] == "http://qdrant:6333"
        assert body["depends_on"]["qdrant"] == {"condition": "service_healthy"}


def test_an_external_qdrant_is_not_rendered(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "qdrant", qdrant={"external_url": "https://q.example:6333"})
    files = render_files(Target.k8s, profile)
    assert "10-qdrant.yaml" not in files
    assert "QDRANT_URL: https://q.example:6333" in files["00-config.yaml"]


def test_milvus_is_always_external(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"needs deploy\.milvus\.external_url .*etcd"):
        render_files(Target.k8s, _profile(tmp_path, "milvus"))
    profile = _profile(tmp_path, "milvus", milvus={"external_url": MILVUS})
    objects = _valid_k8s(_render(tmp_path, "k8s", profile))
    assert set(by_kind(objects, "StatefulSet")) == {"owui-postgres", "owui-redis"}
    config = by_kind(objects, "ConfigMap")["owui-config"]["data"]
    assert config["VECTOR_DB"] == "milvus" and config["MILVUS_URI"] == MILVUS
    assert by_kind(objects, "Secret")["owui-secrets"]["stringData"]["MILVUS_TOKEN"] == \
        "root:Milvus"
    doc = _valid_compose(_render(tmp_path, "compose", profile))
    assert not {"milvus", "chroma", "qdrant"} & set(doc["services"])
    env = doc["services"]["retrieval"]["environment"]
    assert env["MILVUS_URI"] == MILVUS and env["MILVUS_TOKEN"].startswith("${MILVUS_TOKEN:?")


def test_the_profile_schema_takes_any_of_the_four_stores(tmp_path: Path) -> None:
    for vectors in ("lancedb", "chroma", "qdrant", "milvus"):
        assert load_profile(_profile(tmp_path, vectors)).store_env()["VECTOR_DB"] == vectors
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("stores: {vectors: pinecone}\n")
    with pytest.raises(ProfileError, match=r"stores\.vectors"):
        load_profile(str(wrong))
    wrong.write_text("deploy: {milvus: {external_url: milvus:19530}}\n")
    with pytest.raises(ProfileError, match=r"deploy\.milvus\.external_url"):
        load_profile(str(wrong))
