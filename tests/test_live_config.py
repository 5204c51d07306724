"""owui.core.live_config: settings changed at run time, on SQLite and PostgreSQL, seen by a
second replica (another LiveConfig on the same database) after its next refresh."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from owui.core.db import Database
from owui.core.errors import BadRequestError
from owui.core.live_config import LiveConfig, live_config_table
from tests.support.postgres import make_postgres_database, postgres_server  # noqa: F401

DEFAULTS = {"ENABLE_SIGNUP": True, "DEFAULT_USER_ROLE": "pending", "URLS": ["http://a"]}


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    else:
        maker: Callable[[], str] = request.getfixturevalue("make_postgres_database")
        url = maker()
    db = Database(url)
    async with db.engine.begin() as connection:
        await connection.run_sync(live_config_table(sa.MetaData(), "test").metadata.create_all)
    yield db
    await db.dispose()


def _config(db: Database) -> LiveConfig:
    return LiveConfig(db, live_config_table(sa.MetaData(), "test"), DEFAULTS, interval=0.05)


async def test_defaults_until_changed_then_every_replica_sees_the_change(
        database: Database) -> None:
    one, two = _config(database), _config(database)
    await one.start()
    await two.start()
    try:
        assert two["ENABLE_SIGNUP"] is True and two.snapshot() == DEFAULTS
        seen: list[set[str]] = []
        two.on_change(seen.append)
        await one.update({"ENABLE_SIGNUP": False, "URLS": ["http://a", "http://b"]})
        assert one["ENABLE_SIGNUP"] is False  # at once where it was made
        await two.refresh()
        assert two["ENABLE_SIGNUP"] is False and two["URLS"] == ["http://a", "http://b"]
        assert seen == [{"ENABLE_SIGNUP", "URLS"}]
        await one.update({"ENABLE_SIGNUP": True})  # a second write of the same key
        await two.refresh()
        assert two["ENABLE_SIGNUP"] is True
        third = _config(database)  # a replica started later reads what is stored
        await third.refresh()
        assert third.snapshot() == {**DEFAULTS, "URLS": ["http://a", "http://b"]}
    finally:
        await one.stop()
        await two.stop()


async def test_an_unknown_key_changes_nothing(database: Database) -> None:
    config = _config(database)
    with pytest.raises(BadRequestError, match=r"NOPE.*Known settings: DEFAULT_USER_ROLE"):
        await config.update({"ENABLE_SIGNUP": False, "NOPE": 1})
    await config.refresh()
    assert config["ENABLE_SIGNUP"] is True


async def test_a_snapshot_is_a_copy(database: Database) -> None:
    config = _config(database)
    config.snapshot()["URLS"].append("http://changed")
    assert config["URLS"] == ["http://a"]
