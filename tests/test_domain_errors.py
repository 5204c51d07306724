"""core.errors: domain errors raised below the routes answer their status once, at the edge."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from owui.core.client import ServiceRefused
from owui.core.errors import (
    BadRequestError,
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    RequestTimeoutError,
    UnavailableError,
    UpstreamError,
    install_error_handlers,
)

RAISED: dict[str, DomainError] = {
    "bad": BadRequestError("Bad source."), "forbidden": ForbiddenError("Turned off."),
    "missing": NotFoundError("Tool 't' not found."), "late": RequestTimeoutError("Too slow."),
    "conflict": ConflictError("Closed."), "invalid": InvalidError("Invalid valves."),
    "busy": UnavailableError("All busy.", headers={"Retry-After": "1"}),
    "upstream": UpstreamError("inference", 504, "The inference service timed out."),
    "refused": ServiceRefused("agent", 409, "Taken."),
}


@pytest.fixture
def client() -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/{name}")
    async def fail(name: str) -> None:
        raise RAISED[name]

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.mark.parametrize(("name", "status"), [
    ("bad", 400), ("forbidden", 403), ("missing", 404), ("late", 408), ("conflict", 409),
    ("invalid", 422), ("busy", 503), ("upstream", 504), ("refused", 409)])
async def test_domain_error_answers_its_status(client: httpx.AsyncClient, name: str,
                                               status: int) -> None:
    async with client:
        response = await client.get(f"/{name}")
    assert response.status_code == status
    assert response.json() == {"detail": RAISED[name].detail}
    if name == "busy":
        assert response.headers["Retry-After"] == "1"
