"""One typed settings object, read from the environment once, at start.

Variable names follow Open WebUI and DESIGN.md; an invalid value stops start-up with a message
that names the variable.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    ByteSize,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Role = Literal["admin", "user", "pending"]

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _cores() -> int:
    """The cores this process may run on (its affinity, as in a container), else all."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _split_semicolons(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


def parse_duration(value: str) -> timedelta:
    """'30m', '12h', '7d', '4w' (Open WebUI's JWT_EXPIRES_IN style) to a timedelta."""
    match = _DURATION.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 30m, 12h, 7d or 4w")
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])


SemicolonList = Annotated[list[str], NoDecode, BeforeValidator(_split_semicolons)]


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# Open WebUI's comma-separated lists (YOUTUBE_LOADER_LANGUAGE="de,en").
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_commas)]


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


# What each optional http(s) URL setting should look like (Settings._check_http_url).
_OTLP_HINT = "use the collector's http(s)://HOST:4318 (OTLP over HTTP)"
HTTP_URL_HINTS = {
    "otel_exporter_otlp_endpoint": _OTLP_HINT, "otel_exporter_otlp_traces_endpoint": _OTLP_HINT,
    "youtube_loader_proxy_url": "use the proxy's http(s)://[USER:PASSWORD@]HOST:PORT",
}
LogLevel = Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper)]
# OTEL_TRACES_SAMPLER's values that the OpenTelemetry SDK knows.
SAMPLERS = frozenset({"always_on", "always_off", "traceidratio", "parentbased_always_on",
                      "parentbased_always_off", "parentbased_traceidratio"})


def _split_positions(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(";")] if value.strip() else []
    return value


# Paired by position with another list (OPENAI_API_KEYS with OPENAI_API_BASE_URLS): an empty
# entry is kept, so that "k1;;k3" leaves the second URL without a key.
PositionalList = Annotated[list[str], NoDecode, BeforeValidator(_split_positions)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    # TLS (core/tls.py says what each does). Declared before the service URLs: their check
    # reads OWUI_TLS_CA, and each key's check reads its certificate.
    ssl_certfile: Path | None = None
    ssl_keyfile: Annotated[Path | None, Field(validate_default=True)] = None
    owui_tls_ca: Path | None = None
    owui_tls_client_cert: Path | None = None
    owui_tls_client_key: Annotated[Path | None, Field(validate_default=True)] = None
    owui_tls_require_client_cert: bool = False

    # Where the services find each other.
    inference_service_url: str = "http://127.0.0.1:8001"
    agent_service_url: str = "http://127.0.0.1:8002"
    retrieval_service_url: str = "http://127.0.0.1:8003"
    chat_service_url: str = "http://127.0.0.1:8004"

    # Auth.
    jwt_secret_key: SecretStr | None = None
    jwt_expires_in: str = "7d"
    default_user_role: Role = "user"
    # First values of the admin's auth settings (the gateway's live config changes them).
    enable_signup: bool = True
    enable_api_keys: bool = True

    # Gateway.
    cors_allow_origins: SemicolonList = Field(default_factory=lambda: ["*"])
    # Per user: every API request (a flood guard no person reaches), then what costs (model
    # calls, uploads, searches); sign-ins per client address and failed ones per account.
    rate_limit: str = "6000/minute"
    model_rate_limit: str = "200/minute"
    upload_rate_limit: str = "600/minute"
    search_rate_limit: str = "200/minute"
    signin_rate_limit: str = "10/minute"
    signin_account_rate_limit: str = "15/3 minutes"
    redis_url: str | None = None
    # The Redis pub/sub channel of the chat service's socket.io replicas (one per deployment).
    websocket_redis_channel: str = Field(default="owui-socketio", min_length=1)
    max_body_size: ByteSize = ByteSize(100 * 1024 * 1024)
    max_json_size: ByteSize = ByteSize(16 * 1024 * 1024)
    upstream_connect_timeout: float = Field(default=5.0, gt=0)
    upstream_read_timeout: float = Field(default=300.0, gt=0)
    revocation_sync_interval: float = Field(default=1.0, gt=0)
    # Open WebUI's web app (its own variable names): a build the user already has, served
    # instead of the one `owui ui install` unpacks under OWUI_DATA_DIR/webapp.
    frontend_build_dir: Path | None = None
    static_dir: Path | None = None

    # Providers.
    enable_ollama_api: bool = True
    ollama_base_urls: SemicolonList = Field(default_factory=lambda: ["http://127.0.0.1:11434"])
    enable_openai_api: bool = True
    openai_api_base_urls: SemicolonList = Field(
        default_factory=lambda: ["https://api.openai.com/v1"])
    openai_api_keys: PositionalList = Field(default_factory=list)
    # Seconds a provider's model list is kept (Open WebUI's name); `?refresh=true` skips it.
    models_cache_ttl: float = Field(default=60.0, ge=0)
    # Requests in flight to one provider connection; more wait for a slot (connect timeout).
    inference_max_in_flight: int = Field(default=512, ge=1)

    # Retrieval.
    vector_db: Literal["lancedb", "chroma", "qdrant", "milvus"] = "lancedb"
    chroma_http_url: str | None = None
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    milvus_uri: str | None = None
    milvus_token: SecretStr | None = None
    embedding_model: str = "sentence-transformers/all-MiniLM-L6-v2"
    embedding_engine: Literal["", "sentence-transformers", "ollama", "openai"] = ""
    enable_rag_hybrid_search: bool = False
    web_search_engine: str | None = None
    # Chunking in tokens of the embedding model's tokenizer (Open WebUI's names).
    chunk_size: int = Field(default=200, ge=16, le=8192)
    chunk_overlap: int = Field(default=40, ge=0)
    rag_top_k: int = Field(default=5, ge=1, le=200)
    rag_relevance_threshold: float = Field(default=0.0, ge=0.0, le=1.0)
    rag_embedding_batch_size: int = Field(default=32, ge=1, le=1024)
    # Torch threads for the local model: all cores but one, so the other services keep a core
    # (on a 2-core host that is one: two threads per encode lose badly there when it is busy).
    rag_embedding_threads: int = Field(default_factory=lambda: max(1, _cores() - 1), ge=1,
                                       le=256)
    rag_file_max_size: float = Field(default=50.0, gt=0)  # MB, as in Open WebUI
    # Load the embedding model in the background at start (else on first use).
    rag_embedding_model_preload: bool = False
    # Rows in the vector table before an ANN (HNSW) index is built: LanceDB's flat scan costs
    # about 1.8 ms per 1,000 rows here (18 ms at 10,000), its HNSW search 4-5 ms.
    rag_vector_index_min_rows: int = Field(default=5_000, ge=256)
    # Web search: result pages on private or loopback addresses only when this is on.
    enable_rag_local_web_fetch: bool = False
    searxng_query_url: str | None = None
    brave_search_api_key: SecretStr | None = None
    brave_search_url: str = "https://api.search.brave.com/res/v1/web/search"
    tavily_api_key: SecretStr | None = None
    tavily_search_url: str = "https://api.tavily.com/search"
    web_search_result_count: int = Field(default=3, ge=1, le=50)
    web_search_concurrent_requests: int = Field(default=10, ge=1, le=100)
    web_loader_timeout: float = Field(default=10.0, gt=0)
    web_loader_max_size: ByteSize = ByteSize(5 * 1024 * 1024)
    # YouTube transcripts (retrieval/youtube.py), Open WebUI's names: the caption languages in
    # order of preference, and an http(s) proxy that every request to YouTube goes through.
    youtube_loader_language: CommaList = Field(default_factory=lambda: ["en"], min_length=1)
    youtube_loader_proxy_url: str | None = None

    # Agent: the run loop, tasks, and the code interpreter (limits per session; see
    # owui/agent/sandbox/__init__.py for what the OS enforces).
    agent_max_steps: int = Field(default=10, ge=1, le=100)
    agent_tool_timeout: float = Field(default=60.0, gt=0)
    task_model: str | None = None
    # Chat turns: the context, in tokens, that a turn's history is trimmed to when the request
    # names none (see owui/chat/turns/context.py for the policy).
    chat_context_tokens: int = Field(default=8192, ge=256, le=10_000_000)
    enable_code_execution: bool = True
    code_execution_sandbox: Literal["bwrap", "none"] = "bwrap"
    code_execution_timeout: float = Field(default=30.0, gt=0, le=3600)
    code_execution_cpu_limit: int = Field(default=300, ge=1)
    code_execution_memory_limit: ByteSize = ByteSize(1024 * 1024 * 1024)
    code_execution_max_processes: int = Field(default=32, ge=4, le=4096)
    code_execution_max_file_size: ByteSize = ByteSize(64 * 1024 * 1024)
    code_execution_output_limit: ByteSize = ByteSize(1024 * 1024)
    code_execution_idle_timeout: float = Field(default=600.0, gt=0)
    code_execution_max_sessions: int = Field(default=32, ge=1, le=1024)
    code_execution_uid: int = Field(default=61000, ge=1000)

    # Stores.
    database_url: str | None = None
    owui_data_dir: Path = Path.home() / ".owui"
    storage_provider: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None
    s3_bucket_name: str | None = None
    s3_region_name: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    # Operations. Logs: a level for all (OWUI_LOG_LEVEL) and per service
    # (OWUI_LOG_LEVEL_CHAT=debug); json, text, or auto (text on a terminal, else JSON).
    owui_log_level: LogLevel = "INFO"
    owui_log_level_gateway: LogLevel | None = None
    owui_log_level_inference: LogLevel | None = None
    owui_log_level_agent: LogLevel | None = None
    owui_log_level_retrieval: LogLevel | None = None
    owui_log_level_chat: LogLevel | None = None
    owui_log_format: Annotated[Literal["json", "text", "auto"], BeforeValidator(_lower)] = "auto"
    owui_access_log: bool = True
    # Prometheus metrics (core/metrics.py): /metrics on each service's own port, but the
    # gateway's, which is public; OWUI_METRICS_PORT serves it on a port of its own instead.
    owui_metrics: bool = True
    owui_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    owui_metrics_host: str = "127.0.0.1"
    # OpenTelemetry (core/tracing.py): the standard variables, checked here so that a wrong
    # one stops the service at start rather than being ignored with a warning.
    enable_otel: bool = False
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    otel_exporter_otlp_protocol: Literal["http/protobuf"] | None = None
    otel_exporter_otlp_traces_protocol: Literal["http/protobuf"] | None = None
    otel_traces_sampler: str | None = None
    otel_traces_sampler_arg: str | None = None
    # False where a separate step (`owui migrate`, a Kubernetes Job) migrates once.
    owui_migrate_on_start: bool = True
    # Seconds a starting service waits for its database to answer (0: exit at once, with why);
    # the Compose file sets it, since its services may start before PostgreSQL.
    owui_database_wait: float = Field(default=0.0, ge=0)

    @field_validator("ssl_certfile", "owui_tls_client_cert", mode="before")
    @classmethod
    def _check_certificate(cls, value: object) -> object:
        if value is None or value == "":
            return None
        from owui.core.tls import check_certificate

        return check_certificate(Path(str(value)))

    @field_validator("owui_tls_ca", mode="before")
    @classmethod
    def _check_ca(cls, value: object) -> object:
        if value is None or value == "":
            return None
        from owui.core.tls import read_certificates

        read_certificates(Path(str(value)))
        return value

    @field_validator("ssl_keyfile", "owui_tls_client_key", mode="before")
    @classmethod
    def _check_key(cls, value: object, info: ValidationInfo) -> object:
        from owui.core import tls

        cert_field = "ssl_certfile" if info.field_name == "ssl_keyfile" else "owui_tls_client_cert"
        cert_variable = cert_field.upper()
        if cert_field not in info.data:  # the certificate was refused: that error says why
            return None
        cert = info.data[cert_field]
        if value is None or value == "":
            if cert is not None:
                raise ValueError(f"not set, but {cert_variable} is: set both or neither")
            return None
        if cert is None:
            raise ValueError(f"set, but {cert_variable} is not: set both or neither")
        key = tls.check_key(Path(str(value)))
        tls.check_pair(cert, key, cert_variable)
        return key

    @field_validator("owui_tls_require_client_cert")
    @classmethod
    def _check_mutual_tls(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("owui_tls_ca") is None:
            raise ValueError("needs OWUI_TLS_CA, the CA that signs the services' certificates")
        if value and info.data.get("ssl_certfile") is None:
            raise ValueError("needs SSL_CERTFILE and SSL_KEYFILE: a service asks for client "
                             "certificates only while it serves HTTPS")
        return value

    @field_validator("inference_service_url", "agent_service_url", "retrieval_service_url",
                     "chat_service_url")
    @classmethod
    def _check_service_url(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("owui_tls_ca") is not None and urlsplit(value).scheme != "https":
            raise ValueError(f"{value} is plain HTTP, but OWUI_TLS_CA is set: the services "
                             "speak HTTPS to each other, so use https://")
        return value

    @field_validator("otel_traces_sampler")
    @classmethod
    def _check_sampler(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in SAMPLERS:
            raise ValueError(f"unknown sampler; use one of {', '.join(sorted(SAMPLERS))}")
        return value.strip().lower() if value is not None else None

    @field_validator("otel_traces_sampler_arg")
    @classmethod
    def _check_sampler_arg(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        try:
            ratio = float(value)
        except ValueError:
            ratio = -1.0
        if not 0.0 <= ratio <= 1.0:
            raise ValueError("use a sampling ratio from 0 to 1, such as 0.1")
        return value

    @field_validator("otel_exporter_otlp_endpoint", "otel_exporter_otlp_traces_endpoint",
                     "youtube_loader_proxy_url")
    @classmethod
    def _check_http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        """An optional http(s) URL: empty is unset; else what to give instead."""
        if value is not None and value.strip() == "":
            return None
        if value is not None and not _is_http_url(value):
            raise ValueError(HTTP_URL_HINTS[info.field_name or ""])
        return value

    @property
    def tracing_enabled(self) -> bool:
        return (self.enable_otel or self.otel_exporter_otlp_endpoint is not None
                or self.otel_exporter_otlp_traces_endpoint is not None)

    def log_level_for(self, service: str) -> str:
        return getattr(self, f"owui_log_level_{service}", None) or self.owui_log_level

    @field_validator("jwt_secret_key", mode="before")
    @classmethod
    def _check_secret(cls, value: object) -> object:
        if value is None or value == "":
            return None  # unset: the key made once in the data dir is used
        if isinstance(value, str) and len(value) < 32:
            raise ValueError("use at least 32 characters, e.g. from "
                             "python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return value

    @field_validator("jwt_expires_in")
    @classmethod
    def _check_duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("rate_limit", "model_rate_limit", "upload_rate_limit",
                     "search_rate_limit", "signin_rate_limit", "signin_account_rate_limit")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as 300/minute or 10/second") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        return value

    @field_validator("qdrant_url")
    @classmethod
    def _check_qdrant_url(cls, value: str | None) -> str | None:
        if value and not (value.startswith("file:") or _is_http_url(value)):
            raise ValueError("use http(s)://HOST:6333 for a Qdrant server, or file:PATH for "
                             "qdrant-client's embedded local mode (development and tests)")
        return value

    @field_validator("milvus_uri")
    @classmethod
    def _check_milvus_uri(cls, value: str | None) -> str | None:
        if value and not (value.endswith(".db") or _is_http_url(value, ("tcp",))):
            raise ValueError("use http(s)://HOST:19530 for a Milvus server, or a PATH ending "
                             "in .db for Milvus Lite")
        return value

    @property
    def jwt_expires(self) -> timedelta:
        return parse_duration(self.jwt_expires_in)

    @cached_property
    def jwt_secret(self) -> str:
        if self.jwt_secret_key is not None:
            return self.jwt_secret_key.get_secret_value()
        return shared_secret(self.owui_data_dir)

    def database_url_for(self, service: str) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.owui_data_dir / f'{service}.db'}"

    def service_url(self, service: str) -> str:
        return str(getattr(self, f"{service}_service_url")).rstrip("/")


def _is_http_url(value: str, also: tuple[str, ...] = ()) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https", *also) and bool(parts.hostname)


class SettingsError(SystemExit):
    """Start-up stops here: the message names each variable at fault."""


def shared_secret(data_dir: Path) -> str:
    """The laptop's signing key: made once in the data dir, read by every service after."""
    path = data_dir / "jwt_secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another service made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            variable = str(error["loc"][0]).upper() if error["loc"] else "environment"
            got = os.environ.get(variable)
            shown = "" if got is None or "secret" in variable.lower() else f" (got {got!r})"
            lines.append(f"  {variable}: {error['msg']}{shown}")
        raise SettingsError("Invalid configuration:\n" + "\n".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
