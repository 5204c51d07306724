"""Profiles: YAML files with a `name`, a `description`, the `env` the services run with, the
`stores` they use and, for `owui render`, how they are `deploy`ed. Validated by pydantic."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_PROFILE = "local"
ServiceName = Literal["gateway", "inference", "agent", "retrieval", "chat"]


class ProfileError(Exception):
    """A profile that cannot be found, read or validated; the message says which and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stores(_Strict):
    """Where the services keep their data; `env` may not contradict it."""

    database: Literal["sqlite", "postgres"] = "sqlite"
    vectors: Literal["lancedb", "chroma", "qdrant", "milvus"] = "lancedb"
    files: Literal["local", "s3"] = "local"
    redis: bool = False  # shared rate limits and token revocation across replicas


class Autoscale(_Strict):
    min_replicas: int = Field(2, ge=1)
    max_replicas: int = Field(6, ge=1)
    cpu_percent: int = Field(70, ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Autoscale:
        if self.max_replicas < self.min_replicas:
            raise ValueError("max_replicas must be at least min_replicas")
        return self


class ServiceDeploy(_Strict):
    replicas: int = Field(1, ge=1)
    autoscale: Autoscale | None = None
    cpu: str = "100m"
    memory: str = "256Mi"
    cpu_limit: str = "1"
    memory_limit: str = "1Gi"


class Backing(_Strict):
    """A store run beside the services, unless `external_url` points at one elsewhere."""

    image: str
    storage: str = "10Gi"
    external_url: str | None = None


class Postgres(Backing):
    image: str = "postgres:17-alpine"


class Chroma(Backing):
    image: str = "chromadb/chroma:1.5.9"


class Qdrant(Backing):
    image: str = "qdrant/qdrant:v1.18.1"


class Milvus(_Strict):
    """Never run beside the services: Milvus standalone needs etcd and an object store (MinIO
    or S3) besides itself, so it is deployed on its own (its Helm chart or operator, or Zilliz
    Cloud) and `external_url` points at it."""

    external_url: str | None = Field(None, pattern=r"^(https?|tcp)://")


class Redis(Backing):
    image: str = "redis:7-alpine"
    storage: str = "1Gi"


class Tls(_Strict):
    """HTTPS for a rendered deployment (core/tls.py and cli/manifests/tls.py): each service
    serves its own certificate, the services verify each other against the CA."""

    enabled: bool = False
    mutual: bool = False  # OWUI_TLS_REQUIRE_CLIENT_CERT: only owui's services reach each other
    # Compose: the folder `owui certs` wrote, beside the Compose file, mounted read-only.
    certs_dir: str = "./tls"
    # Kubernetes: a cert-manager Certificate per service (and the Ingress's) from this issuer;
    # without it, the Secrets owui-tls-<service> (tls.crt, tls.key, ca.crt) are made by hand.
    cert_manager_issuer: str | None = None
    cert_manager_issuer_kind: Literal["Issuer", "ClusterIssuer"] = "Issuer"


class Monitoring(_Strict):
    """Prometheus scraping of a rendered deployment (cli/manifests/metrics.py): the scrape
    annotations are always there; the NetworkPolicies let only the scraper reach the metrics
    ports, the scraper being the pods of `namespace` (matching `pod_labels`, when given)."""

    namespace: str = Field("monitoring", min_length=1)
    pod_labels: dict[str, str] = Field(default_factory=dict)
    # A prometheus-operator ServiceMonitor (monitoring.coreos.com/v1) beside the Services.
    service_monitor: bool = False
    interval: str = Field("30s", pattern=r"^[0-9]+(ms|s|m|h)$")


class Otel(_Strict):
    """OpenTelemetry traces of a rendered deployment: on when `endpoint` (OTLP/HTTP) is set."""

    endpoint: str | None = Field(None, pattern=r"^https?://")
    sampler: Literal["always_on", "always_off", "traceidratio", "parentbased_always_on",
                     "parentbased_always_off", "parentbased_traceidratio"] = (
        "parentbased_traceidratio")
    sampler_arg: float = Field(0.1, ge=0, le=1)


class Deploy(_Strict):
    image: str = "owui:latest"
    ingress_host: str | None = None
    files_storage: str = "10Gi"
    services: dict[ServiceName, ServiceDeploy] = Field(default_factory=dict)
    postgres: Postgres = Postgres()
    chroma: Chroma = Chroma()
    qdrant: Qdrant = Qdrant()
    milvus: Milvus = Milvus()
    redis: Redis = Redis()
    tls: Tls = Tls()
    monitoring: Monitoring = Monitoring()
    otel: Otel = Otel()

    def service(self, name: str) -> ServiceDeploy:
        return self.services.get(name) or ServiceDeploy()  # type: ignore[call-overload]

    @field_validator("postgres")
    @classmethod
    def _asyncpg(cls, value: Postgres) -> Postgres:
        url = value.external_url
        if url and not url.startswith("postgresql+asyncpg://"):
            raise ValueError("external_url must look like postgresql+asyncpg://USER@HOST/DB")
        return value


_STORE_VARIABLES = {"VECTOR_DB": "vectors", "STORAGE_PROVIDER": "files"}
# The images a deployment runs, by the name `owui render --image NAME=REF` gives them: owui's
# own is deploy.image, each store's deploy.<store>.image.
IMAGE_NAMES = ("owui", "postgres", "chroma", "qdrant", "redis")


class Profile(_Strict):
    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    env: dict[str, str] = Field(default_factory=dict)
    stores: Stores = Stores()
    deploy: Deploy = Deploy()
    source: str = Field("", exclude=True)

    @field_validator("env", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("must be a mapping of variable to value")
        return {str(key): _env_value(item) for key, item in value.items()}

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        for variable, store in _STORE_VARIABLES.items():
            chosen = getattr(self.stores, store)
            if variable in self.env and self.env[variable] != chosen:
                raise ValueError(f"env.{variable} is {self.env[variable]!r} but "
                                 f"stores.{store} is {chosen!r}; set one of them")
        return self

    def with_images(self, images: dict[str, str]) -> Profile:
        """The profile with some images named anew (a private registry, a local build)."""
        unknown = sorted(set(images) - set(IMAGE_NAMES))
        if unknown:
            raise ProfileError(f"unknown image {', '.join(unknown)}; the images are "
                               f"{', '.join(IMAGE_NAMES)}")
        deploy = self.deploy
        changes: dict[str, object] = {}
        for name, reference in images.items():
            if name == "owui":
                changes["image"] = reference
            else:
                changes[name] = getattr(deploy, name).model_copy(update={"image": reference})
        return self.model_copy(update={"deploy": deploy.model_copy(update=changes)})

    def store_env(self) -> dict[str, str]:
        """The variables that follow from `stores`, under the profile's own `env`."""
        return {"VECTOR_DB": self.stores.vectors, "STORAGE_PROVIDER": self.stores.files,
                **self.env}


def profile_dirs() -> list[Traversable]:
    """The wheel carries profiles inside the package (hatch force-include); an editable install
    has them only at the repository root, three levels above this package."""
    dirs: list[Traversable] = []
    packaged = resources.files("owui") / "profiles"
    if packaged.is_dir():
        dirs.append(packaged)
    repo_root = Path(__file__).resolve().parents[3] / "profiles"
    if repo_root.is_dir():
        dirs.append(repo_root)
    return dirs


def available_profiles() -> list[str]:
    names = {entry.name.removesuffix(".yaml") for directory in profile_dirs()
             for entry in directory.iterdir() if entry.name.endswith(".yaml")}
    return sorted(names)


def find_profile(name_or_path: str) -> Traversable:
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise ProfileError(f"profile file {name_or_path} does not exist")
        return path
    for directory in profile_dirs():
        candidate = directory / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
    known = ", ".join(available_profiles()) or "none found"
    raise ProfileError(f"unknown profile {name_or_path!r}; available: {known}")


def _env_value(value: object) -> str:
    # YAML reads `true` and `8000` as bool and int; the services read the environment as
    # text, and pydantic wants "true"/"false" rather than Python's "True".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_env_value(item) for item in value)  # Open WebUI's list separator
    return "" if value is None else str(value)


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"profile {source} is not valid:"]
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        got = "" if error["type"] == "missing" else f" (got {error['input']!r})"
        if error["type"] == "extra_forbidden":
            message, got = "unknown field", ""
        elif isinstance(error["input"], dict):
            got = ""
        lines.append(f"  {where}: {message}{got}")
    return "\n".join(lines)


def parse_profile(data: Any, source: str) -> Profile:
    if not isinstance(data, dict):
        raise ProfileError(f"profile {source} is not a mapping")
    fields = {"name": Path(source).stem, **data, "source": source}
    try:
        return Profile.model_validate(fields)
    except ValidationError as exc:
        raise ProfileError(_describe(exc, source)) from None


def load_profile(name_or_path: str = DEFAULT_PROFILE) -> Profile:
    import yaml

    source = find_profile(name_or_path)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"cannot read profile {source}: {exc}") from None
    return parse_profile(data, str(source))

