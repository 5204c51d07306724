"""A YouTube video's transcript, for `process/youtube` (Open WebUI's YouTube loader): the video's
id from its URL, then its captions through youtube-transcript-api, in the first language of
YOUTUBE_LOADER_LANGUAGE that the video has (captions written by people before YouTube's own),
every request through YOUTUBE_LOADER_PROXY_URL when it is set.

The library speaks `requests`, so it runs in a worker thread, on a session of its own per call
(the library's objects are not thread-safe) with a timeout on every request. The session trusts
what `requests` trusts (REQUESTS_CA_BUNDLE: a proxy that inspects TLS brings its CA that way).
What fails is told in two kinds: the video has nothing to read (400) or YouTube, or the proxy,
could not be reached or refused us (502); each message names the URL."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import ParseError

import requests
import youtube_transcript_api as yt
from defusedxml import DefusedXmlException
from youtube_transcript_api.proxies import GenericProxyConfig

from owui.core.config import Settings
from owui.core.errors import BadRequestError, UpstreamError
from owui.retrieval.extract import Section

VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
HOSTS = ("youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com",
         "youtube-nocookie.com", "www.youtube-nocookie.com")
# Paths whose next part is the id: youtube.com/embed/ID, /shorts/ID, /live/ID, /v/ID.
ID_PATHS = ("embed", "shorts", "live", "v")
# Transcript failures that say the video has nothing to read; the rest are YouTube's or the
# network's (IpBlocked, RequestBlocked, YouTubeRequestFailed, unparsable answers).
NOTHING_TO_READ: tuple[type[Exception], ...] = (
    yt.TranscriptsDisabled, yt.NoTranscriptFound, yt.VideoUnavailable, yt.VideoUnplayable,
    yt.AgeRestricted, yt.InvalidVideoId, yt.PoTokenRequired)
# Answers we could not use: a caption file that is not XML (or is hostile XML), and the rest.
UNUSABLE = (requests.RequestException, yt.YouTubeTranscriptApiException, ParseError,
            DefusedXmlException)
WHY = {yt.TranscriptsDisabled: "the video has no captions",
       yt.VideoUnavailable: "the video is unavailable",
       yt.AgeRestricted: "the video is age-restricted",
       yt.PoTokenRequired: "YouTube requires a proof-of-origin token for its captions"}


def video_id(url: str) -> str:
    """The 11-character id of a YouTube video URL (watch, youtu.be, embed, shorts, live); 400
    for anything else."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:  # "http://[oops": not even a URL
        parts, host = urlsplit(""), ""
    segments = [s for s in parts.path.split("/") if s]
    found: str | None = None
    if parts.scheme in ("http", "https") and host == "youtu.be" and segments:
        found = segments[0]
    elif parts.scheme in ("http", "https") and host in HOSTS:
        if segments == ["watch"]:
            found = (parse_qs(parts.query).get("v") or [""])[0]
        elif len(segments) >= 2 and segments[0] in ID_PATHS:
            found = segments[1]
    if found is None or not VIDEO_ID.fullmatch(found):
        raise BadRequestError(
            f"{url} is not a YouTube video URL: give https://www.youtube.com/watch?v=ID, "
            "https://youtu.be/ID or a /shorts/, /embed/ or /live/ link.")
    return found


class _TimedSession(requests.Session):
    """A session whose every request has a timeout (the library sets none)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def request(self, method: str | bytes, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.seconds)
        return super().request(method, url, *args, **kwargs)


def _fetch(settings: Settings, vid: str) -> str:
    proxy = settings.youtube_loader_proxy_url
    with _TimedSession(settings.web_loader_timeout) as session:
        api = yt.YouTubeTranscriptApi(
            proxy_config=GenericProxyConfig(http_url=proxy, https_url=proxy) if proxy else None,
            http_client=session)
        transcript = api.fetch(vid, languages=settings.youtube_loader_language)
    return " ".join(s.text.strip() for s in transcript if s.text.strip())


def _why(exc: Exception, languages: list[str]) -> str:
    if isinstance(exc, yt.NoTranscriptFound):
        return f"the video has no captions in {', '.join(languages)} (YOUTUBE_LOADER_LANGUAGE)"
    for kind, why in WHY.items():
        if isinstance(exc, kind):
            return why
    reason = getattr(exc, "reason", None)
    return f"YouTube will not play the video ({reason})" if reason else "YouTube refused it"


async def load_transcript(settings: Settings, url: str) -> tuple[str, list[Section]]:
    """(the video id, its transcript as one section); 400 when there is nothing to read, 502
    when YouTube or the proxy cannot be reached or answers what we cannot use."""
    vid = video_id(url)
    try:
        text = await asyncio.to_thread(_fetch, settings, vid)
    except NOTHING_TO_READ as exc:
        why = _why(exc, settings.youtube_loader_language)
        raise BadRequestError(f"No transcript for {url}: {why}.") from None
    except UNUSABLE as exc:
        through = " through YOUTUBE_LOADER_PROXY_URL" if settings.youtube_loader_proxy_url \
            else ""
        raise UpstreamError("youtube", 502, f"YouTube could not be reached{through} for {url}"
                            f" ({_cause(exc)}); try again later.") from None
    if not text:
        raise BadRequestError(f"No transcript for {url}: its captions are empty.")
    meta = {"source": url, "name": url, "video_id": vid}
    return vid, [Section(text, meta)]


def _cause(exc: Exception) -> str:
    """What went wrong, in a line: the library's messages run to paragraphs."""
    if isinstance(exc, yt.YouTubeRequestFailed):
        return f"YouTube answered {exc.reason}"
    if isinstance(exc, (yt.IpBlocked, yt.RequestBlocked)):
        return "YouTube blocks requests from this address"
    return exc.__class__.__name__
