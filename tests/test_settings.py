"""Settings: read once from the environment; a bad value names its variable."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from owui.core.config import Settings, SettingsError, load_settings, parse_duration, shared_secret
from tests.support.procs import free_port


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("JWT_EXPIRES_IN", "RATE_LIMIT", "DATABASE_URL", "OLLAMA_BASE_URLS",
                 "DEFAULT_USER_ROLE", "VECTOR_DB", "JWT_SECRET_KEY", "MAX_BODY_SIZE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OWUI_DATA_DIR", str(tmp_path))


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.database_url_for("chat") == f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
    assert settings.default_user_role == "user"
    assert settings.jwt_expires == timedelta(days=7)
    assert settings.service_url("inference") == "http://127.0.0.1:8001"


def test_lists_are_semicolon_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URLS", "http://a:11434; http://b:11434;")
    monkeypatch.setenv("MAX_BODY_SIZE", "5MB")
    settings = load_settings()
    assert settings.ollama_base_urls == ["http://a:11434", "http://b:11434"]
    assert int(settings.max_body_size) == 5_000_000


@pytest.mark.parametrize(("variable", "value"), [
    ("JWT_EXPIRES_IN", "forever"), ("RATE_LIMIT", "lots"), ("DEFAULT_USER_ROLE", "root"),
    ("VECTOR_DB", "sqlite"), ("DATABASE_URL", "mysql://x"), ("MAX_BODY_SIZE", "big"),
])
def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str,
                                          value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert f"{variable}:" in str(caught.value) and repr(value) in str(caught.value)


def test_short_signing_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET_KEY", "t0p-s3cr3t")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "JWT_SECRET_KEY: Value error, use at least 32 characters" in str(caught.value)
    assert "t0p-s3cr3t" not in str(caught.value)
    monkeypatch.setenv("JWT_SECRET_KEY", "")
    assert load_settings().jwt_secret_key is None


def test_secret_values_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "x" * 5)
    assert "xxxxx" not in repr(Settings())


def test_durations() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("4w") == timedelta(weeks=4)
    with pytest.raises(ValueError):
        parse_duration("-1")


def test_shared_secret_is_made_once(tmp_path: Path) -> None:
    first = shared_secret(tmp_path)
    assert len(first) >= 43 and shared_secret(tmp_path) == first
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o777 == 0o600


def test_service_stops_at_start_naming_the_variable(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "owui", "serve", "chat", "--port",
                             str(free_port())],
                            env={"PATH": "/usr/bin:/bin", "OWUI_DATA_DIR": str(tmp_path),
                                 "RATE_LIMIT": "often"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "RATE_LIMIT" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
