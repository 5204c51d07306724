"""A docker-compose.yml (and the .env with its secrets) from a profile."""

from __future__ import annotations

from typing import Any

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
NETWORK = "owui"
# The image has Python but no curl; 127.0.0.1 since the service listens on every interface.
READY_CHECK = ("import sys, urllib.request; "
               "urllib.request.urlopen('http://127.0.0.1:{port}/readyz', timeout=3)")


def render(profile: Profile, secrets: Secrets | None) -> dict[str, str]:
    """File name to text; the .env only when `secrets` is given."""
    from owui.cli.manifests.common import dump

    files = {COMPOSE_FILE: dump([compose(profile)])}
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
    services["migrate"] = migrate(profile, backing)
    for service in SERVICES:
        services[service.name] = owui_service(profile, service, backing)
    doc: Obj = {"name": "owui", "services": services, "networks": {NETWORK: {}},
                "volumes": volumes}
    if "postgres" in services:
        doc["configs"] = {"postgres-initdb": {"content": initdb_sql()}}
    return doc


def _environment(profile: Profile) -> Obj:
    environment = service_config(profile, lambda component: component)
    environment["JWT_SECRET_KEY"] = _required("JWT_SECRET_KEY")
    for variable in secret_env(profile):
        environment[variable] = _required(variable)
    return environment


def _depends_on(backing: list[str]) -> Obj:
    return {name: {"condition": "service_healthy"} for name in backing}


def migrate(profile: Profile, backing: list[str]) -> Obj:
    """One-shot `owui migrate` (every service's database); the services wait for it."""
    environment = _environment(profile)
    for service in SERVICES:
        environment[f"DATABASE_URL_{service.name.upper()}"] = database_url(
            profile, service.name, _required("POSTGRES_PASSWORD"), "postgres")
    body: Obj = {"image": profile.deploy.image, "command": ["migrate"], "restart": "no",
                 "environment": environment, "networks": [NETWORK]}
    if "postgres" in backing:
        body["depends_on"] = _depends_on(["postgres"])
    return body


def owui_service(profile: Profile, service: Service, backing: list[str]) -> Obj:
    environment = _environment(profile)
    environment["DATABASE_URL"] = database_url(
        profile, service.name, _required("POSTGRES_PASSWORD"), "postgres")
    environment["OWUI_MIGRATE_ON_START"] = "false"  # the migrate service did it, once
    spec = profile.deploy.service(service.name)
    body: Obj = {
        "image": profile.deploy.image,
        "command": ["serve", service.name, "--host", "0.0.0.0", "--port", str(service.port)],
        "restart": "unless-stopped",
        "environment": environment,
        "healthcheck": _health(["CMD", "python", "-c", READY_CHECK.format(port=service.port)]),
        "networks": [NETWORK],
        # One host port, one gateway: Compose cannot publish a port for several replicas.
        "deploy": {"replicas": 1 if service.url_variable is None else spec.replicas,
                   "resources": {"limits": {"cpus": spec.cpu_limit,
                                            "memory": spec.memory_limit}}},
    }
    if service.name == "retrieval" and profile.stores.files == "local":
        body["volumes"] = [f"files:{DATA_DIR}/files"]
    body["depends_on"] = {**_depends_on(backing),
                          "migrate": {"condition": "service_completed_successfully"}}
    if service.url_variable is None:  # the gateway: the one door from outside
        body["ports"] = [f"{service.port}:{service.port}"]
    return body


def postgres(profile: Profile) -> Obj:
    return {
        "image": profile.deploy.postgres.image, "restart": "unless-stopped",
        "environment": {"POSTGRES_USER": POSTGRES_USER,
                        "POSTGRES_PASSWORD": _required("POSTGRES_PASSWORD")},
        "configs": [{"source": "postgres-initdb",
                     "target": "/docker-entrypoint-initdb.d/owui.sql"}],
        "volumes": ["postgres:/var/lib/postgresql/data"],
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
