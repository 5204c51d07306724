"""The merge itself, on small documents: which paths are kept, how clashing components are
renamed (with the references to them), and what the gateway declares on every operation."""

from __future__ import annotations

from typing import Any

from owui.gateway.openapi import merge

PUBLIC = frozenset({"/healthz", "/api/v1/auths/signin"})


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def op(body: str | None = None, answer: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"responses": {"200": {"description": "OK"}}}
    if body:
        operation["requestBody"] = {"content": {"application/json": {"schema": ref(body)}}}
    if answer:
        operation["responses"]["200"]["content"] = {"application/json": {"schema": ref(answer)}}
    return operation


def owner(path: str) -> str:
    return {"/a/": "alpha", "/b/": "beta"}.get(path[:3], "gateway")


def doc(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths,
            "components": {"schemas": schemas}}


OWN = doc({"/healthz": {"get": op()}, "/api/v1/auths/signin": {"post": op("Form")},
           "/a/not-mine": {"get": op()}}, {"Form": {"type": "object"}})
ALPHA = doc({"/a/items": {"post": op("Item", "Page")}, "/b/stray": {"get": op()},
             "/healthz": {"get": op()}},
            {"Item": {"type": "object", "properties": {"a": {"type": "string"}}},
             "Page": {"type": "array", "items": ref("Item")},
             "Shared": {"type": "string"}})
BETA = doc({"/b/items/{id}": {"get": op(answer="Page"), "delete": op()}},
           {"Item": {"type": "object", "properties": {"b": {"type": "integer"}}},
            "Page": {"type": "array", "items": ref("Item")},
            "Shared": {"type": "string"}})


def merged() -> dict[str, Any]:
    return merge(OWN, {"alpha": ALPHA, "beta": BETA}, owner, PUBLIC)


def test_only_the_paths_routed_to_each_service_are_kept() -> None:
    assert list(merged()["paths"]) == ["/a/items", "/api/v1/auths/signin", "/b/items/{id}",
                                       "/healthz"]


def test_clashing_components_are_renamed_with_what_refers_to_them() -> None:
    result = merged()
    schemas = result["components"]["schemas"]
    assert schemas["Item"]["properties"] == {"a": {"type": "string"}}
    assert schemas["beta_Item"]["properties"] == {"b": {"type": "integer"}}
    # Page's text is the same in both, but it means beta's Item in beta: renamed too.
    assert schemas["beta_Page"]["items"] == ref("beta_Item")
    assert "beta_Shared" not in schemas  # the same on both sides: kept once
    answer = result["paths"]["/b/items/{id}"]["get"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"] == ref("beta_Page")
    assert result["paths"]["/a/items"]["post"]["requestBody"]["content"][
        "application/json"]["schema"] == ref("Item")


def test_the_bearer_scheme_and_the_gateway_answers_are_declared() -> None:
    paths = merged()["paths"]
    signin, items = paths["/api/v1/auths/signin"]["post"], paths["/a/items"]["post"]
    assert signin["security"] == [] and paths["/healthz"]["get"]["security"] == []
    assert items["security"] == [{"bearer": []}]
    # Proxied, with a body, needing an approved account:
    assert {"400", "401", "403", "413", "415", "429", "502", "503", "504"} <= set(
        items["responses"])
    assert "401" in signin["responses"] and "403" not in signin["responses"]
    assert set(paths["/healthz"]["get"]["responses"]) == {"200", "429"}


def test_a_missing_service_is_named_and_the_rest_kept() -> None:
    result = merge(OWN, {"alpha": ALPHA, "beta": "http://beta/openapi.json failed"}, owner,
                   PUBLIC)
    assert "/a/items" in result["paths"]
    assert not any(path.startswith("/b") for path in result["paths"])
    assert "- beta: http://beta/openapi.json failed" in result["info"]["description"]
    assert OWN["paths"]["/healthz"]["get"] == op()  # the inputs are left as they were
