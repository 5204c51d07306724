"""A docker-compose.yml (and the .env with its secrets) from a profile.

One layout for Docker Compose and podman-compose (1.6, with podman 4.3) alike, which differ:
podman-compose ignores `condition: service_healthy`, does not mount inline `configs: content:`,
and cannot start a service that depends on an exited container. So there is no one-shot
migrate service: each service migrates its own database at start, under a PostgreSQL advisory
lock (two replicas starting at once never race), and waits for PostgreSQL if it is not up yet;
the init SQL is a file beside the Compose file, bind-mounted; `depends_on` only orders the
start (and, under Docker Compose, waits for the stores' health checks)."""

from __future__ import annotations

from typing import Any

from owui.cli.manifests import metrics, tls
from owui.cli.manifests.common import (
    CHROMA_PORT,
    DATA_DIR,
    POSTGRES_USER,
    QDRANT_PORT,
    Secrets,
    backing_vector_store,
    check,
    database_url,
    initdb_sql,
    secret_env,
    service_config,
)
from owui.cli.profiles import Profile
from owui.core.services import SERVICES, Service

Obj = dict[str, Any]
COMPOSE_FILE = "docker-compose.yml"
ENV_FILE = ".env"  # read by `docker compose` for the ${...} below; holds the secrets
DATABASE_WAIT = "120"  # seconds; PostgreSQL's first start (initdb, the init SQL) takes a few
INITDB_FILE = "postgres-initdb.sql"  # one database per service, made on PostgreSQL's first start
NETWORK = "owui"
# The image has Python but no curl; 127.0.0.1 since the service listens on every interface.
READY_CHECK = ("import sys, urllib.request; "
               "urllib.request.urlopen('http://127.0.0.1:{port}/readyz', timeout=3)")


def render(profile: Profile, secrets: Secrets | None) -> dict[str, str]:
    """File name to text; the .env only when `secrets` is given."""
    from owui.cli.manifests.common import dump

    doc = compose(profile)
    files = {COMPOSE_FILE: dump([doc])}
    if "postgres" in doc["services"]:
        files[INITDB_FILE] = initdb_sql()
    if secrets is not None:
        files[ENV_FILE] = env_file(profile, secrets)
    return files


def env_file(profile: Profile, secrets: Secrets) -> str:
    values = {"JWT_SECRET_KEY": secrets.jwt_secret_key,
              "POSTGRES_PASSWORD": secrets.postgres_password, **secret_env(profile)}
    return "".join(f"{key}='{value}'\n" for key, value in values.items())


def _required(variable: str) -> str:
    return f"${{{variable}:?set {variable} in .env (owui render writes one)}}"


def _health(test: list[str]) -> Obj:
    return {"test": test, "interval": "10s", "timeout": "5s", "retries": 6,
            "start_period": "30s"}


def compose(profile: Profile) -> Obj:
    check(profile)
    deploy = profile.deploy
    services: Obj = {}
    backing: list[str] = []
    volumes: Obj = {}
    if not deploy.postgres.external_url:
        services["postgres"] = postgres(profile)
        backing.append("postgres")
        volumes["postgres"] = {}
    vectors = backing_vector_store(profile)
    if vectors is not None:
        services[vectors] = chroma(profile) if vectors == "chroma" else qdrant(profile)
        backing.append(vectors)
        volumes[vectors] = {}
    if profile.stores.redis and not deploy.redis.external_url:
        services["redis"] = redis(profile)
        backing.append("redis")
        volumes["redis"] = {}
    if profile.stores.files == "local":
        volumes["files"] = {}
    for service in SERVICES:
        services[service.name] = owui_service(profile, service, backing)
    return {"name": "owui", "services": services, "networks": {NETWORK: {}},
            "volumes": volumes}


def _environment(profile: Profile) -> Obj:
    environment = service_config(profile, lambda component: component)
    environment["JWT_SECRET_KEY"] = _required("JWT_SECRET_KEY")
    for variable in secret_env(profile):
        environment[variable] = _required(variable)
    return environment


def _depends_on(backing: list[str]) -> Obj:
    return {name: {"condition": "service_healthy"} for name in backing}


def owui_service(profile: Profile, service: Service, backing: list[str]) -> Obj:
    environment = _environment(profile)
    environment["DATABASE_URL"] = database_url(
        profile, service.name, _required("POSTGRES_PASSWORD"), "postgres")
    # Migrated at start (advisory lock); PostgreSQL may start after the service: wait for it.
    environment["OWUI_DATABASE_WAIT"] = DATABASE_WAIT
    spec = profile.deploy.service(service.name)
    body: Obj = {
        "image": profile.deploy.image,
        "command": ["serve", service.name, "--host", "0.0.0.0", "--port", str(service.port)],
        "restart": "unless-stopped",
        "environment": environment,
        "healthcheck": _health(["CMD", "python", "-c", READY_CHECK.format(port=service.port)]),
        "networks": [NETWORK],
        # One host port, one gateway: Compose cannot publish a port for several replicas.
        # mode: podman-compose honours `replicas` only with it (Docker Compose's default).
        "deploy": {"mode": "replicated",
                   "replicas": 1 if service.url_variable is None else spec.replicas,
                   "resources": {"limits": {"cpus": spec.cpu_limit,
                                            "memory": spec.memory_limit}}},
    }
    if service.name == "retrieval" and profile.stores.files == "local":
        body["volumes"] = [f"files:{DATA_DIR}/files"]
    body["depends_on"] = _depends_on(backing)
    if service.url_variable is None:  # the gateway: the one door from outside
        body["ports"] = [f"{service.port}:{service.port}"]
    if tls.enabled(profile):
        tls.compose_service(profile, service, body)
    metrics.compose_service(profile, service, body)
    return body


def postgres(profile: Profile) -> Obj:
    return {
        "image": profile.deploy.postgres.image, "restart": "unless-stopped",
        "environment": {"POSTGRES_USER": POSTGRES_USER,
                        "POSTGRES_PASSWORD": _required("POSTGRES_PASSWORD")},
        "volumes": ["postgres:/var/lib/postgresql/data",
                    f"./{INITDB_FILE}:/docker-entrypoint-initdb.d/owui.sql:ro"],
        "healthcheck": _health(["CMD", "pg_isready", "-U", POSTGRES_USER, "-d", "postgres"]),
        "networks": [NETWORK],
    }


def chroma(profile: Profile) -> Obj:
    # The Chroma image has bash but neither curl nor wget: a bare TCP connect.
    probe = f"exec 3<>/dev/tcp/127.0.0.1/{CHROMA_PORT}"
    return {"image": profile.deploy.chroma.image, "restart": "unless-stopped",
            "volumes": ["chroma:/data"],
            "healthcheck": _health(["CMD", "bash", "-c", probe]),
            "networks": [NETWORK]}


def qdrant(profile: Profile) -> Obj:
    environment = {"QDRANT__TELEMETRY_DISABLED": "true"}
    if "QDRANT_API_KEY" in secret_env(profile):  # the key the services are given
        environment["QDRANT__SERVICE__API_KEY"] = _required("QDRANT_API_KEY")
    # Like Chroma's, the Qdrant image has bash but no curl: a bare TCP connect.
    probe = f"exec 3<>/dev/tcp/127.0.0.1/{QDRANT_PORT}"
    return {"image": profile.deploy.qdrant.image, "restart": "unless-stopped",
            "environment": environment, "volumes": ["qdrant:/qdrant/storage"],
            "healthcheck": _health(["CMD", "bash", "-c", probe]),
            "networks": [NETWORK]}


def redis(profile: Profile) -> Obj:
    return {"image": profile.deploy.redis.image, "restart": "unless-stopped",
            "command": ["redis-server", "--appendonly", "yes"],
            "volumes": ["redis:/data"],
            "healthcheck": _health(["CMD", "redis-cli", "ping"]),
            "networks": [NETWORK]}
