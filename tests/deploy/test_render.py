"""`owui render`: valid manifests (offline schemas), the properties the issue asks for, and the
reference copies under compose/ kept equal to what render produces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from owui.cli.render import SECRET_FILES, Target, render_files
from owui.core.services import NAMES
from tests.deploy.conftest import REPO, k8s_objects, run_cli

BIN = Path(sys.executable).parent
K8S_VERSION = "1.37.0"


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


@pytest.mark.parametrize("profile", ["server", "ha"])
def test_k8s_objects_validate_strictly(rendered, profile: str) -> None:
    folder = rendered["k8s", profile]
    for obj in k8s_objects(folder):
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    # The command line too, as CI would run it, on every file.
    files = sorted(str(p) for p in folder.glob("*.yaml"))
    done = subprocess.run([str(BIN / "kubernetes-validate"), "--strict", "--quiet", *files],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_strict_validation_catches_a_typo() -> None:
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({"apiVersion": "v1", "kind": "ConfigMap",
                                      "metadata": {"name": "x"}, "dat": {}},
                                     K8S_VERSION, strict=True)


@pytest.mark.parametrize("profile", ["server", "ha"])
def test_compose_validates_against_the_spec(rendered, profile: str) -> None:
    path = rendered["compose", profile] / "docker-compose.yml"
    done = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema",
                           "vendor.compose-spec", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_k8s_probes_ports_and_resources(rendered) -> None:
    objects = k8s_objects(rendered["k8s", "ha"])
    deployments = by_kind(objects, "Deployment")
    services = by_kind(objects, "Service")
    assert set(deployments) == {f"owui-{n}" for n in NAMES}
    for service in NAMES:
        pod = deployments[f"owui-{service}"]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["args"][:2] == ["serve", service]
        port = container["ports"][0]["containerPort"]
        assert services[f"owui-{service}"]["spec"]["ports"][0]["port"] == port
        assert container["resources"]["limits"]["memory"]
        assert pod["securityContext"]["runAsNonRoot"] is True
    assert set(by_kind(objects, "HorizontalPodAutoscaler")) == {
        "owui-gateway", "owui-chat", "owui-inference"}
    assert set(by_kind(objects, "PodDisruptionBudget")) == {f"owui-{n}" for n in NAMES}
    assert set(by_kind(objects, "StatefulSet")) == {"owui-postgres", "owui-chroma", "owui-redis"}
    ingress = next(iter(by_kind(objects, "Ingress").values()))
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "owui-gateway", "port": {"number": 8000}}


def test_network_policy_lets_in_only_the_gateway(rendered) -> None:
    policies = by_kind(k8s_objects(rendered["k8s", "server"]), "NetworkPolicy")
    gateway = policies["owui-gateway"]["spec"]
    assert gateway["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "owui-gateway"}
    assert gateway["ingress"][0] == {"ports": [{"protocol": "TCP", "port": 8000}]}
    internal = policies["owui-internal"]["spec"]
    assert internal["podSelector"]["matchExpressions"][0]["values"] == ["gateway"]
    assert internal["ingress"][0] == {"from": [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/part-of": "owui"}}}]}
    # Besides: the scraper's rule to the metrics ports (test_render_metrics.py).


@pytest.mark.parametrize("profile", ["server", "ha"])
def test_no_secret_in_a_config_map_and_every_service_on_postgres_and_chroma(
        rendered, profile: str) -> None:
    objects = k8s_objects(rendered["k8s", profile])
    secrets = by_kind(objects, "Secret")
    jwt = secrets["owui-secrets"]["stringData"]["JWT_SECRET_KEY"]
    password = secrets["owui-database"]["stringData"]["POSTGRES_PASSWORD"]
    assert len(jwt) >= 32
    for config in by_kind(objects, "ConfigMap").values():
        text = yaml.safe_dump(config)
        assert jwt not in text and password not in text and "DATABASE_URL" not in text
    config = by_kind(objects, "ConfigMap")["owui-config"]["data"]
    assert config["VECTOR_DB"] == "chroma"
    assert config["CHROMA_HTTP_URL"] == "http://owui-chroma:8000"
    assert config["REDIS_URL"] == "redis://owui-redis:6379/0"
    for service in NAMES:
        url = secrets["owui-database"]["stringData"][f"DATABASE_URL_{service.upper()}"]
        assert url.startswith("postgresql+asyncpg://owui:") and url.endswith(f"/owui_{service}")
        env = by_kind(objects, "Deployment")[f"owui-{service}"]["spec"]["template"]["spec"][
            "containers"][0]["env"]
        assert env[0]["valueFrom"]["secretKeyRef"]["key"] == f"DATABASE_URL_{service.upper()}"


@pytest.mark.parametrize("profile", ["server", "ha"])
def test_compose_publishes_only_the_gateway(rendered, profile: str) -> None:
    folder = rendered["compose", profile]
    doc = yaml.safe_load((folder / "docker-compose.yml").read_text())
    published = {name for name, body in doc["services"].items() if "ports" in body}
    assert published == {"gateway"}
    assert set(doc["networks"]) == {"owui"}
    for name, body in doc["services"].items():
        # Long-running services have health checks; the one-shot migrate service exits.
        assert ("healthcheck" in body) == (name != "migrate"), name
        assert body["networks"] == ["owui"]
    for service in NAMES:
        env = doc["services"][service]["environment"]
        assert env["DATABASE_URL"].endswith(f"@postgres:5432/owui_{service}")
        assert env["VECTOR_DB"] == "chroma" and env["CHROMA_HTTP_URL"] == "http://chroma:8000"
        assert env["JWT_SECRET_KEY"].startswith("${JWT_SECRET_KEY:?")
    # The init SQL is a file beside the Compose file, bind-mounted (podman-compose does not
    # mount inline `configs: content:`).
    assert "configs" not in doc
    assert "./postgres-initdb.sql:/docker-entrypoint-initdb.d/owui.sql:ro" in doc["services"][
        "postgres"]["volumes"]
    assert "CREATE DATABASE owui_chat;" in (folder / "postgres-initdb.sql").read_text()
    for service in NAMES:  # podman-compose runs replicas only with mode: replicated
        assert doc["services"][service]["deploy"]["mode"] == "replicated"
    secrets_file = folder / ".env"
    assert secrets_file.stat().st_mode & 0o077 == 0
    assert "JWT_SECRET_KEY=" in secrets_file.read_text()


def test_given_key_external_database_and_bad_profiles(tmp_path: Path) -> None:
    key = "k" * 40
    files = render_files(Target.k8s, "server", key)
    assert f"JWT_SECRET_KEY: {key}" in files["00-secrets.yaml"]
    own = tmp_path / "own.yaml"
    own.write_text(yaml.safe_dump({"stores": {"database": "postgres", "vectors": "chroma"},
                                   "deploy": {"postgres": {"external_url":
                                       "postgresql+asyncpg://app:pw@db.example:5432/x?ssl=1"}}}))
    files = render_files(Target.k8s, str(own))
    assert "10-postgres.yaml" not in files
    assert "postgresql+asyncpg://app:pw@db.example:5432/owui_agent?ssl=1" in files[
        "00-secrets.yaml"]
    code, _, err = run_cli("render", "k8s", "--profile", "local", "-o", str(tmp_path / "x"))
    assert code == 1 and "stores.database: postgres" in err
    code, _, err = run_cli("render", "compose", "-o", str(tmp_path / "y"),
                           "--jwt-secret-key", "short")
    assert code == 1 and "at least 32 characters" in err


REFERENCE = {"compose": ("compose", "server"), "compose/k8s/server": ("k8s", "server"),
             "compose/k8s/ha": ("k8s", "ha")}


@pytest.mark.parametrize("folder", sorted(REFERENCE))
def test_reference_manifests_match_render(folder: str) -> None:
    target, profile = REFERENCE[folder]
    expected = render_files(Target(target), profile, with_secrets=False)
    assert not SECRET_FILES & set(expected)
    reference = REPO / folder
    on_disk = {p.name: p.read_text() for p in reference.iterdir() if p.is_file()}
    hint = (f"re-render: owui render {target} --profile {profile} --without-secrets "
            f"-o {folder}")
    assert on_disk == expected, hint


def test_images_named_on_the_command_line(tmp_path: Path) -> None:
    code, _, err = run_cli("render", "compose", "-o", str(tmp_path / "c"),
                           "--image", "owui=registry.example/owui:1.0",
                           "--image", "postgres=registry.example/postgres:17",
                           "--image", "redis=registry.example/redis:7",
                           "--image", "chroma=registry.example/chroma:1")
    assert code == 0, err
    doc = yaml.safe_load((tmp_path / "c" / "docker-compose.yml").read_text())
    images = {name: body["image"] for name, body in doc["services"].items()}
    assert images == {"postgres": "registry.example/postgres:17",
                      "chroma": "registry.example/chroma:1",
                      "redis": "registry.example/redis:7",
                      **{name: "registry.example/owui:1.0" for name in NAMES}}
    files = render_files(Target.k8s, "server", images={"owui": "r/o:2", "postgres": "r/p:1"})
    assert "image: r/o:2" in files["20-gateway.yaml"] and "image: r/p:1" in files[
        "10-postgres.yaml"]
    code, _, err = run_cli("render", "compose", "-o", str(tmp_path / "d"),
                           "--image", "mysql=x:1")
    assert code == 1 and "unknown image mysql" in err and "owui, postgres" in err
    code, _, err = run_cli("render", "compose", "-o", str(tmp_path / "d"), "--image", "owui")
    assert code == 1 and "expected NAME=REF" in err
