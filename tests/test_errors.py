"""The shared error handlers, on a small app: a number too large for the database is the
client's 422, never a 500."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from owui.core.errors import install_error_handlers


def test_a_number_the_database_cannot_hold_is_a_422() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/items")
    async def items(offset: int) -> list[int]:
        if offset > 2**63 - 1:  # as sqlite3 does
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return []

    with TestClient(app) as client:
        response = client.get("/items", params={"offset": 2**70})
    assert response.status_code == 422
    assert response.json() == {"detail": "A number in the request is too large."}
