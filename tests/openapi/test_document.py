"""The gateway's merged OpenAPI document, served by real processes: exactly the routes that the
gateway serves or routes to each service, the bearer scheme on all but the public ones, and the
rest still described when a service is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from owui.core.services import SERVICES
from owui.gateway.dispatch import APP_PUBLIC_PATHS
from tests.openapi.conftest import ApiStack
from tests.support.procs import closed_port, start_service
from tests.support.routes import routes_of

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
PUBLIC = {"/healthz", "/readyz", "/api/v1/auths/signin", "/api/v1/auths/signup",
          *APP_PUBLIC_PATHS}  # the web app's /api/config, /api/version, /api/changelog
Operations = set[tuple[str, str]]


def owner(path: str) -> str:
    """The service that the gateway routes `path` to: the longest matching prefix wins."""
    matches = [(len(prefix), s.name) for s in SERVICES for prefix in s.prefixes
               if path == prefix or path.startswith(prefix + "/")]
    return max(matches)[1] if matches else "gateway"


def operations(doc: dict[str, Any]) -> Operations:
    return {(path, method) for path, item in doc["paths"].items() for method in item
            if method in METHODS}


def gateway_routes() -> Operations:
    """The gateway's own routes in its document, read from its app (every router it mounts)."""
    from owui.gateway.app import app

    api = getattr(app, "api", app)  # the gateway wraps its FastAPI app
    return {(path, method.lower()) for path, route in routes_of(api.routes)
            if isinstance(route, APIRoute) and route.include_in_schema
            for method in route.methods}


@pytest.fixture(scope="module")
def merged(api_stack: ApiStack) -> dict[str, Any]:
    response = httpx.get(f"{api_stack.gateway}/openapi.json", timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_merged_document_is_the_union_of_the_routed_service_routes(
        api_stack: ApiStack, merged: dict[str, Any]) -> None:
    expected = {op for op in gateway_routes() if owner(op[0]) == "gateway"}
    for service in SERVICES[1:]:
        doc = httpx.get(f"{api_stack.stack.url(service.name)}/openapi.json", timeout=30).json()
        routed = {op for op in operations(doc) if owner(op[0]) == service.name}
        assert routed, f"nothing of {service.name} is routed"
        expected |= routed
    assert operations(merged) == expected
    assert merged["openapi"].startswith("3.")


def test_every_operation_but_the_public_ones_needs_the_bearer(merged: dict[str, Any]) -> None:
    scheme = merged["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, method in operations(merged):
        operation = merged["paths"][path][method]
        if path in PUBLIC:
            assert operation["security"] == [], (path, method)
        else:
            assert operation["security"] == [{"bearer": []}], (path, method)
            assert "401" in operation["responses"], (path, method)


def test_references_resolve_and_operation_ids_are_unique(merged: dict[str, Any]) -> None:

    def walk(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    refs = set(walk(merged))
    assert "#/components/schemas/ErrorDetail" in refs
    for ref in refs:
        section, name = ref.removeprefix("#/components/").split("/")
        assert name in merged["components"][section], ref
    ids = [merged["paths"][p][m]["operationId"] for p, m in operations(merged)]
    assert len(ids) == len(set(ids))


def test_swagger_ui_and_redoc_need_no_credentials(api_stack: ApiStack) -> None:
    for page in ("/docs", "/redoc"):
        response = httpx.get(api_stack.gateway + page, timeout=30)
        assert response.status_code == 200, page
        assert "/openapi.json" in response.text


def test_a_service_that_is_down_is_left_out_and_named(api_stack: ApiStack,
                                                      tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    env = {**api_stack.stack.env, "AGENT_SERVICE_URL": dead, "OWUI_DATA_DIR": str(tmp_path)}
    gateway = start_service("gateway", env, tmp_path / "logs")
    try:
        response = httpx.get(f"{gateway.url}/openapi.json", timeout=60)
    finally:
        gateway.stop()
    assert response.status_code == 200
    doc = response.json()
    found = {owner(path) for path, _ in operations(doc)}
    assert found == {"gateway", "inference", "retrieval", "chat"}
    assert f"- agent: {dead}/openapi.json failed" in doc["info"]["description"]
