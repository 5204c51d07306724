"""One OpenAPI document for the whole API: the gateway's own routes, and for each service behind
it the paths that the gateway routes there, fetched from the service over HTTP (services are
never imported here) through the proxy's aiohttp session (its https:// verified against
OWUI_TLS_CA, with our client certificate for mutual TLS) and cached briefly.

A service that does not answer is left out, and the document's description says so: the rest of
the API is still described, and a client generator sees at once what is missing.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from owui.core.auth import PUBLIC_PATHS
from owui.core.config import Settings
from owui.core.errors import ERROR_SCHEMA, ERROR_SCHEMA_NAME, error_response
from owui.core.services import SERVICES
from owui.gateway.dispatch import APP_PUBLIC_PATHS, SIGN_IN_PATHS
from owui.gateway.proxy import Proxy

Document = dict[str, Any]
SCHEME = "bearer"
SECURITY_SCHEMES = {SCHEME: {
    "type": "http", "scheme": "bearer", "bearerFormat": "JWT or sk- API key",
    "description": "A JWT from /api/v1/auths/signin (or signup), or an API key (sk-...) from "
                   "/api/v1/auths/api_key, as `Authorization: Bearer ...`.",
}}
# What the gateway itself answers, before or instead of the service behind it.
ANY_REQUEST = {"429": "Too many requests (see Retry-After)."}
CREDENTIALS = {"401": "Invalid, expired or revoked credentials (or none where needed)."}
NOT_PENDING = {"403": "The account is pending approval by an administrator."}
WITH_BODY = {"400": "Malformed JSON body or Content-Length.",
             "413": "The request body is too large.",
             "415": "The Content-Type is not accepted."}
PROXIED = {"502": "The service behind the gateway failed.",
           "503": "The service behind the gateway is unreachable (see Retry-After).",
           "504": "The service behind the gateway did not answer in time."}
PENDING_ALLOWED = "/api/v1/auths"
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def merge(own: Document, services: Mapping[str, Document | str], owner: Callable[[str], str],
          public: frozenset[str]) -> Document:
    """The gateway's document `own` with each service's paths that `owner` gives to it.

    `services` maps a service name to its document, or to why it could not be had.
    `public` paths are served without credentials; every other operation needs the bearer.
    """
    merged = copy.deepcopy(own)
    merged["paths"] = _owned(merged.get("paths", {}), "gateway", owner)
    components = merged.setdefault("components", {})
    missing = []
    for name, doc in services.items():
        if isinstance(doc, str):
            missing.append(f"- {name}: {doc}")
            continue
        renames = _add_components(components, doc.get("components", {}), name)
        paths = _owned(doc.get("paths", {}), name, owner)
        merged["paths"].update(_renamed(paths, renames))
    components.setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    merged["paths"] = dict(sorted(merged["paths"].items()))
    for path, item in merged["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                _secure(operation, path, public, owner(path) != "gateway")
    merged["info"] = {**merged.get("info", {}), "title": "owui",
                      "description": _description(missing)}
    return merged


def _owned(paths: Mapping[str, Any], service: str, owner: Callable[[str], str]) -> Document:
    return {path: item for path, item in paths.items() if owner(path) == service}


def _add_components(into: Document, components: Mapping[str, Any], service: str,
                    ) -> dict[str, str]:
    """Adds a service's components. One that differs from another of the same name, or refers
    to one that does, is added as `<service>_<name>`. Returns the renamed references."""
    clashes = {(section, name) for section, items in components.items()
               for name, value in items.items()
               if into.get(section, {}).get(name, value) != value}
    grown = True
    while grown:  # equal text that refers to a renamed component means something else here
        before = len(clashes)
        clashes |= {(section, name) for section, items in components.items()
                    for name, value in items.items()
                    if name in into.get(section, {}) and _refers(value, clashes)}
        grown = len(clashes) > before
    renames = {_ref(section, name): _ref(section, f"{service}_{name}")
               for section, name in clashes}
    for section, items in components.items():
        target = into.setdefault(section, {})
        for name, value in items.items():
            final = f"{service}_{name}" if (section, name) in clashes else name
            target.setdefault(final, _renamed(value, renames))
    return renames


def _ref(section: str, name: str) -> str:
    return f"#/components/{section}/{name}"


def _refers(node: Any, targets: set[tuple[str, str]]) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and tuple(ref.split("/")[-2:]) in targets:
            return True
        return any(_refers(v, targets) for v in node.values())
    if isinstance(node, list):
        return any(_refers(v, targets) for v in node)
    return False


def _renamed(node: Any, renames: Mapping[str, str]) -> Any:
    if not renames:
        return node
    if isinstance(node, dict):
        return {k: (renames.get(v, v) if k == "$ref" and isinstance(v, str)
                    else _renamed(v, renames)) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(v, renames) for v in node]
    return node


def _secure(operation: Document, path: str, public: frozenset[str], proxied: bool) -> None:
    """Declares the credentials an operation needs and the statuses the gateway adds to it."""
    declared = operation.setdefault("responses", {})
    added = dict(ANY_REQUEST)
    if path not in PUBLIC_PATHS:  # credentials sent to a public route are checked too
        added |= CREDENTIALS
    if path in public:
        operation["security"] = []
    else:
        operation["security"] = [{SCHEME: []}]
        if not path.startswith(PENDING_ALLOWED):
            added |= NOT_PENDING
    if "requestBody" in operation:
        added |= WITH_BODY
    if proxied:
        added |= PROXIED
    for status, text in added.items():
        declared.setdefault(status, error_response(text))


def _description(missing: list[str]) -> str:
    text = ("The owui API: every service behind one gateway. Send a JWT or an API key as "
            "`Authorization: Bearer ...`; sign-up and sign-in need none.")
    if missing:
        text += ("\n\nLeft out of this document, because these services did not answer "
                 "(their routes still work once they do):\n" + "\n".join(missing))
    return text


class ApiDocument:
    """The merged document, built on request from the services' own, kept for `ttl` seconds
    (a shorter while when a service was missing, so that it reappears soon)."""

    def __init__(self, own: Callable[[], Document], services: Mapping[str, str],
                 owner: Callable[[str], str], proxy: Proxy,
                 public: frozenset[str], ttl: float = 30.0, fetch_timeout: float = 5.0) -> None:
        self.own = own
        self.services = services  # name -> base URL
        self.owner = owner
        self.proxy = proxy  # its session, opened at start-up, fetches the documents
        self.public = public
        self.ttl = ttl
        self.fetch_timeout = aiohttp.ClientTimeout(total=fetch_timeout)
        self._cached: tuple[float, bytes] | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> bytes:
        """The document as JSON."""
        async with self._lock:
            if self._cached is None or time.monotonic() >= self._cached[0]:
                self._cached = await self._build()
            return self._cached[1]

    async def _build(self) -> tuple[float, bytes]:
        names = list(self.services)
        fetched = await asyncio.gather(*(self._fetch(name) for name in names))
        docs = dict(zip(names, fetched, strict=True))
        merged = merge(self.own(), docs, self.owner, self.public)
        complete = all(not isinstance(doc, str) for doc in fetched)
        expires = time.monotonic() + (self.ttl if complete else min(self.ttl, 2.0))
        return expires, json.dumps(merged).encode()

    async def _fetch(self, name: str) -> Document | str:
        url = f"{self.services[name]}/openapi.json"
        session = self.proxy.session
        if session is None:
            return f"{url} not fetched (the gateway is not started)"
        try:
            # identity: the proxy's session passes bodies through undecoded (auto_decompress off)
            async with session.get(url, timeout=self.fetch_timeout,
                                   headers={"Accept-Encoding": "identity"}) as response:
                response.raise_for_status()
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"{url} failed ({exc.__class__.__name__})"
        try:
            doc = json.loads(body)
        except ValueError:
            return f"{url} did not answer JSON"
        return doc if isinstance(doc, dict) else f"{url} did not answer an OpenAPI document"


def for_gateway(own: Callable[[], Document], proxy: Proxy, settings: Settings) -> ApiDocument:
    """The merged document of the gateway whose own document is `own`: its routing table
    (`proxy`) decides who owns a path."""

    def owner(path: str) -> str:
        route = proxy.route(path)
        return route.service if route is not None else "gateway"

    backends = {s.name: settings.service_url(s.name) for s in SERVICES if s.url_variable}
    return ApiDocument(own, backends, owner, proxy, PUBLIC_PATHS | SIGN_IN_PATHS | APP_PUBLIC_PATHS)
