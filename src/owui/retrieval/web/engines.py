"""Search engines: SearXNG (self-hosted JSON API), Brave and Tavily."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx

from owui.core.config import Settings
from owui.core.errors import UpstreamError

ENGINES = ("searxng", "brave", "tavily")
# The longest query sent to an engine: longer is not a search query, and SearXNG's and Brave's
# go in the URL, which servers (and httpx) refuse past a few KB.
MAX_QUERY = 2_000


@dataclass(frozen=True)
class Result:
    link: str
    title: str
    snippet: str

    def view(self) -> dict[str, str]:
        return {"link": self.link, "title": self.title, "snippet": self.snippet}


def check_engine(settings: Settings) -> str | None:
    """The configured engine, or a message naming the variable that is wrong or missing."""
    engine = (settings.web_search_engine or "").lower()
    if not engine:
        return None
    needs = {"searxng": ("SEARXNG_QUERY_URL", settings.searxng_query_url),
             "brave": ("BRAVE_SEARCH_API_KEY", settings.brave_search_api_key),
             "tavily": ("TAVILY_API_KEY", settings.tavily_api_key)}
    if engine not in needs:
        return f"WEB_SEARCH_ENGINE: {engine!r} is not one of {', '.join(ENGINES)}"
    variable, value = needs[engine]
    if not value:
        return f"WEB_SEARCH_ENGINE={engine} needs {variable}"
    return None


async def search(settings: Settings, client: httpx.AsyncClient, query: str,
                 count: int) -> list[Result]:
    engine = (settings.web_search_engine or "").lower()
    if engine == "searxng":
        return await _searxng(settings, client, query, count)
    if engine == "brave":
        return await _brave(settings, client, query, count)
    return await _tavily(settings, client, query, count)


async def _call(client: httpx.AsyncClient, engine: str, method: str, url: str,
                **kwargs: Any) -> Any:
    try:
        response = await client.request(method, url, timeout=15, **kwargs)
    except httpx.TimeoutException:
        raise UpstreamError(engine, 504, f"The {engine} search engine timed out.") from None
    except httpx.TransportError as exc:
        raise UpstreamError(engine, 502, f"The {engine} search engine is unreachable: "
                                         f"{exc.__class__.__name__}") from None
    if response.status_code != 200:
        raise UpstreamError(engine, 502, f"The {engine} search engine answered "
                                         f"{response.status_code}: {response.text[:200]}")
    try:
        return response.json()
    except ValueError:
        raise UpstreamError(engine, 502, f"The {engine} search engine sent no JSON.") from None


async def _searxng(settings: Settings, client: httpx.AsyncClient, query: str,
                   count: int) -> list[Result]:
    url = str(settings.searxng_query_url)
    params: dict[str, str] = {"format": "json"}
    if "<query>" in url:  # Open WebUI's form: http://host/search?q=<query>
        url = url.replace("<query>", quote_plus(query))
    else:
        params["q"] = query
    body = await _call(client, "searxng", "GET", url, params=params,
                       headers={"Accept": "application/json"})
    return [Result(item.get("url", ""), item.get("title", ""), item.get("content", ""))
            for item in _items(body, "results")][:count]


async def _brave(settings: Settings, client: httpx.AsyncClient, query: str,
                 count: int) -> list[Result]:
    key = settings.brave_search_api_key.get_secret_value() if settings.brave_search_api_key \
        else ""
    body = await _call(client, "brave", "GET", settings.brave_search_url,
                       params={"q": query, "count": str(count)},
                       headers={"Accept": "application/json", "X-Subscription-Token": key})
    web = body.get("web", {}) if isinstance(body, dict) else {}
    return [Result(item.get("url", ""), item.get("title", ""), item.get("description", ""))
            for item in _items(web, "results")][:count]


async def _tavily(settings: Settings, client: httpx.AsyncClient, query: str,
                  count: int) -> list[Result]:
    key = settings.tavily_api_key.get_secret_value() if settings.tavily_api_key else ""
    body = await _call(client, "tavily", "POST", settings.tavily_search_url,
                       json={"query": query, "max_results": count},
                       headers={"Authorization": f"Bearer {key}"})
    return [Result(item.get("url", ""), item.get("title", ""), item.get("content", ""))
            for item in _items(body, "results")][:count]


def _items(body: Any, key: str) -> list[dict[str, Any]]:
    items = body.get(key) if isinstance(body, dict) else None
    return [item for item in items or [] if isinstance(item, dict) and item.get("url")]
