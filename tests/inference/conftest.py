"""A stack of its own for the inference tests: fake providers (real processes speaking Ollama's
and OpenAI's protocols), an inference service pointed at them through the environment, and a
gateway in front; one admin, one user with a JWT and an API key."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import bearer, signup
from tests.support.postgres import (  # noqa: F401 (fixtures)
    make_postgres_database,
    postgres_server,
)
from tests.support.procs import Proc, closed_port, free_port, spawn, start_service

OPENAI_A_MODELS = ("gpt-fake", "gpt-fake-tools", "gpt-fake-slow", "gpt-fake-broken",
                   "gpt-fake-errevent", "gpt-fake-echo", "gpt-fake-status-400",
                   "text-embedding-fake", "shared-model")
OLLAMA_MODELS = ("llama-fake:latest", "llama-fake-tools:latest", "llama-fake-slow:latest",
                 "llama-fake-broken:latest", "llama-fake-errline:latest",
                 "llama-fake-echo:latest", "embed-fake:latest")
PROVIDER_KEY = "sk-provider-a"
CONNECT_TIMEOUT = 1.5


@dataclass
class Infra:
    gateway: str
    inference: str
    fakes: dict[str, Proc]
    dead_url: str
    admin_token: str
    user_token: str
    user_key: str
    log_dir: Path
    # The connections as the environment gave them, read before any test changed them.
    seeded: list[dict[str, object]]

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.admin_token)

    @property
    def user(self) -> dict[str, str]:
        return bearer(self.user_token)

    def fake_stats(self, name: str) -> dict[str, object]:
        return httpx.get(self.fakes[name].url + "/stats", timeout=10).json()


def _fake(module: str, name: str, env: dict[str, str], log_dir: Path) -> Proc:
    port = free_port()
    return spawn([sys.executable, "-m", "uvicorn", f"tests.fakes.{module}:app", "--port",
                  str(port), "--log-level", "warning"], name, port, env, log_dir)


MODEL_PERMISSIONS = {"workspace": ("models", "models_import", "models_export"),
                     "sharing": ("models", "public_models")}


def _let_users_make_models(gateway: str, admin: dict[str, str]) -> None:
    """Open WebUI's defaults let users make no models: these tests' users may (make, import,
    export and share them); test_models_permissions turns it off for a while."""
    url = f"{gateway}/api/v1/users/default/permissions"
    defaults = httpx.get(url, headers=admin, timeout=30).json()
    for section, names in MODEL_PERMISSIONS.items():
        defaults[section].update(dict.fromkeys(names, True))
    httpx.post(url, headers=admin, json=defaults, timeout=30).raise_for_status()


@pytest.fixture(scope="package")
def infra(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[Infra]:
    log_dir = tmp_path_factory.mktemp("inference-logs")
    fakes: dict[str, Proc] = {}
    started: list[Proc] = []
    try:
        fakes["openai-a"] = _fake("openai", "openai-a", {
            "FAKE_MODELS": ";".join(OPENAI_A_MODELS), "FAKE_API_KEY": PROVIDER_KEY}, log_dir)
        fakes["openai-b"] = _fake("openai", "openai-b",
                                  {"FAKE_MODELS": "shared-model;gpt-b-only"}, log_dir)
        # Lists its models like a healthy provider, then fails every call: failed over.
        fakes["openai-bad"] = _fake("openai", "openai-bad",
                                    {"FAKE_MODELS": "shared-model", "FAKE_STATUS": "503"},
                                    log_dir)
        # Accepts connections and never answers: must not hold up the model list.
        fakes["openai-hang"] = _fake("openai", "openai-hang",
                                     {"FAKE_MODELS": "hang-model", "FAKE_DELAY": "120"}, log_dir)
        fakes["ollama"] = _fake("ollama", "ollama", {"FAKE_MODELS": ";".join(OLLAMA_MODELS)},
                                log_dir)
        started += fakes.values()
        for proc in fakes.values():
            proc.wait_ready(path="/healthz")
        dead_url = f"http://127.0.0.1:{closed_port()}"
        env = {"JWT_SECRET_KEY": jwt_secret, "OWUI_LOG_FORMAT": "text",
               "OWUI_DATA_DIR": str(tmp_path_factory.mktemp("inference-data"))}
        urls = [fakes[n].url + "/v1" for n in ("openai-a", "openai-b", "openai-bad",
                                               "openai-hang")]
        inference = start_service("inference", {
            **env, "OLLAMA_BASE_URLS": f"{fakes['ollama'].url};{dead_url}",
            "OPENAI_API_BASE_URLS": ";".join(urls), "OPENAI_API_KEYS": f"{PROVIDER_KEY};;;",
            "UPSTREAM_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT), "MODELS_CACHE_TTL": "30",
            # No agent here: the model list shows no action or filter functions.
            "AGENT_SERVICE_URL": dead_url}, log_dir)
        started.append(inference)
        gateway = start_service("gateway", {
            **env, "OWUI_DATA_DIR": str(tmp_path_factory.mktemp("inference-gw")),
            "INFERENCE_SERVICE_URL": inference.url, "RATE_LIMIT": "100000/minute",
            "SIGNIN_RATE_LIMIT": "100000/minute"}, log_dir)
        started.append(gateway)
        admin = signup(gateway.url, name="Admin", email="admin@inference.test")
        user = signup(gateway.url, name="User", email="user@inference.test")
        key = httpx.post(f"{gateway.url}/api/v1/auths/api_key", headers=bearer(user["token"]),
                         timeout=30).json()["api_key"]
        _let_users_make_models(gateway.url, bearer(admin["token"]))
        seeded = httpx.get(f"{gateway.url}/api/v1/inference/connections",
                           headers=bearer(admin["token"]), timeout=30)
        seeded.raise_for_status()
        yield Infra(gateway.url, inference.url, fakes, dead_url, str(admin["token"]),
                    str(user["token"]), key, log_dir, seeded.json())
    finally:
        for proc in reversed(started):
            proc.stop()


@pytest.fixture(scope="package")
def api(infra: Infra) -> str:
    """The OpenAI-compatible base URL through the gateway."""
    return f"{infra.gateway}/api/v1/inference"
