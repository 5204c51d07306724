"""core.jsonbody on its own: what the strict parse refuses, and the middleware's answers."""

from __future__ import annotations

import pytest
from starlette.types import Message, Receive, Scope, Send

from owui.core.jsonbody import JsonBodyCheck, MalformedJson, loads, loads_object


@pytest.mark.parametrize("raw", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b'{"title": "\\ud800"}',
    b'{"title": "\xed\xa0\x80"}',
    b'{"title": "\xff"}',
    b'{"n": NaN}', b'{"n": Infinity}', b'{"n": 1e400}', b'{"n": 1' + b"0" * 400 + b"}",
    b"\xef\xbb\xbf{}",
    b'{"a": "b\x00"}',
    b'{"a": ', b"", b"{'a': 1}",
])
def test_refused_with_a_reason(raw: bytes) -> None:
    with pytest.raises(MalformedJson, match=r"Malformed JSON body: .+"):
        loads(raw)


def test_what_json_allows_is_kept() -> None:
    assert loads(b'{"b": 18446744073709551616, "c": "\\ud83d\\ude00"}') == {
        "b": 1.8446744073709552e19, "c": "\N{GRINNING FACE}"}


@pytest.mark.parametrize("raw", [b'{"a": "x\\u0000"}', b'{"\\u0000": 1}',
                                 b'["\\\\\\u0000"]'])  # an escaped backslash, then NUL
def test_nul_is_refused(raw: bytes) -> None:
    """JSON allows it; PostgreSQL's text cannot hold it."""
    with pytest.raises(MalformedJson, match="NUL character"):
        loads(raw)


def test_the_text_backslash_u0000_is_kept() -> None:
    assert loads(b'["\\\\u0000", "a\\\\\\\\u0000"]') == ["\\u0000", "a\\\\u0000"]


def test_an_object_is_required() -> None:
    assert loads_object(b'{"a": 1}') == {"a": 1}
    with pytest.raises(MalformedJson, match="must be a JSON object, not an array"):
        loads_object(b"[]")


async def _call(body: list[bytes], content_type: bytes = b"application/json",
                limit: int = 1000) -> tuple[list[Message], bytes | None]:
    """Runs the middleware on `body` (sent in these chunks); the answer, and what the app read."""
    chunks = [{"type": "http.request", "body": chunk, "more_body": i < len(body) - 1}
              for i, chunk in enumerate(body)]
    sent: list[Message] = []
    seen: list[bytes] = []

    async def receive() -> Message:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(_scope: Scope, inner: Receive, _send: Send) -> None:
        seen.append((await inner())["body"])

    scope = {"type": "http", "method": "POST", "path": "/x",
             "headers": [(b"content-type", content_type)]}
    await JsonBodyCheck(app, limit)(scope, receive, send)
    return sent, (seen[0] if seen else None)


async def test_a_good_body_reaches_the_app_whole() -> None:
    sent, seen = await _call([b'{"a":', b" 1}"])
    assert sent == [] and seen == b'{"a": 1}'


async def test_malformed_is_400_and_too_large_is_413() -> None:
    sent, seen = await _call([b'{"a": NaN}'])
    assert seen is None and sent[0]["status"] == 400 and b"Malformed JSON" in sent[1]["body"]
    sent, seen = await _call([b'{"a": "', b"x" * 1000 + b'"}'])
    assert seen is None and sent[0]["status"] == 413


async def test_other_bodies_pass_unread() -> None:
    sent, seen = await _call([b"a=NaN"], b"application/x-www-form-urlencoded")
    assert sent == [] and seen == b"a=NaN"
