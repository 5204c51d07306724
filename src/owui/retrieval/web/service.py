"""A web search turned into cited chunks: search, fetch the pages, index them in a temporary
collection of the user's, and return the best chunks for the queries."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.errors import BadRequestError, InvalidError
from owui.core.tokens import Claims
from owui.retrieval import crud
from owui.retrieval.access import named_key
from owui.retrieval.extract import Section, html_to_text
from owui.retrieval.models import Collection
from owui.retrieval.runtime import Runtime
from owui.retrieval.search import Mode, search
from owui.retrieval.vectors import Hit
from owui.retrieval.web import engines
from owui.retrieval.web.fetch import FetchRefused, Page, fetch, make_client

TEMPORARY_FOR = 3600.0  # seconds a web search's collection is kept


@dataclass
class WebResult:
    name: str
    key: str
    items: list[engines.Result]
    loaded: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)


def _page_sections(page: Page, title: str) -> list[Section]:
    if page.content_type in ("text/html", "application/xhtml+xml"):
        found_title, text = html_to_text(page.body)
        title = found_title or title
    else:
        text = page.body.decode("utf-8", "replace")
    meta = {"source": page.url, "url": page.url, "name": title or page.url}
    return [Section(text, meta)] if text.strip() else []


async def _fetch_all(rt: Runtime, items: list[engines.Result],
                     ) -> tuple[list[tuple[engines.Result, Page]], list[dict[str, str]]]:
    settings = rt.settings
    slots = asyncio.Semaphore(settings.web_search_concurrent_requests)
    errors: list[dict[str, str]] = []

    async def one(item: engines.Result) -> tuple[engines.Result, Page] | None:
        async with slots:
            try:
                page = await fetch(client, item.link,
                                   allow_local=settings.enable_rag_local_web_fetch,
                                   max_bytes=int(settings.web_loader_max_size),
                                   seconds=settings.web_loader_timeout)
            except FetchRefused as exc:
                errors.append({"url": item.link, "error": str(exc)})
            except TimeoutError:
                errors.append({"url": item.link, "error": "timed out"})
            except Exception as exc:  # httpx transport errors and the like: skip the page
                errors.append({"url": item.link, "error": exc.__class__.__name__})
            else:
                return item, page
            return None

    async with make_client(settings.web_loader_timeout) as client:
        fetched = await asyncio.gather(*(one(item) for item in items))
    return [pair for pair in fetched if pair is not None], errors


async def _collection(session: AsyncSession, user: Claims, queries: list[str]) -> Collection:
    digest = hashlib.sha256("\n".join(queries).encode()).hexdigest()[:16]
    name = f"web-search-{digest}"
    found = await crud.get_collection(session, user.sub, name)
    expires = time.time() + TEMPORARY_FOR
    if found is None:
        found = Collection(key=named_key("web", user.sub, name), user_id=user.sub, name=name,
                           kind="web", expires_at=expires)
        session.add(found)
    else:
        found.expires_at = expires
    await session.commit()
    return found


async def web_search(rt: Runtime, session: AsyncSession, user: Claims, queries: list[str],
                     *, k: int | None, mode: Mode, token: str | None) -> WebResult:
    problem = engines.check_engine(rt.settings)
    if problem or not rt.settings.web_search_engine:
        why = problem or "set WEB_SEARCH_ENGINE"
        raise BadRequestError(f"Web search is not configured ({why}).")
    # A RAG query is the user's last message, which may be longer than any search query.
    queries = [q.strip()[:engines.MAX_QUERY] for q in queries if q.strip()]
    if not queries:
        raise InvalidError("Give at least one non-empty query in 'queries'.")
    found = await asyncio.gather(*(engines.search(rt.settings, rt.http, q,
                                                  rt.settings.web_search_result_count)
                                   for q in queries))
    items = list({item.link: item for results in found for item in results}.values())
    pages, errors = await _fetch_all(rt, items)
    collection = await _collection(session, user, queries)
    result = WebResult(collection.name, collection.key, items, errors=errors)
    for item, page in pages:
        chunks = await rt.pipeline.chunk(_page_sections(page, item.title))
        if not chunks:
            result.errors.append({"url": page.url, "error": "no text on the page"})
            continue
        file_id = "web-" + hashlib.sha256(page.url.encode()).hexdigest()[:24]
        meta: dict[str, Any] = {"title": item.title}
        await rt.pipeline.embed_and_store(collection.key, file_id, chunks, meta, token=token)
        result.loaded.append(page.url)
    if result.loaded:
        for query in queries:
            result.hits.extend(await search(rt, [collection.key], query, k=k, mode=mode,
                                            token=token))
        result.hits = _best(result.hits, k or rt.settings.rag_top_k)
    return result


def _best(hits: list[Hit], k: int) -> list[Hit]:
    unique = {hit.id: hit for hit in sorted(hits, key=lambda h: h.score)}
    return sorted(unique.values(), key=lambda h: h.score, reverse=True)[:k]


async def load_page(rt: Runtime, url: str) -> tuple[Page, list[Section]]:
    """One page fetched (the web search's rules: public addresses only unless
    ENABLE_RAG_LOCAL_WEB_FETCH, size and time capped) and read as sections; 400 if it cannot be."""
    settings = rt.settings
    try:
        async with make_client(settings.web_loader_timeout) as client:
            page = await fetch(client, url, allow_local=settings.enable_rag_local_web_fetch,
                               max_bytes=int(settings.web_loader_max_size),
                               seconds=settings.web_loader_timeout)
    except FetchRefused as exc:
        raise BadRequestError(f"Could not read content from {url}: {exc}") from None
    except TimeoutError:
        raise BadRequestError(f"Could not read content from {url}: timed out") from None
    except Exception as exc:  # httpx transport errors: the page cannot be reached
        raise BadRequestError(f"Could not read content from {url}: "
                              f"{exc.__class__.__name__}") from None
    sections = _page_sections(page, "")
    if not sections:
        raise BadRequestError(f"Could not read content from {url}: the page has no text.")
    return page, sections
