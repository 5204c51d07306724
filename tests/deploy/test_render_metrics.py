"""Metrics and traces in rendered manifests (issue 20): scrape annotations on every pod
template, the gateway's metrics port (never public), NetworkPolicies that let only the scraper
reach the metrics ports, ServiceMonitors only when the profile asks (a custom resource with no
schema reachable here: its fields checked by hand), the OpenTelemetry variables; the standard
kinds still validate strictly and the Compose file against the compose-spec schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from owui.cli.profiles import ProfileError, load_profile
from owui.cli.render import Target, render_files
from owui.core.services import NAMES, SERVICES
from tests.deploy.conftest import REPO

K8S_VERSION = "1.37.0"
PORTS = {s.name: s.port for s in SERVICES}
BACKENDS = [name for name in NAMES if name != "gateway"]
SCRAPER_NS = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}


def profile_with(tmp_path: Path, base: str, **deploy: object) -> str:
    """A shipped profile with some of deploy's sections set."""
    data = yaml.safe_load((REPO / "profiles" / f"{base}.yaml").read_text())
    data["name"] = f"{base}-observed"
    data.setdefault("deploy", {}).update(deploy)
    path = tmp_path / f"{base}-observed.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def k8s(profile: str) -> tuple[dict[str, str], list[dict]]:
    files = render_files(Target.k8s, profile)
    return files, [doc for text in files.values() for doc in yaml.safe_load_all(text) if doc]


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def compose_doc(profile: str, tmp_path: Path) -> dict:
    """The Compose file, checked against the compose-spec schema on the way."""
    text = render_files(Target.compose, profile)["docker-compose.yml"]
    path = tmp_path / "docker-compose.yml"
    path.write_text(text)
    done = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"),
                           "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return yaml.safe_load(text)


def container(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def env_of(deployment: dict) -> dict[str, str | None]:
    return {e["name"]: e.get("value") for e in container(deployment)["env"]}


@pytest.mark.parametrize("profile", ["server", "ha"])
def test_every_pod_template_carries_the_scrape_annotations(profile: str) -> None:
    files, objects = k8s(profile)
    assert "40-monitoring.yaml" not in files  # no ServiceMonitor unless the profile asks
    assert not [o for o in objects if o["kind"] == "ServiceMonitor"]
    deployments = by_kind(objects, "Deployment")
    for name in NAMES:
        annotations = deployments[f"owui-{name}"]["spec"]["template"]["metadata"]["annotations"]
        port = 9100 if name == "gateway" else PORTS[name]
        assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/path": "/metrics",
                               "prometheus.io/port": str(port)}
        # The annotated port is one the container declares.
        declared = {p["containerPort"] for p in container(deployments[f"owui-{name}"])["ports"]}
        assert port in declared


def test_the_gateway_serves_metrics_on_its_own_port_only() -> None:
    _, objects = k8s("server")
    deployments, services = by_kind(objects, "Deployment"), by_kind(objects, "Service")
    gateway = deployments["owui-gateway"]
    assert container(gateway)["ports"] == [{"name": "http", "containerPort": 8000},
                                           {"name": "metrics", "containerPort": 9100}]
    env = env_of(gateway)
    assert env["OWUI_METRICS_PORT"] == "9100" and env["OWUI_METRICS_HOST"] == "0.0.0.0"
    assert services["owui-gateway"]["spec"]["ports"] == [
        {"name": "http", "port": 8000, "targetPort": "http"},
        {"name": "metrics", "port": 9100, "targetPort": "metrics"}]
    # Never shared: in one ConfigMap, two services on one host would want one port.
    config = by_kind(objects, "ConfigMap")["owui-config"]["data"]
    assert not {"OWUI_METRICS_PORT", "OWUI_METRICS_HOST"} & set(config)
    for name in BACKENDS:  # the backends answer /metrics on their own port
        assert "OWUI_METRICS_PORT" not in env_of(deployments[f"owui-{name}"])
        assert [p["name"] for p in services[f"owui-{name}"]["spec"]["ports"]] == ["http"]
    ingress = next(iter(by_kind(objects, "Ingress").values()))
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    assert [p["backend"]["service"]["port"] for p in paths] == [{"number": 8000}]


def test_compose_exposes_the_gateway_metrics_port_without_publishing_it(
        tmp_path: Path) -> None:
    doc = compose_doc("server", tmp_path)
    gateway = doc["services"]["gateway"]
    assert gateway["environment"]["OWUI_METRICS_PORT"] == "9100"
    assert gateway["environment"]["OWUI_METRICS_HOST"] == "0.0.0.0"
    assert gateway["expose"] == ["9100"] and gateway["ports"] == ["8000:8000"]
    for name in BACKENDS:
        assert "OWUI_METRICS_PORT" not in doc["services"][name]["environment"]
        assert "expose" not in doc["services"][name] and "ports" not in doc["services"][name]


def _scraper_rules(policy: dict) -> list[dict]:
    return [rule for rule in policy["spec"]["ingress"] if rule.get("from") != [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "owui"}}}]
        and "from" in rule]


def test_network_policies_let_only_the_scraper_reach_the_metrics_ports(tmp_path: Path) -> None:
    _, objects = k8s("server")
    policies = by_kind(objects, "NetworkPolicy")
    gateway, internal = policies["owui-gateway"], policies["owui-internal"]
    # The public port stays open to all; 9100 only from the monitoring namespace.
    assert gateway["spec"]["ingress"] == [
        {"ports": [{"protocol": "TCP", "port": 8000}]},
        {"from": [SCRAPER_NS], "ports": [{"protocol": "TCP", "port": 9100}]}]
    # The backends: owui's own pods as before, and the scraper on the backends' ports only.
    assert internal["spec"]["ingress"][0] == {"from": [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/part-of": "owui"}}}]}
    assert internal["spec"]["ingress"][1:] == [
        {"from": [SCRAPER_NS], "ports": [{"protocol": "TCP", "port": PORTS[n]}
                                          for n in BACKENDS]}]

    # The scraper as the profile selects it: its namespace and, when given, its pods' labels.
    own = profile_with(tmp_path, "server", monitoring={
        "namespace": "observability", "pod_labels": {"app.kubernetes.io/name": "prometheus"}})
    _, objects = k8s(own)
    expected = {"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": "observability"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}
    for policy in by_kind(objects, "NetworkPolicy").values():
        rules = _scraper_rules(policy)
        assert len(rules) == 1 and rules[0]["from"] == [expected]  # one peer: both must match
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_service_monitors_when_the_profile_asks(tmp_path: Path) -> None:
    profile = profile_with(tmp_path, "ha", monitoring={"service_monitor": True,
                                                       "interval": "15s"})
    files, objects = k8s(profile)
    monitors = by_kind(objects, "ServiceMonitor")
    assert set(monitors) == {f"owui-{n}" for n in NAMES}
    assert {o["kind"] for o in yaml.safe_load_all(files["40-monitoring.yaml"])} == {
        "ServiceMonitor"}
    services = by_kind(objects, "Service")
    for name in NAMES:
        monitor = monitors[f"owui-{name}"]
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert set(monitor) == {"apiVersion", "kind", "metadata", "spec"}
        assert monitor["metadata"]["labels"]["app.kubernetes.io/part-of"] == "owui"
        spec = monitor["spec"]
        assert set(spec) == {"selector", "endpoints"}
        # The selector picks exactly the service's own Service, by its labels.
        selected = [s for s in services.values() if spec["selector"]["matchLabels"].items()
                    <= s["metadata"]["labels"].items()]
        assert [s["metadata"]["name"] for s in selected] == [f"owui-{name}"]
        port = "metrics" if name == "gateway" else "http"  # never the gateway's public port
        assert spec["endpoints"] == [{"port": port, "path": "/metrics", "interval": "15s"}]
        # The endpoint names a port the Service has, which targets the annotated port.
        service_ports = {p["name"]: p["port"] for p in selected[0]["spec"]["ports"]}
        annotations = by_kind(objects, "Deployment")[f"owui-{name}"]["spec"]["template"][
            "metadata"]["annotations"]
        assert str(service_ports[port]) == annotations["prometheus.io/port"]
    for obj in objects:  # the standard kinds still validate
        if obj["kind"] != "ServiceMonitor":
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_tracing_variables_when_the_profile_names_a_collector(tmp_path: Path) -> None:
    profile = profile_with(tmp_path, "server", otel={"endpoint": "http://otel-collector:4318",
                                                     "sampler_arg": 0.25})
    _, objects = k8s(profile)
    config = by_kind(objects, "ConfigMap")["owui-config"]["data"]
    assert config["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert config["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert config["OTEL_TRACES_SAMPLER_ARG"] == "0.25"
    assert "OTEL_SERVICE_NAME" not in config  # each service names itself owui-<service>
    doc = compose_doc(profile, tmp_path)
    for name in NAMES:
        env = doc["services"][name]["environment"]
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
        assert env["OTEL_TRACES_SAMPLER_ARG"] == "0.25" and "OTEL_SERVICE_NAME" not in env
    # Off by default: no variable at all.
    _, objects = k8s("server")
    assert not [k for k in by_kind(objects, "ConfigMap")["owui-config"]["data"]
                if k.startswith("OTEL_")]


def test_under_tls_every_service_is_scraped_on_its_metrics_port(tmp_path: Path) -> None:
    profile = profile_with(tmp_path, "ha", tls={"enabled": True, "mutual": True},
                           monitoring={"service_monitor": True})
    _, objects = k8s(profile)
    deployments = by_kind(objects, "Deployment")
    for name in NAMES:
        deployment = deployments[f"owui-{name}"]
        assert deployment["spec"]["template"]["metadata"]["annotations"][
            "prometheus.io/port"] == "9100"
        assert env_of(deployment)["OWUI_METRICS_PORT"] == "9100"
        assert by_kind(objects, "ServiceMonitor")[f"owui-{name}"]["spec"]["endpoints"][0][
            "port"] == "metrics"
    internal = by_kind(objects, "NetworkPolicy")["owui-internal"]
    assert _scraper_rules(internal)[0]["ports"] == [{"protocol": "TCP", "port": 9100}]
    doc = compose_doc(profile, tmp_path)
    for name in NAMES:
        assert doc["services"][name]["expose"] == ["9100"]
    assert {n for n, body in doc["services"].items() if "ports" in body} == {"gateway"}


def test_bad_monitoring_and_tracing_settings_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"deploy": {
        "monitoring": {"interval": "often", "scraper": "x"},
        "otel": {"endpoint": "otel:4318", "sampler": "sometimes", "sampler_arg": 2}}}))
    with pytest.raises(ProfileError) as caught:
        load_profile(str(bad))
    message = str(caught.value)
    for field in ("deploy.monitoring.interval", "deploy.monitoring.scraper: unknown field",
                  "deploy.otel.endpoint", "deploy.otel.sampler", "deploy.otel.sampler_arg"):
        assert field in message, (field, message)
