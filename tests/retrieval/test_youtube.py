"""`POST /api/v1/retrieval/process/youtube` on a real retrieval service whose transcript loader
(youtube-transcript-api) goes through YOUTUBE_LOADER_PROXY_URL to a stand-in for YouTube
(tests/fakes/youtube.py): an HTTPS proxy that ends TLS with a certificate of a CA this module
makes, trusted by the service through REQUESTS_CA_BUNDLE. The library's own requests are
answered as YouTube answers them. A transcript is stored and found by a search; a video without
captions, a URL that is no video's, YouTube unreachable: a 400 or 502 naming the URL, and
nothing stored."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from owui.cli.certs import make_ca, make_leaf, new_key, write_cert, write_key
from owui.core.config import SettingsError, load_settings
from owui.core.errors import BadRequestError
from owui.core.tokens import issue_token
from owui.retrieval.youtube import video_id
from tests.conftest import bearer
from tests.support.procs import Proc, free_port, spawn, start_service

OTTERS = "https://www.youtube.com/watch?v=otterfacts1"


@dataclass
class YouTubeStack:
    retrieval: Proc
    proxy: Proc
    tokens: dict[str, str]

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.retrieval.url, headers=bearer(self.tokens[who]),
                            timeout=60)


def _certificates(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA of the test's, and a certificate for YouTube's host signed by it."""
    ca_key, leaf_key = new_key(), new_key()
    ca = make_ca(ca_key, f"Test CA {name}")
    paths = folder / f"{name}-ca.pem", folder / f"{name}.pem", folder / f"{name}-key.pem"
    write_cert(paths[0], ca)
    write_cert(paths[1], make_leaf("www.youtube.com", ["www.youtube.com"], leaf_key, ca, ca_key))
    write_key(paths[2], leaf_key)
    return paths


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[YouTubeStack]:
    folder = tmp_path_factory.mktemp("youtube")
    logs = folder / "logs"
    ca, cert, key = _certificates(folder, "trusted")
    _, other_cert, other_key = _certificates(folder, "untrusted")
    port = free_port()
    proxy = spawn([sys.executable, "-m", "tests.fakes.youtube", str(port), str(cert), str(key),
                   str(other_cert), str(other_key)], "youtube-proxy", port, {}, logs)
    try:
        proxy.wait_ready(timeout=30, path="/healthz")
        retrieval = start_service("retrieval", {
            "JWT_SECRET_KEY": jwt_secret, "OWUI_DATA_DIR": str(folder / "data"),
            "OWUI_LOG_FORMAT": "text", "VECTOR_DB": "lancedb", "CHUNK_SIZE": "64",
            "CHUNK_OVERLAP": "8", "YOUTUBE_LOADER_PROXY_URL": proxy.url,
            "YOUTUBE_LOADER_LANGUAGE": "de,en", "REQUESTS_CA_BUNDLE": str(ca)}, logs)
    except BaseException:
        proxy.stop()
        raise
    tokens = {who: issue_token(jwt_secret, f"{who}-id", "admin" if who == "admin" else "user",
                               timedelta(hours=1))[0] for who in ("alice", "bob", "admin")}
    try:
        yield YouTubeStack(retrieval, proxy, tokens)
    finally:
        retrieval.stop()
        proxy.stop()


@pytest.fixture
def alice(stack: YouTubeStack) -> Iterator[httpx.Client]:
    with stack.client("alice") as client:
        yield client


def _query(client: httpx.Client, name: str, text: str) -> httpx.Response:
    return client.post("/api/v1/retrieval/query/collection",
                       json={"collection_names": [name], "query": text, "k": 3})


def _documents(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [doc for docs in answer.json()["documents"] for doc in docs]


def _refused(client: httpx.Client, url: str, status: int) -> str:
    answer = client.post("/api/v1/retrieval/process/youtube", json={"url": url})
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert url in detail, detail
    # Nothing stored: the collection the URL would have named does not exist.
    name = hashlib.sha256(url.encode()).hexdigest()[:63]
    assert _query(client, name, "otters").status_code == 404
    return str(detail)


def test_a_transcript_is_stored_and_searchable(stack: YouTubeStack,
                                               alice: httpx.Client) -> None:
    answer = alice.post("/api/v1/retrieval/process/youtube", json={"url": OTTERS})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    name = hashlib.sha256(OTTERS.encode()).hexdigest()[:63]
    # YOUTUBE_LOADER_LANGUAGE="de,en": the German track comes first, though YouTube made it.
    assert body["status"] is True and body["collection_name"] == name
    assert body["filename"] == OTTERS
    assert body["file"]["meta"] == {"name": OTTERS, "source": OTTERS}
    assert body["content"].startswith("Seeotter halten sich im Schlaf")
    assert body["file"]["data"]["content"] == body["content"]
    assert any("Floß" in doc for doc in _documents(_query(alice, name, "Gruppe Otter")))
    # No German track: English, written by people; the apostrophe unescaped twice over.
    kelp = alice.post("/api/v1/retrieval/process/youtube",
                      json={"url": "https://youtu.be/kelpforest1?si=share",
                            "collection_name": "kelp-video"})
    assert kelp.status_code == 200, kelp.text
    assert kelp.json()["content"] == ("Kelp forests grow along cold coasts. "
                                      "Sea urchins eat kelp & otters eat urchins.")
    assert any("urchins" in doc for doc in _documents(_query(alice, "kelp-video", "urchins")))
    # Another user's collection of that name is not theirs to search.
    with stack.client("bob") as bob:
        assert _query(bob, "kelp-video", "urchins").status_code == 404


def test_read_without_storing(alice: httpx.Client) -> None:
    url = "https://www.youtube.com/shorts/otterfacts1"
    answer = alice.post("/api/v1/retrieval/process/youtube", params={"process": "false"},
                        json={"url": url})
    assert answer.status_code == 200, answer.text
    assert answer.json()["collection_name"] is None
    assert "Seeotter" in answer.json()["content"]
    assert _query(alice, hashlib.sha256(url.encode()).hexdigest()[:63], "x").status_code == 404


def test_a_video_without_captions_or_unavailable_is_a_400(alice: httpx.Client) -> None:
    detail = _refused(alice, "https://www.youtube.com/watch?v=nocaptions0", 400)
    assert "has no captions" in detail
    assert "unavailable" in _refused(alice, "https://www.youtube.com/watch?v=missing0000", 400)


def test_a_url_that_is_no_video_is_a_400(alice: httpx.Client) -> None:
    for url in ("https://example.com/watch?v=otterfacts1", "https://www.youtube.com/watch",
                "https://www.youtube.com/watch?v=too-short", "not a url"):
        assert "is not a YouTube video URL" in _refused(alice, url, 400)
    for bad in ({}, {"url": ""}, {"url": 3}):
        answer = alice.post("/api/v1/retrieval/process/youtube", json=bad)
        assert answer.status_code == 422, answer.text


@pytest.mark.parametrize(("control", "cause"), [("down", "ProxyError"),
                                                ("untrusted", "SSLError")])
def test_youtube_unreachable_is_a_502(stack: YouTubeStack, alice: httpx.Client, control: str,
                                      cause: str) -> None:
    """The proxy cannot reach YouTube, or what answers is not YouTube by a certificate the
    service trusts."""
    assert httpx.post(f"{stack.proxy.url}/control/{control}").status_code == 200
    try:
        detail = _refused(alice, OTTERS + "&t=42", 502)
    finally:
        httpx.post(f"{stack.proxy.url}/control/up")
    assert "could not be reached through YOUTUBE_LOADER_PROXY_URL" in detail
    assert f"({cause})" in detail
    assert alice.post("/api/v1/retrieval/process/youtube",
                      json={"url": OTTERS}).status_code == 200


def test_the_admin_changes_the_settings_from_the_app(stack: YouTubeStack,
                                                     alice: httpx.Client) -> None:
    """The Web Search page's YouTube fields: read, saved (as the app sends them), applied."""
    with stack.client("admin") as admin:
        web = admin.get("/api/v1/retrieval/config").json()["web"]
        assert web["YOUTUBE_LOADER_LANGUAGE"] == ["de", "en"]
        assert web["YOUTUBE_LOADER_PROXY_URL"] == stack.proxy.url
        assert web["YOUTUBE_LOADER_TRANSLATION"] is None
        try:
            saved = admin.post("/api/v1/retrieval/config/update",
                               json={"web": {"YOUTUBE_LOADER_LANGUAGE": "fr, en"}})
            assert saved.status_code == 200, saved.text
            assert saved.json()["web"]["YOUTUBE_LOADER_LANGUAGE"] == ["fr", "en"]
            english = alice.post("/api/v1/retrieval/process/youtube", params={"process": False},
                                 json={"url": OTTERS})
            assert english.json()["content"].startswith("Sea otters hold hands")
            for key, value in (("YOUTUBE_LOADER_LANGUAGE", []),
                               ("YOUTUBE_LOADER_PROXY_URL", "socks5://proxy:1080")):
                refused = admin.post("/api/v1/retrieval/config/update",
                                     json={"web": {key: value}})
                assert refused.status_code == 400 and key in refused.json()["detail"]
            assert alice.post("/api/v1/retrieval/config/update", json={
                "web": {"YOUTUBE_LOADER_PROXY_URL": ""}}).status_code == 403
        finally:
            admin.post("/api/v1/retrieval/config/update",
                       json={"web": {"YOUTUBE_LOADER_LANGUAGE": ["de", "en"]}})
        assert admin.get("/api/v1/retrieval/config").json()["web"][
            "YOUTUBE_LOADER_PROXY_URL"] == stack.proxy.url


@pytest.mark.parametrize(("url", "expected"), [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3", "dQw4w9WgXcQ"),
    ("https://youtu.be/dQw4w9WgXcQ?si=x", "dQw4w9WgXcQ"),
    ("https://m.youtube.com/shorts/dQw4w9WgXcQ", "dQw4w9WgXcQ"),
    ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "dQw4w9WgXcQ"),
    ("https://www.youtube.com/live/dQw4w9WgXcQ?feature=share", "dQw4w9WgXcQ"),
])
def test_video_ids_from_urls(url: str, expected: str) -> None:
    assert video_id(url) == expected


@pytest.mark.parametrize("url", ["ftp://youtu.be/dQw4w9WgXcQ", "https://youtu.be/",
                                 "https://www.youtube.com/channel/dQw4w9WgXcQ",
                                 "http://[www.youtube.com/watch?v=dQw4w9WgXcQ"])
def test_urls_that_name_no_video(url: str) -> None:
    with pytest.raises(BadRequestError, match="is not a YouTube video URL"):
        video_id(url)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OWUI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("YOUTUBE_LOADER_LANGUAGE", "de, en,")
    monkeypatch.setenv("YOUTUBE_LOADER_PROXY_URL", "")
    settings = load_settings()
    assert settings.youtube_loader_language == ["de", "en"]
    assert settings.youtube_loader_proxy_url is None
    for variable, value in (("YOUTUBE_LOADER_PROXY_URL", "socks5://proxy:1080"),
                            ("YOUTUBE_LOADER_LANGUAGE", " , ")):
        monkeypatch.setenv(variable, value)
        with pytest.raises(SettingsError) as caught:
            load_settings()
        assert f"{variable}:" in str(caught.value)
        monkeypatch.delenv(variable)
