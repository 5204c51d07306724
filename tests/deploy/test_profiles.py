"""Profiles: the schema, its messages, and `owui profiles list|show`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from owui.cli.profiles import ProfileError, ServiceName, available_profiles, load_profile
from owui.core.services import NAMES
from tests.deploy.conftest import run_cli


def test_shipped_profiles_are_valid() -> None:
    assert {"local", "server", "ha"} <= set(available_profiles())
    assert set(ServiceName.__args__) == set(NAMES)  # type: ignore[attr-defined]
    server, ha = load_profile("server"), load_profile("ha")
    for profile in (server, ha):
        assert profile.stores.database == "postgres" and profile.stores.vectors == "chroma"
        assert profile.stores.redis and profile.env["DEFAULT_USER_ROLE"] == "pending"
    assert ha.deploy.service("gateway").autoscale is not None
    assert load_profile("local").store_env()["VECTOR_DB"] == "lancedb"


def test_errors_name_each_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({
        "stores": {"database": "mysql"}, "colour": "red",
        "deploy": {"services": {"chat": {"replicas": 0, "autoscale": {
            "min_replicas": 4, "max_replicas": 2}}}}}))
    with pytest.raises(ProfileError) as caught:
        load_profile(str(bad))
    message = str(caught.value)
    assert "stores.database: Input should be 'sqlite' or 'postgres' (got 'mysql')" in message
    assert "colour: unknown field" in message
    assert "deploy.services.chat.replicas" in message
    assert "max_replicas must be at least min_replicas" in message


def test_env_must_agree_with_stores(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("stores: {vectors: chroma}\nenv: {VECTOR_DB: lancedb}\n")
    with pytest.raises(ProfileError, match=r"env\.VECTOR_DB is 'lancedb' but stores\.vectors"):
        load_profile(str(mine))
    mine.write_text("- a list\n")
    with pytest.raises(ProfileError, match="is not a mapping"):
        load_profile(str(mine))


def test_profiles_commands(tmp_path: Path) -> None:
    code, out, _ = run_cli("profiles", "list")
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == available_profiles()
    code, out, _ = run_cli("profiles", "show", "ha")
    shown = yaml.safe_load(out)
    assert code == 0 and shown["deploy"]["services"]["chat"]["autoscale"]["max_replicas"] == 8
    own = tmp_path / "own.yaml"
    own.write_text("name: own\nstores: {database: postgres, vectors: chroma}\n")
    code, out, _ = run_cli("profiles", "show", str(own))
    assert code == 0 and yaml.safe_load(out)["stores"]["database"] == "postgres"
    code, _, err = run_cli("profiles", "show", "nope")
    assert code == 1 and "unknown profile 'nope'; available: ha, local, server" in err
