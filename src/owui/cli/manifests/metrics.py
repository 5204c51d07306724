"""Metrics and traces in rendered manifests (issue 20): scrape annotations, the metrics ports,
the NetworkPolicy rules that let only the scraper reach them, an optional ServiceMonitor, and
the OpenTelemetry variables when the profile names a collector.

Where each service is scraped: a backend (inference, agent, retrieval, chat) answers /metrics
on its own port (`http`); the gateway's own port is the public one, where /metrics is a 404, so
it serves its metrics on a port of its own (METRICS_PORT, named `metrics`), never published nor
routed by the Ingress. Under deploy.tls every service does so: the scraper speaks plain HTTP to
a port that only it may reach, rather than HTTPS to a certificate naming the Service (not the
pod's address it scrapes) or, under mutual TLS, to a port that refuses it without a client
certificate. Each pod (and Compose container) has its own ports, so one number serves all."""

from __future__ import annotations

from typing import Any

from owui.cli.profiles import Profile
from owui.core.services import SERVICES, Service

Obj = dict[str, Any]
METRICS_PORT = 9100
METRICS_PORT_NAME = "metrics"
MONITORING_API = "monitoring.coreos.com/v1"


def own_port(profile: Profile, service: Service) -> bool:
    """Whether the service serves /metrics on METRICS_PORT rather than its own port."""
    return service.url_variable is None or profile.deploy.tls.enabled


def scrape_port(profile: Profile, service: Service) -> int:
    return METRICS_PORT if own_port(profile, service) else service.port


def scrape_port_name(profile: Profile, service: Service) -> str:
    return METRICS_PORT_NAME if own_port(profile, service) else "http"


def metrics_env(profile: Profile, service: Service) -> dict[str, str]:
    """Per service, never in a shared ConfigMap: on one host two services given one port fail."""
    if not own_port(profile, service):
        return {}
    # 0.0.0.0: the scraper comes from outside the container; the NetworkPolicy keeps others out.
    return {"OWUI_METRICS_PORT": str(METRICS_PORT), "OWUI_METRICS_HOST": "0.0.0.0"}


def otel_env(profile: Profile) -> dict[str, str]:
    """Tracing on for every service when deploy.otel.endpoint is set. No OTEL_SERVICE_NAME:
    shared, it would give the five one name; each names itself owui-<service>."""
    otel = profile.deploy.otel
    if not otel.endpoint:
        return {}
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": otel.endpoint,
            "OTEL_TRACES_SAMPLER": otel.sampler,
            "OTEL_TRACES_SAMPLER_ARG": format(otel.sampler_arg, "g")}


def scrape_annotations(profile: Profile, service: Service) -> dict[str, str]:
    return {"prometheus.io/scrape": "true", "prometheus.io/path": "/metrics",
            "prometheus.io/port": str(scrape_port(profile, service))}


# Compose.

def compose_service(profile: Profile, service: Service, body: Obj) -> None:
    """The metrics variables (and the port, exposed on the Compose network only: never
    published on the host) and the tracing variables."""
    environment = body["environment"]
    environment.update(metrics_env(profile, service))
    environment.update(otel_env(profile))
    if own_port(profile, service):
        body["expose"] = [str(METRICS_PORT)]


# Kubernetes.

def k8s_config(profile: Profile, data: dict[str, str]) -> None:
    data.update(otel_env(profile))


def k8s_deployment(profile: Profile, service: Service, deployment: Obj) -> None:
    template = deployment["spec"]["template"]
    template["metadata"]["annotations"] = {**template["metadata"].get("annotations", {}),
                                           **scrape_annotations(profile, service)}
    container = template["spec"]["containers"][0]
    env = metrics_env(profile, service)
    if env:
        container["ports"] = [*container["ports"], {"name": METRICS_PORT_NAME,
                                                    "containerPort": METRICS_PORT}]
        container["env"] = [*container["env"],
                            *({"name": key, "value": value} for key, value in env.items())]


def k8s_service(profile: Profile, service: Service, cluster_service: Obj) -> None:
    """The metrics port on the service's Service, for a ServiceMonitor to name."""
    if own_port(profile, service):
        cluster_service["spec"]["ports"].append(
            {"name": METRICS_PORT_NAME, "port": METRICS_PORT, "targetPort": METRICS_PORT_NAME})


def scraper(profile: Profile) -> Obj:
    """The NetworkPolicy peer that is the scraper: the pods of deploy.monitoring.namespace
    (those with deploy.monitoring.pod_labels, when given)."""
    monitoring = profile.deploy.monitoring
    peer: Obj = {"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": monitoring.namespace}}}
    if monitoring.pod_labels:
        peer["podSelector"] = {"matchLabels": dict(monitoring.pod_labels)}
    return peer


def k8s_network_policies(profile: Profile, policies: list[Obj]) -> None:
    """A rule per policy letting the scraper reach the metrics ports of the pods it selects
    (owui-gateway: the gateway; owui-internal: the backends), and nothing else."""
    gateway = [s for s in SERVICES if s.url_variable is None]
    backends = [s for s in SERVICES if s.url_variable is not None]
    for policy, services in zip(policies, (gateway, backends), strict=True):
        ports = sorted({scrape_port(profile, s) for s in services})
        policy["spec"]["ingress"].append({
            "from": [scraper(profile)],
            "ports": [{"protocol": "TCP", "port": port} for port in ports]})


def service_monitors(profile: Profile) -> list[Obj]:
    """prometheus-operator ServiceMonitors, one per service, each naming the port its metrics
    are on: never the gateway's public `http` port, where /metrics is a 404."""
    from owui.cli.manifests.k8s import meta, selector

    interval = profile.deploy.monitoring.interval
    return [{"apiVersion": MONITORING_API, "kind": "ServiceMonitor",
             "metadata": meta(service.name),
             "spec": {"selector": {"matchLabels": selector(service.name)},
                      "endpoints": [{"port": scrape_port_name(profile, service),
                                     "path": "/metrics", "interval": interval}]}}
            for service in SERVICES]
