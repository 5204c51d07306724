"""Errors that malformed or racing requests raise deep down, mapped once by core.errors."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm.exc import StaleDataError

from owui.core.errors import install_error_handlers


def test_a_row_changed_meanwhile_is_409() -> None:
    """An update whose row another request deleted a moment before (the barrage's
    models/model/update racing models/model/delete) is a conflict, not a 500."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/update")
    async def update() -> None:
        raise StaleDataError("UPDATE statement on table 'models' expected to update 1 row(s); "
                             "0 were matched.")

    response = TestClient(app).post("/update")
    assert response.status_code == 409
    assert "changed or deleted by another request" in response.json()["detail"]
