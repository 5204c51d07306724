"""How database failures reach a client: a lost or refused connection and an exhausted pool are
503 with Retry-After and a detail naming the service's database; any other driver error stays
a 500 (a bug to look at, not an outage to wait out)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from owui.core.errors import install_error_handlers

FAILURES: dict[str, Exception] = {
    "refused": OperationalError("SELECT 1", None, ConnectionRefusedError(111, "refused")),
    "closed": InterfaceError("SELECT 1", None, Exception("connection is closed")),
    "dropped": DBAPIError("SELECT 1", None, Exception("terminating connection"),
                          connection_invalidated=True),
    "pool": PoolTimeout("QueuePool limit of size 5 overflow 10 reached"),
    "bug": DBAPIError("SELEC 1", None, Exception("syntax error")),
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.state.service = "chat"
    install_error_handlers(app)

    @app.get("/fail/{kind}")
    async def fail(kind: str) -> None:
        raise FAILURES[kind]

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("kind", ["refused", "closed", "dropped", "pool"])
def test_an_outage_is_503_naming_the_database(client: TestClient, kind: str) -> None:
    response = client.get(f"/fail/{kind}")
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    assert response.json()["detail"].startswith("The chat database is "), response.text


def test_another_driver_error_is_a_500(client: TestClient) -> None:
    response = client.get("/fail/bug")
    assert response.status_code == 500
    assert "X-Request-ID" in response.json()["detail"]
