"""The built-in tools, written like users' tools: typed, documented functions whose
docstrings become their specs. Web search and knowledge queries go to the retrieval service with
the caller's token; code runs in the caller's code session."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from owui.agent.expressions import MATH, evaluate
from owui.agent.tools.base import CallContext, ToolFunction

SNIPPET = 1500


async def web_search(query: str, __context__: CallContext) -> list[dict[str, Any]]:
    """Search the web and read the best pages; returns passages with their URLs.

    :param query: What to search for, as you would type it into a search engine.
    """
    found = await __context__.retrieval.web_search(__context__.token, query)
    return [{"content": doc.get("content", "")[:SNIPPET],
             "url": (doc.get("metadata") or {}).get("source") or
             (doc.get("metadata") or {}).get("url")} for doc in found.get("docs", [])]


async def query_knowledge(query: str, __context__: CallContext,
                          collection_names: list[str] | None = None) -> list[dict[str, Any]]:
    """Search the knowledge collections attached to this conversation for relevant passages.

    :param query: What to look for.
    :param collection_names: Knowledge collection ids to search; by default the attached ones.
    """
    names = collection_names or __context__.collection_names
    if not names:
        raise ValueError("no knowledge collection is attached to this conversation")
    found = await __context__.retrieval.search(__context__.token, query, names)
    return [{"text": hit.get("text", "")[:SNIPPET], "source": hit.get("source") or
             hit.get("name"), "score": hit.get("score")} for hit in found.get("hits", [])]


async def execute_code(code: str, __context__: CallContext) -> dict[str, Any]:
    """Run Python code in a sandboxed session that keeps its variables between calls, like a
    notebook; returns stdout, stderr, the value of the last expression and any figures.

    :param code: The Python code to run.
    """
    outcome = await __context__.kernels.execute(__context__.user.sub, __context__.session_id,
                                                code, None)
    reply = outcome.reply
    result: dict[str, Any] = {"stdout": reply.get("stdout", ""),
                              "stderr": reply.get("stderr", ""),
                              "result": reply.get("result")}
    if reply.get("error"):
        result["error"] = f"{reply['error']['name']}: {reply['error']['value']}"
    if reply.get("images"):
        result["images"] = f"{len(reply['images'])} figure(s) were produced"
    return result


def get_current_time(timezone: str = "UTC") -> str:
    """The current date and time, in ISO 8601, with the weekday.

    :param timezone: An IANA time zone name, such as Europe/Paris; UTC by default.
    """
    try:
        zone = ZoneInfo(timezone) if timezone and timezone.upper() != "UTC" else UTC
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{timezone}'") from None
    now = datetime.now(zone)
    return f"{now.isoformat(timespec='seconds')} ({now.strftime('%A')})"


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly, e.g. (3 + 4) * 2 ** 10 or sqrt(2) * pi.

    :param expression: The expression: numbers, + - * / // % **, parentheses, and sqrt, sin,
        cos, tan, log, log10, log2, exp, abs, round, min, max, floor, ceil, factorial, pi, e.
    """
    value = evaluate(expression, MATH)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    return str(value)


BUILTINS: dict[str, ToolFunction] = {
    function.__name__: ToolFunction.of(function.__name__, function, "builtin")
    for function in (web_search, query_knowledge, execute_code, get_current_time, calculator)
}
