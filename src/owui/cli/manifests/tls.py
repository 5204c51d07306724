"""HTTPS in rendered manifests, when the profile's `deploy.tls.enabled` asks for it.

Compose mounts the folder `owui certs` wrote (deploy.tls.certs_dir, beside the Compose file)
read-only into every service. Kubernetes mounts each service's Secret `owui-tls-<service>`
(tls.crt, tls.key, ca.crt: the keys cert-manager writes), made by cert-manager from the
`Certificate` resources rendered here when deploy.tls.cert_manager_issuer names an issuer, or
by hand otherwise; the Ingress terminates TLS with `owui-ingress-tls` and speaks HTTPS to the
gateway. Every *_SERVICE_URL is https://; with deploy.tls.mutual the services behind the
gateway take only clients with a certificate of the same CA, so the health checks present one
(kubelet's httpGet cannot: readiness is an exec probe then, liveness a TCP connect).

The services read their certificates at start: a renewed Secret takes effect on a restart.
"""

from __future__ import annotations

from typing import Any

from owui.cli.profiles import Profile
from owui.core.services import SERVICES, Service

Obj = dict[str, Any]
MOUNT = "/etc/owui/tls"
INGRESS_SECRET = "owui-ingress-tls"
CERT_MANAGER_API = "cert-manager.io/v1"
# ingress-nginx's way of saying the backend speaks HTTPS (other controllers have their own).
BACKEND_HTTPS = {"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS"}
# The health check, in the image's Python (it has no curl): /readyz over HTTPS, trusting only
# our CA, presenting the service's own certificate (mutual TLS asks for one).
READY_CHECK = (
    "import ssl, urllib.request; c = ssl.create_default_context(cafile='{ca}'); "
    "c.load_cert_chain('{cert}', '{key}'); "
    "urllib.request.urlopen('https://127.0.0.1:{port}/readyz', timeout=3, context=c)")


def enabled(profile: Profile) -> bool:
    return profile.deploy.tls.enabled


def secret_name(service: str) -> str:
    return f"owui-tls-{service}"


def https_urls(env: dict[str, str]) -> None:
    """Every *_SERVICE_URL in `env` turned https://."""
    for service in SERVICES:
        variable = service.url_variable
        if variable and env.get(variable, "").startswith("http://"):
            env[variable] = "https://" + env[variable].removeprefix("http://")


def service_env(profile: Profile, cert: str, key: str, ca: str) -> dict[str, str]:
    env = {"SSL_CERTFILE": cert, "SSL_KEYFILE": key, "OWUI_TLS_CA": ca}
    if profile.deploy.tls.mutual:
        env["OWUI_TLS_REQUIRE_CLIENT_CERT"] = "true"
    return env


# Compose.

def compose_service(profile: Profile, service: Service, body: Obj) -> None:
    """The service's Compose entry over HTTPS: certificates mounted, URLs https://."""
    cert, key, ca = (f"{MOUNT}/{service.name}.pem", f"{MOUNT}/{service.name}-key.pem",
                     f"{MOUNT}/ca.pem")
    environment = body["environment"]
    https_urls(environment)
    environment.update(service_env(profile, cert, key, ca))
    body["volumes"] = [*body.get("volumes", []), f"{profile.deploy.tls.certs_dir}:{MOUNT}:ro"]
    check = READY_CHECK.format(ca=ca, cert=cert, key=key, port=service.port)
    body["healthcheck"]["test"] = ["CMD", "python", "-c", check]


# Kubernetes.

def k8s_config(data: dict[str, str]) -> None:
    https_urls(data)


def k8s_deployment(profile: Profile, service: Service, deployment: Obj) -> None:
    """The service's pod over HTTPS: its Secret mounted, the variables that name the files,
    probes that speak HTTPS (and present a certificate under mutual TLS)."""
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    cert, key, ca = f"{MOUNT}/tls.crt", f"{MOUNT}/tls.key", f"{MOUNT}/ca.crt"
    container["env"] = [*container["env"], *({"name": k, "value": v} for k, v in
                                             service_env(profile, cert, key, ca).items())]
    container["volumeMounts"] = [*container["volumeMounts"],
                                 {"name": "tls", "mountPath": MOUNT, "readOnly": True}]
    # 0440: readable by the pod's group (fsGroup, the image's user), no one else.
    pod["volumes"] = [*pod["volumes"], {"name": "tls", "secret": {
        "secretName": secret_name(service.name), "defaultMode": 0o440}}]
    mutual = profile.deploy.tls.mutual and service.url_variable is not None
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        spec = container[probe]
        if not mutual:
            spec["httpGet"]["scheme"] = "HTTPS"  # kubelet does not verify: no CA needed
        elif probe == "readinessProbe":
            del spec["httpGet"]
            spec["exec"] = {"command": ["python", "-c", READY_CHECK.format(
                ca=ca, cert=cert, key=key, port=service.port)]}
        else:  # listening is alive enough; uvicorn listens once start-up is done
            del spec["httpGet"]
            spec["tcpSocket"] = {"port": "http"}


def k8s_ingress(profile: Profile, ingress: Obj) -> None:
    """TLS at the Ingress (for deploy.ingress_host), HTTPS from it to the gateway."""
    ingress["metadata"]["annotations"] = {**ingress["metadata"].get("annotations", {}),
                                          **BACKEND_HTTPS}
    host = profile.deploy.ingress_host
    if host:
        ingress["spec"]["tls"] = [{"hosts": [host], "secretName": INGRESS_SECRET}]


def certificates(profile: Profile, name: Any) -> list[Obj]:
    """cert-manager Certificates: one per service (its Service's names, and loopback for the
    health checks), and the Ingress host's; `name(component)` is the manifests' naming."""
    tls = profile.deploy.tls
    assert tls.cert_manager_issuer is not None
    issuer = {"name": tls.cert_manager_issuer, "kind": tls.cert_manager_issuer_kind,
              "group": "cert-manager.io"}

    def certificate(component: str, secret: str, dns: list[str], ips: list[str],
                    usages: list[str]) -> Obj:
        spec: Obj = {"secretName": secret, "dnsNames": dns, "usages": usages,
                     "privateKey": {"algorithm": "ECDSA", "size": 256,
                                    "rotationPolicy": "Always"},
                     "issuerRef": issuer}
        if ips:
            spec["ipAddresses"] = ips
        return {"apiVersion": CERT_MANAGER_API, "kind": "Certificate",
                "metadata": {"name": secret, "labels": {
                    "app.kubernetes.io/name": name(component),
                    "app.kubernetes.io/component": component,
                    "app.kubernetes.io/part-of": "owui"}},
                "spec": spec}

    objects = [certificate(s.name, secret_name(s.name), [name(s.name), "localhost"],
                           ["127.0.0.1"], ["digital signature", "server auth", "client auth"])
               for s in SERVICES]
    if profile.deploy.ingress_host:
        objects.append(certificate("gateway", INGRESS_SECRET, [profile.deploy.ingress_host],
                                   [], ["digital signature", "server auth"]))
    return objects
