"""Rendered manifests of a profile with deploy.tls: Compose mounts the certificates, Kubernetes
mounts Secrets, probes speak HTTPS, cert-manager Certificates (no schema reachable here: their
fields checked by hand) and an Ingress with TLS; the standard kinds still validate strictly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from owui.cli.render import Target, render_files
from owui.core.services import NAMES, SERVICES

REPO = Path(__file__).resolve().parents[2]
K8S_VERSION = "1.37.0"
BACKENDS = [s for s in SERVICES if s.url_variable]


def tls_profile(tmp_path: Path, base: str, **tls: object) -> str:
    profile = yaml.safe_load((REPO / "profiles" / f"{base}.yaml").read_text())
    profile["name"] = f"{base}-tls"
    profile.setdefault("deploy", {})["tls"] = {"enabled": True, **tls}
    profile["deploy"]["ingress_host"] = "owui.example.com"
    path = tmp_path / f"{base}-tls.yaml"
    path.write_text(yaml.safe_dump(profile))
    return str(path)


def k8s(profile: str) -> list[dict]:
    files = render_files(Target.k8s, profile)
    return [doc for text in files.values() for doc in yaml.safe_load_all(text) if doc]


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_compose_mounts_the_certificates(tmp_path: Path) -> None:
    files = render_files(Target.compose, tls_profile(tmp_path, "server", mutual=True))
    doc = yaml.safe_load(files["docker-compose.yml"])
    for name in NAMES:
        service = doc["services"][name]
        env = service["environment"]
        assert "./tls:/etc/owui/tls:ro" in service["volumes"]
        assert env["SSL_CERTFILE"] == f"/etc/owui/tls/{name}.pem"
        assert env["SSL_KEYFILE"] == f"/etc/owui/tls/{name}-key.pem"
        assert env["OWUI_TLS_CA"] == "/etc/owui/tls/ca.pem"
        assert env["OWUI_TLS_REQUIRE_CLIENT_CERT"] == "true"
        for backend in BACKENDS:
            assert env[backend.url_variable] == f"https://{backend.name}:{backend.port}"
        check = service["healthcheck"]["test"][-1]
        assert f"https://127.0.0.1:{SERVICES[NAMES.index(name)].port}/readyz" in check
    (tmp_path / "docker-compose.yml").write_text(files["docker-compose.yml"])
    done = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"),
                           "--builtin-schema", "vendor.compose-spec",
                           str(tmp_path / "docker-compose.yml")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("mutual", [False, True])
def test_k8s_mounts_secrets_and_probes_over_https(tmp_path: Path, mutual: bool) -> None:
    objects = k8s(tls_profile(tmp_path, "ha", mutual=mutual))
    for obj in objects:
        if obj["apiVersion"] != "cert-manager.io/v1":
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    config = by_kind(objects, "ConfigMap")["owui-config"]["data"]
    for backend in BACKENDS:
        assert config[backend.url_variable] == f"https://owui-{backend.name}:{backend.port}"
    assert "SSL_CERTFILE" not in config  # the migrate Job mounts no certificate
    for name, deployment in by_kind(objects, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["SSL_CERTFILE"] == "/etc/owui/tls/tls.crt"
        assert env["SSL_KEYFILE"] == "/etc/owui/tls/tls.key"
        assert env["OWUI_TLS_CA"] == "/etc/owui/tls/ca.crt"
        assert ("OWUI_TLS_REQUIRE_CLIENT_CERT" in env) == mutual
        volume = next(v for v in pod["volumes"] if v["name"] == "tls")
        assert volume["secret"] == {"secretName": f"owui-tls-{name.removeprefix('owui-')}",
                                    "defaultMode": 0o440}
        assert {"name": "tls", "mountPath": "/etc/owui/tls", "readOnly": True} in container[
            "volumeMounts"]
        if name == "owui-gateway" or not mutual:
            assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
            assert container["livenessProbe"]["httpGet"]["scheme"] == "HTTPS"
        else:  # kubelet has no client certificate
            assert "/readyz" in container["readinessProbe"]["exec"]["command"][-1]
            assert container["livenessProbe"]["tcpSocket"] == {"port": "http"}
    ingress = next(iter(by_kind(objects, "Ingress").values()))
    assert ingress["spec"]["tls"] == [{"hosts": ["owui.example.com"],
                                       "secretName": "owui-ingress-tls"}]
    assert ingress["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/backend-protocol"] == "HTTPS"
    assert not by_kind(objects, "Certificate")  # no issuer named: Secrets made by hand


def test_cert_manager_certificates_when_the_profile_names_an_issuer(tmp_path: Path) -> None:
    objects = k8s(tls_profile(tmp_path, "ha", mutual=True, cert_manager_issuer="owui-ca",
                              cert_manager_issuer_kind="ClusterIssuer"))
    certificates = by_kind(objects, "Certificate")
    assert set(certificates) == {*(f"owui-tls-{n}" for n in NAMES), "owui-ingress-tls"}
    for secret, certificate in certificates.items():
        assert certificate["apiVersion"] == "cert-manager.io/v1"
        assert set(certificate) == {"apiVersion", "kind", "metadata", "spec"}
        spec = certificate["spec"]
        assert spec["secretName"] == secret
        assert spec["issuerRef"] == {"name": "owui-ca", "kind": "ClusterIssuer",
                                     "group": "cert-manager.io"}
        assert spec["privateKey"] == {"algorithm": "ECDSA", "size": 256,
                                      "rotationPolicy": "Always"}
        # cert-manager's key usages, spelled as its API spells them.
        allowed = {"digital signature", "key encipherment", "server auth", "client auth"}
        assert set(spec["usages"]) <= allowed and "server auth" in spec["usages"]
        assert set(spec) <= {"secretName", "dnsNames", "ipAddresses", "usages", "privateKey",
                             "issuerRef"}
        kubernetes_validate.validate(  # its metadata is a standard ObjectMeta all the same
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": certificate["metadata"]},
            K8S_VERSION, strict=True)
    for name in NAMES:
        spec = certificates[f"owui-tls-{name}"]["spec"]
        assert spec["dnsNames"][0] == f"owui-{name}"  # the host in the *_SERVICE_URL
        assert spec["ipAddresses"] == ["127.0.0.1"]  # the exec health check's address
        assert "client auth" in spec["usages"]
    assert certificates["owui-ingress-tls"]["spec"]["dnsNames"] == ["owui.example.com"]


def test_reference_profiles_stay_plain_http() -> None:
    for profile in ("server", "ha"):
        config = yaml.safe_load(render_files(Target.k8s, profile)["00-config.yaml"])
        assert config["data"]["CHAT_SERVICE_URL"].startswith("http://")
