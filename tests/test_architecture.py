"""The service graph stays explicit (an AST walk over src/owui, no import of the code):

- no service package imports another service package: services talk over HTTP only;
- a service reaches another service only from its own `clients/` package: a service URL
  (`<SERVICE>_SERVICE_URL`, the settings attribute holding it, `settings.service_url(...)`) or
  the shared `core.client.ServiceClient` used anywhere else fails, so that
  `ls src/owui/*/clients` is the whole diagram of who calls whom;
- one HTTP client library between services: core.client (aiohttp), never core.http's
  `call_service` (httpx).

Not walked, by design: `owui.core` (it defines the settings and the client the rule is about)
and `owui.cli` (the command line talks to every service: `owui up`, `owui ingest`, ...).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "owui"
SERVICES = ("gateway", "inference", "agent", "retrieval", "chat")
URL_NAME = re.compile(r"^(?:INFERENCE|AGENT|RETRIEVAL|CHAT|GATEWAY)_SERVICE_URL$", re.IGNORECASE)
# Files that may name every service's URL, and why.
URL_EXCEPTIONS = {
    # The gateway's routing table: by path prefix to every service (what a gateway is).
    "gateway/proxy.py",
    # The gateway's merged OpenAPI document: fetched from every service it routes to.
    "gateway/openapi.py",
}


def _modules(service: str) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((SRC / service).rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        yield relative, ast.parse(path.read_text(), filename=str(path))


def _imported(node: ast.AST) -> list[str]:
    """The dotted names an import statement brings in (`from owui import chat` -> owui.chat)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return []


def _service_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    if len(parts) >= 2 and parts[0] == "owui" and parts[1] in SERVICES:
        return parts[1]
    return None


def _url_uses(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if URL_NAME.match(node.attr):
                yield node.lineno, f"settings.{node.attr}"
            elif node.attr == "service_url":
                yield node.lineno, "settings.service_url(...)"
            elif node.attr == "ServiceClient":
                yield node.lineno, "ServiceClient"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if URL_NAME.match(node.value):
                yield node.lineno, repr(node.value)
        elif isinstance(node, ast.Name) and node.id == "ServiceClient":
            yield node.lineno, "ServiceClient"
        elif (isinstance(node, ast.ImportFrom) and node.module == "owui.core.client"
              and any(alias.name == "ServiceClient" for alias in node.names)):
            yield node.lineno, "import of ServiceClient"


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another(service: str) -> None:
    found = [f"{path}:{node.lineno} imports {name}"
             for path, tree in _modules(service)
             for node in ast.walk(tree)
             for name in _imported(node)
             if (other := _service_of(name)) is not None and other != service]
    assert not found, "services talk over HTTP, never by import:\n" + "\n".join(found)


@pytest.mark.parametrize("service", SERVICES)
def test_other_services_reached_only_from_clients(service: str) -> None:
    found = [f"{path}:{line} uses {what}"
             for path, tree in _modules(service)
             if not path.startswith(f"{service}/clients/") and path not in URL_EXCEPTIONS
             for line, what in _url_uses(tree)]
    assert not found, (f"calls from {service} to another service belong in "
                       f"src/owui/{service}/clients/:\n" + "\n".join(sorted(set(found))))


@pytest.mark.parametrize("service", SERVICES)
def test_one_client_library_between_services(service: str) -> None:
    """Calls between services go through core.client (aiohttp); core.http's httpx helper for
    them, `call_service`, is not used (httpx stays for providers and the OpenAPI fetch)."""
    found = [f"{path}:{node.lineno}"
             for path, tree in _modules(service) for node in ast.walk(tree)
             if (isinstance(node, ast.Name) and node.id == "call_service")
             or (isinstance(node, ast.Attribute) and node.attr == "call_service")
             or (isinstance(node, ast.ImportFrom) and node.module == "owui.core.http"
                 and any(alias.name == "call_service" for alias in node.names))]
    assert not found, ("call_service (httpx) used for a call between services; use "
                       "owui.core.client.ServiceClient in clients/:\n" + "\n".join(found))


def test_the_walk_sees_what_it_checks() -> None:
    """The rules would pass vacuously if the walk saw nothing: it does see the agent's clients
    and the exceptions, and it catches a forbidden import written on purpose."""
    agent_clients = [line for path, tree in _modules("agent")
                     if path.startswith("agent/clients/") for line in _url_uses(tree)]
    assert agent_clients
    proxy = ast.parse((SRC / "gateway" / "proxy.py").read_text())
    assert list(_url_uses(proxy))
    bad = ast.parse("from owui.chat.reads import not_found\nimport owui.retrieval.search\n"
                    "x = settings.inference_service_url\ny = 'AGENT_SERVICE_URL'\n")
    assert [_service_of(n) for node in ast.walk(bad) for n in _imported(node)
            if _service_of(n)] == ["chat", "chat", "retrieval"]
    assert len(list(_url_uses(bad))) == 2
