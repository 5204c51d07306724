"""Kubernetes manifests: a file per component, each a list of objects (plain dicts)."""

from __future__ import annotations

from typing import Any

from owui.cli.manifests import metrics, tls
from owui.cli.manifests.common import (
    CHROMA_PORT,
    DATA_DIR,
    POSTGRES_PORT,
    POSTGRES_USER,
    QDRANT_PORT,
    REDIS_PORT,
    UID,
    Secrets,
    backing_vector_store,
    check,
    database_url,
    initdb_sql,
    secret_env,
    service_config,
)
from owui.cli.profiles import Backing, Profile, ServiceDeploy
from owui.core.services import SERVICES, Service

Obj = dict[str, Any]
CONFIG = "owui-config"
SECRET = "owui-secrets"  # JWT_SECRET_KEY and the profile's secret variables, as env
DATABASE_SECRET = "owui-database"  # the PostgreSQL password and one URL per service
SECRET_FILE = "00-secrets.yaml"
PART_OF = {"app.kubernetes.io/part-of": "owui"}


def name(component: str) -> str:
    return f"owui-{component}"


def labels(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name(component),
            "app.kubernetes.io/component": component, **PART_OF}


def selector(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name(component)}


def meta(component: str, object_name: str | None = None) -> Obj:
    return {"name": object_name or name(component), "labels": labels(component)}


def render(profile: Profile, secrets: Secrets | None) -> dict[str, list[Obj]]:
    """File name to objects; the Secrets only when `secrets` is given."""
    check(profile)
    files: dict[str, list[Obj]] = {"00-config.yaml": [config_map(profile)]}
    if secrets is not None:
        files[SECRET_FILE] = secret_objects(profile, secrets)
    if tls.enabled(profile) and profile.deploy.tls.cert_manager_issuer:
        files["05-certificates.yaml"] = tls.certificates(profile, name)
    deploy = profile.deploy
    if not deploy.postgres.external_url:
        files["10-postgres.yaml"] = postgres(deploy.postgres)
    vectors = backing_vector_store(profile)
    if vectors == "chroma":
        files["10-chroma.yaml"] = chroma(deploy.chroma)
    elif vectors == "qdrant":
        files["10-qdrant.yaml"] = qdrant(profile)
    if profile.stores.redis and not deploy.redis.external_url:
        files["10-redis.yaml"] = redis(deploy.redis)
    if profile.stores.files == "local":
        files["10-files.yaml"] = [files_claim(profile)]
    files["15-migrate.yaml"] = [migrate_job(profile)]
    for service in SERVICES:
        files[f"20-{service.name}.yaml"] = service_objects(profile, service)
    policies = network_policies()
    metrics.k8s_network_policies(profile, policies)
    files["30-network.yaml"] = [ingress(profile), *policies]
    if profile.deploy.monitoring.service_monitor:
        files["40-monitoring.yaml"] = metrics.service_monitors(profile)
    return files


def config_map(profile: Profile) -> Obj:
    data = service_config(profile, name)
    if tls.enabled(profile):
        tls.k8s_config(data)
    metrics.k8s_config(profile, data)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("config", CONFIG),
            "data": data}


def secret_objects(profile: Profile, secrets: Secrets) -> list[Obj]:
    env = {"JWT_SECRET_KEY": secrets.jwt_secret_key, **secret_env(profile)}
    database = {"POSTGRES_PASSWORD": secrets.postgres_password}
    for service in SERVICES:
        database[f"DATABASE_URL_{service.name.upper()}"] = database_url(
            profile, service.name, secrets.postgres_password, name("postgres"))
    return [{"apiVersion": "v1", "kind": "Secret", "metadata": meta("config", secret_name),
             "type": "Opaque", "stringData": data}
            for secret_name, data in ((SECRET, env), (DATABASE_SECRET, database))]


def _secret_ref(variable: str, secret: str, key: str) -> Obj:
    return {"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _container_security() -> Obj:
    return {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]}}


def _pod_security(uid: int | None = UID) -> Obj:
    security: Obj = {"seccompProfile": {"type": "RuntimeDefault"}}
    if uid is not None:
        security.update(runAsUser=uid, runAsGroup=uid, fsGroup=uid, runAsNonRoot=True)
    return security


def _http_probe(path: str, period: int, failures: int) -> Obj:
    return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": period,
            "timeoutSeconds": 3, "failureThreshold": failures}


def service_objects(profile: Profile, service: Service) -> list[Obj]:
    spec = profile.deploy.service(service.name)
    service_object = cluster_service(service.name, service.port)
    metrics.k8s_service(profile, service, service_object)
    objects = [deployment(profile, service, spec), service_object,
               {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": meta(service.name),
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(service.name)}}}]
    if spec.autoscale is not None:
        objects.append(autoscaler(service.name, spec))
    return objects


def deployment(profile: Profile, service: Service, spec: ServiceDeploy) -> Obj:
    files_on_volume = service.name == "retrieval" and profile.stores.files == "local"
    mounts = [{"name": "data", "mountPath": DATA_DIR}]
    volumes: list[Obj] = [{"name": "data", "emptyDir": {}}]
    if files_on_volume:
        mounts.append({"name": "files", "mountPath": f"{DATA_DIR}/files"})
        volumes.append({"name": "files", "persistentVolumeClaim": {"claimName": name("files")}})
    container = {
        "name": service.name, "image": profile.deploy.image, "imagePullPolicy": "IfNotPresent",
        "args": ["serve", service.name, "--host", "0.0.0.0", "--port", str(service.port)],
        "ports": [{"name": "http", "containerPort": service.port}],
        "envFrom": [{"configMapRef": {"name": CONFIG}}, {"secretRef": {"name": SECRET}}],
        "env": [_secret_ref("DATABASE_URL", DATABASE_SECRET,
                            f"DATABASE_URL_{service.name.upper()}"),
                # The migrate Job does it once; replicas stay unready until it has.
                {"name": "OWUI_MIGRATE_ON_START", "value": "false"}],
        # Generous start-up (migrations, a cold cache), then quick liveness checks.
        "startupProbe": _http_probe("/healthz", 2, 60),
        "livenessProbe": _http_probe("/healthz", 10, 3),
        "readinessProbe": _http_probe("/readyz", 5, 3),
        "resources": {"requests": {"cpu": spec.cpu, "memory": spec.memory},
                      "limits": {"cpu": spec.cpu_limit, "memory": spec.memory_limit}},
        "securityContext": _container_security(),
        "volumeMounts": mounts,
    }
    replicas = spec.autoscale.min_replicas if spec.autoscale else spec.replicas
    body: Obj = {
        "replicas": replicas,
        "selector": {"matchLabels": selector(service.name)},
        "template": {"metadata": {"labels": labels(service.name)},
                     "spec": {"securityContext": _pod_security(), "containers": [container],
                              "volumes": volumes}},
    }
    if files_on_volume:  # a ReadWriteOnce volume: the old pod must let go first
        body["strategy"] = {"type": "Recreate"}
    made = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(service.name),
            "spec": body}
    if tls.enabled(profile):
        tls.k8s_deployment(profile, service, made)
    metrics.k8s_deployment(profile, service, made)
    return made


def migrate_job(profile: Profile) -> Obj:
    """`owui migrate` once per apply; retried while PostgreSQL comes up."""
    container = {
        "name": "migrate", "image": profile.deploy.image, "imagePullPolicy": "IfNotPresent",
        "args": ["migrate"],
        # DATABASE_URL_<SERVICE> for each service comes with the database Secret.
        "envFrom": [{"configMapRef": {"name": CONFIG}}, {"secretRef": {"name": SECRET}},
                    {"secretRef": {"name": DATABASE_SECRET}}],
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                      "limits": {"memory": "512Mi"}},
        "securityContext": _container_security(),
        "volumeMounts": [{"name": "data", "mountPath": DATA_DIR}],
    }
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("migrate"),
            "spec": {"backoffLimit": 10, "ttlSecondsAfterFinished": 600,
                     "template": {"metadata": {"labels": labels("migrate")},
                                  "spec": {"restartPolicy": "OnFailure",
                                           "securityContext": _pod_security(),
                                           "containers": [container],
                                           "volumes": [{"name": "data", "emptyDir": {}}]}}}}


def cluster_service(component: str, port: int, headless: bool = False,
                    port_name: str = "http") -> Obj:
    spec: Obj = {"selector": selector(component),
                 "ports": [{"name": port_name, "port": port, "targetPort": port_name}]}
    if headless:
        spec["clusterIP"] = "None"
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(component), "spec": spec}


def autoscaler(component: str, spec: ServiceDeploy) -> Obj:
    assert spec.autoscale is not None
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": meta(component),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": name(component)},
                     "minReplicas": spec.autoscale.min_replicas,
                     "maxReplicas": spec.autoscale.max_replicas,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization",
                                                   "averageUtilization":
                                                       spec.autoscale.cpu_percent}}}]}}


def _stateful_set(component: str, backing: Backing, container: Obj, mount: str,
                  uid: int | None) -> Obj:
    container = {"name": component, "image": backing.image, "imagePullPolicy": "IfNotPresent",
                 **container,
                 "volumeMounts": [*container.get("volumeMounts", []),
                                  {"name": "data", "mountPath": mount}],
                 "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                               "limits": {"memory": "2Gi"}}}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta(component),
            "spec": {"serviceName": name(component), "replicas": 1,
                     "selector": {"matchLabels": selector(component)},
                     "template": {"metadata": {"labels": labels(component)},
                                  "spec": {"securityContext": _pod_security(uid),
                                           "containers": [container]}},
                     "volumeClaimTemplates": [{
                         "metadata": {"name": "data"},
                         "spec": {"accessModes": ["ReadWriteOnce"],
                                  "resources": {"requests": {"storage": backing.storage}}}}]}}


def _exec_probe(command: list[str], period: int = 10) -> Obj:
    return {"exec": {"command": command}, "periodSeconds": period, "timeoutSeconds": 5,
            "failureThreshold": 6}


def postgres(backing: Backing) -> list[Obj]:
    initdb = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("postgres",
                                                                      name("postgres-initdb")),
              "data": {"owui.sql": initdb_sql()}}
    ready = ["pg_isready", "-U", POSTGRES_USER, "-d", "postgres"]
    container = {
        "ports": [{"name": "postgres", "containerPort": POSTGRES_PORT}],
        "env": [{"name": "POSTGRES_USER", "value": POSTGRES_USER},
                _secret_ref("POSTGRES_PASSWORD", DATABASE_SECRET, "POSTGRES_PASSWORD"),
                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
        "readinessProbe": _exec_probe(ready, 5), "livenessProbe": _exec_probe(ready),
        "volumeMounts": [{"name": "initdb", "mountPath": "/docker-entrypoint-initdb.d"}],
    }
    stateful = _stateful_set("postgres", backing, container, "/var/lib/postgresql/data", 70)
    stateful["spec"]["template"]["spec"]["volumes"] = [
        {"name": "initdb", "configMap": {"name": name("postgres-initdb")}}]
    return [initdb, cluster_service("postgres", POSTGRES_PORT, True, "postgres"), stateful]


def chroma(backing: Backing) -> list[Obj]:
    container = {
        "ports": [{"name": "http", "containerPort": CHROMA_PORT}],
        "readinessProbe": _http_probe("/api/v2/heartbeat", 5, 3),
        "livenessProbe": _http_probe("/api/v2/heartbeat", 10, 6),
    }
    return [cluster_service("chroma", CHROMA_PORT, headless=True),
            _stateful_set("chroma", backing, container, "/data", None)]


def qdrant(profile: Profile) -> list[Obj]:
    env = [{"name": "QDRANT__TELEMETRY_DISABLED", "value": "true"}]
    if "QDRANT_API_KEY" in secret_env(profile):  # the key the services are given, from SECRET
        env.append(_secret_ref("QDRANT__SERVICE__API_KEY", SECRET, "QDRANT_API_KEY"))
    container = {
        "env": env,
        "ports": [{"name": "http", "containerPort": QDRANT_PORT}],
        # Qdrant answers its health endpoints without the API key.
        "readinessProbe": _http_probe("/readyz", 5, 3),
        "livenessProbe": _http_probe("/livez", 10, 6),
    }
    return [cluster_service("qdrant", QDRANT_PORT, headless=True),
            _stateful_set("qdrant", profile.deploy.qdrant, container, "/qdrant/storage", None)]


def redis(backing: Backing) -> list[Obj]:
    ping = ["redis-cli", "ping"]
    container = {
        "args": ["redis-server", "--appendonly", "yes"],
        "ports": [{"name": "redis", "containerPort": REDIS_PORT}],
        "readinessProbe": _exec_probe(ping, 5), "livenessProbe": _exec_probe(ping),
    }
    return [cluster_service("redis", REDIS_PORT, True, "redis"),
            _stateful_set("redis", backing, container, "/data", 999)]


def files_claim(profile: Profile) -> Obj:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("files"),
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": profile.deploy.files_storage}}}}


def ingress(profile: Profile) -> Obj:
    rule: Obj = {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
        "service": {"name": name("gateway"), "port": {"number": SERVICES[0].port}}}}]}}
    if profile.deploy.ingress_host:
        rule["host"] = profile.deploy.ingress_host
    made = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("gateway"),
            "spec": {"rules": [rule]}}
    if tls.enabled(profile):
        tls.k8s_ingress(profile, made)
    return made


def network_policies() -> list[Obj]:
    """Only the gateway takes traffic from outside; the rest only from owui's own pods."""
    gateway = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": meta("gateway"),
               "spec": {"podSelector": {"matchLabels": selector("gateway")},
                        "policyTypes": ["Ingress"],
                        "ingress": [{"ports": [{"protocol": "TCP", "port": SERVICES[0].port}]}]}}
    internal = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": meta("internal", name("internal")),
                "spec": {"podSelector": {"matchLabels": PART_OF, "matchExpressions": [{
                             "key": "app.kubernetes.io/component", "operator": "NotIn",
                             "values": ["gateway"]}]},
                         "policyTypes": ["Ingress"],
                         "ingress": [{"from": [{"podSelector": {"matchLabels": PART_OF}}]}]}}
    return [gateway, internal]
