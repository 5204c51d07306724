"""tests/support/postgres.py: the throwaway cluster used where 127.0.0.1:5432 does not answer."""

from __future__ import annotations

import asyncpg

from tests.support.postgres import run_async, start_throwaway_cluster


async def _version(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def test_throwaway_cluster_starts_serves_and_goes_away() -> None:
    server = start_throwaway_cluster()
    base = server.base_dir
    try:
        assert server.port != 5432 and base is not None and base.exists()
        name = server.create_database()
        assert run_async(_version(server.dsn(name)))
        assert server.url(name).startswith("postgresql+asyncpg://postgres@127.0.0.1:")
    finally:
        server.stop()
    assert base is not None and not base.exists()
