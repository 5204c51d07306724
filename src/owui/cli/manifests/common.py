"""What both targets share: the checks, the secrets, and the environment the services get."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from owui.cli.profiles import Profile
from owui.core.services import SERVICES

DATA_DIR = "/data"
POSTGRES_USER = "owui"
POSTGRES_PORT = 5432
CHROMA_PORT = 8000
QDRANT_PORT = 6333
REDIS_PORT = 6379
UID = 10001  # the image's user (see the Dockerfile)
# Words that mark a variable as secret: such values go to a Secret / .env, never a ConfigMap.
SECRET_WORDS = ("KEY", "SECRET", "PASSWORD", "TOKEN", "CREDENTIAL")


class RenderError(Exception):
    """A profile that cannot be rendered; the message says why and what to change."""


@dataclass(frozen=True)
class Secrets:
    jwt_secret_key: str
    postgres_password: str

    @classmethod
    def make(cls, jwt_secret_key: str | None = None) -> Secrets:
        return cls(jwt_secret_key or secrets.token_urlsafe(48), secrets.token_urlsafe(24))


def check(profile: Profile) -> None:
    stores = profile.stores
    if stores.database != "postgres" or stores.vectors == "lancedb":
        raise RenderError(
            f"profile {profile.name} keeps its stores on one machine (database "
            f"{stores.database}, vectors {stores.vectors}); rendering needs "
            "stores.database: postgres and stores.vectors: chroma, qdrant or milvus, as in "
            "--profile server")
    if stores.vectors == "milvus" and not profile.deploy.milvus.external_url:
        raise RenderError(
            "stores.vectors: milvus needs deploy.milvus.external_url (http://HOST:19530): "
            "owui does not run Milvus beside the services, since Milvus standalone needs etcd "
            "and an object store (MinIO or S3) too; deploy it on its own (its Helm chart or "
            "operator, or Zilliz Cloud) and point there")
    retrieval = profile.deploy.service("retrieval")
    if stores.files == "local" and (retrieval.replicas > 1 or retrieval.autoscale):
        raise RenderError("deploy.services.retrieval: several replicas cannot share local "
                          "files; use one replica or stores.files: s3")


def is_secret(variable: str) -> bool:
    upper = variable.upper()
    return upper == "DATABASE_URL" or any(word in upper for word in SECRET_WORDS)


def database_name(service: str) -> str:
    return f"owui_{service}"


def initdb_sql() -> str:
    """Run by the PostgreSQL image on its first start: one database per service."""
    return "".join(f"CREATE DATABASE {database_name(s.name)};\n" for s in SERVICES)


def service_config(profile: Profile, host: Callable[[str], str]) -> dict[str, str]:
    """The non-secret environment every service gets; `host` names a component's host."""
    deploy = profile.deploy
    env = {key: value for key, value in profile.store_env().items() if not is_secret(key)}
    env["OWUI_DATA_DIR"] = DATA_DIR
    env.update(vector_store_env(profile, host))
    if profile.stores.redis:
        env["REDIS_URL"] = deploy.redis.external_url or f"redis://{host('redis')}:{REDIS_PORT}/0"
    for service in SERVICES:
        if service.url_variable:
            env[service.url_variable] = f"http://{host(service.name)}:{service.port}"
    return dict(sorted(env.items()))


def vector_store_env(profile: Profile, host: Callable[[str], str]) -> dict[str, str]:
    """The address of the chosen vector store: beside the services, or external."""
    deploy = profile.deploy
    if profile.stores.vectors == "qdrant":
        return {"QDRANT_URL": deploy.qdrant.external_url
                or f"http://{host('qdrant')}:{QDRANT_PORT}"}
    if profile.stores.vectors == "milvus":
        return {"MILVUS_URI": str(deploy.milvus.external_url)}
    return {"CHROMA_HTTP_URL": deploy.chroma.external_url
            or f"http://{host('chroma')}:{CHROMA_PORT}"}


def backing_vector_store(profile: Profile) -> str | None:
    """The vector store to run beside the services, if any (never Milvus: see Milvus)."""
    vectors = profile.stores.vectors
    if vectors in ("chroma", "qdrant") and not getattr(profile.deploy, vectors).external_url:
        return vectors
    return None


def secret_env(profile: Profile) -> dict[str, str]:
    return {key: value for key, value in sorted(profile.env.items()) if is_secret(key)}


def database_url(profile: Profile, service: str, password: str, host: str) -> str:
    external = profile.deploy.postgres.external_url
    if external:
        from sqlalchemy.engine import make_url

        return make_url(external).set(database=database_name(service)).render_as_string(
            hide_password=False)
    return (f"postgresql+asyncpg://{POSTGRES_USER}:{password}@{host}:{POSTGRES_PORT}/"
            f"{database_name(service)}")


def dump(documents: list[dict]) -> str:
    import yaml

    return "---\n".join(yaml.safe_dump(doc, sort_keys=False, width=100) for doc in documents)
