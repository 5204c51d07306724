"""Fetching result pages safely: http(s) only; every address the name resolves to is checked
(private and loopback ones only with ENABLE_RAG_LOCAL_WEB_FETCH, link-local, multicast and
reserved ones never) before any connection; the connection is pinned to the checked address;
redirects are re-checked hop by hop; a size cap and a timeout per page."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

MAX_REDIRECTS = 5
TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown")


class FetchRefused(ValueError):
    """The URL may not be fetched, or its answer is not a page we read."""


@dataclass
class Page:
    url: str
    content_type: str
    body: bytes


def _allowed(address: str, allow_local: bool) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return False  # never: cloud metadata services live on link-local addresses
    if allow_local and (ip.is_loopback or ip.is_private):
        return True
    return ip.is_global


async def resolve(url: str, allow_local: bool) -> tuple[str, str]:
    """(the URL to connect to, pinned to a checked address; the Host header)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(f"only http and https URLs are fetched, not {parts.scheme or '?'}:")
    if not parts.hostname:
        raise FetchRefused("the URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port,
                                                             type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise FetchRefused(f"cannot resolve {parts.hostname}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    refused = [a for a in addresses if not _allowed(a, allow_local)]
    if refused or not addresses:
        raise FetchRefused(f"{parts.hostname} resolves to a private or local address "
                           f"({refused[0] if refused else 'none'})")
    address = addresses[0]
    host = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((parts.scheme, f"{host}:{port}", parts.path or "/", parts.query, ""))
    return pinned, parts.netloc.rsplit("@", 1)[-1]


async def fetch(client: httpx.AsyncClient, url: str, *, allow_local: bool, max_bytes: int,
                seconds: float) -> Page:
    async with asyncio.timeout(seconds):
        for _ in range(MAX_REDIRECTS + 1):
            pinned, host = await resolve(url, allow_local)
            extensions = {"sni_hostname": urlsplit(url).hostname} \
                if url.startswith("https") else {}
            request = client.build_request("GET", pinned, headers={"Host": host},
                                           extensions=extensions)
            response = await client.send(request, stream=True)
            try:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                return await _read(url, response, max_bytes)
            finally:
                await response.aclose()
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


async def _read(url: str, response: httpx.Response, max_bytes: int) -> Page:
    if response.status_code != 200:
        raise FetchRefused(f"the page answered {response.status_code}")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in TEXT_TYPES:
        raise FetchRefused(f"not a text page ({content_type or 'no content type'})")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise FetchRefused(f"the page is over {max_bytes} bytes")
    return Page(url, content_type, bytes(body))


def make_client(timeout: float) -> httpx.AsyncClient:
    # No redirects followed by httpx: each hop is resolved and checked above.
    return httpx.AsyncClient(follow_redirects=False, timeout=httpx.Timeout(timeout),
                             headers={"User-Agent": "owui-retrieval/1 (+web search)"},
                             limits=httpx.Limits(max_connections=50))
