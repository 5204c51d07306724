"""The gateway serves the web app's files as Open WebUI does, without a token, while every API
path stays locked."""

from __future__ import annotations

import gzip
import socket
import time
from pathlib import Path

import httpx

from tests.support.procs import Proc
from tests.webapp.fake_build import APP_JS, FILES, INDEX, write_build

HTML = {"Accept": "text/html"}


def test_pages_fall_back_to_index_without_caching(app_gateway: Proc) -> None:
    for path in ("/", "/c/3b8d0f", "/admin/settings/general", "/auth"):
        page = httpx.get(app_gateway.url + path, headers=HTML)
        assert page.status_code == 200, path
        assert page.text == INDEX
        assert page.headers["cache-control"] == "no-cache"
        assert page.headers["content-type"].startswith("text/html")


def test_files_static_and_immutable_caching(app_gateway: Proc) -> None:
    url = app_gateway.url
    for path, name in (("/manifest.json", "frontend/manifest.json"),
                       ("/opensearch.xml", "frontend/opensearch.xml"),
                       ("/audio/notification.mp3", "frontend/audio/notification.mp3"),
                       ("/_app/version.json", "frontend/_app/version.json"),
                       ("/static/loader.js", "static/loader.js"),
                       ("/static/user.png", "static/user.png"),
                       # not in STATIC_DIR: the build's own static/ copy, as Open WebUI's
                       ("/static/only-in-frontend.txt", "frontend/static/only-in-frontend.txt")):
        response = httpx.get(url + path)
        assert response.status_code == 200, path
        assert response.content == FILES[name].encode("latin-1"), path
        assert response.headers["cache-control"] == "no-cache", path
    hashed = httpx.get(url + "/_app/immutable/entry/start.abc123.js",
                       headers={"Accept-Encoding": "identity"})
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-encoding" not in hashed.headers and hashed.text == APP_JS
    # Revalidated with the ETag: 304, nothing sent again.
    again = httpx.get(url + "/manifest.json")
    revalidated = httpx.get(url + "/manifest.json",
                            headers={"If-None-Match": again.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""


def test_missing_scripts_and_static_files_are_404(app_gateway: Proc) -> None:
    url = app_gateway.url
    for path in ("/_app/immutable/entry/gone.js", "/static/nope.png", "/nothing.js"):
        response = httpx.get(url + path, headers=HTML)
        assert response.status_code == 404, path
        assert path in response.json()["detail"]
    assert httpx.post(url + "/", json={}).status_code == 405


def test_gzip_when_the_client_takes_it(app_gateway: Proc) -> None:
    url = app_gateway.url + "/_app/immutable/entry/start.abc123.js"
    for _ in range(2):  # compressed once, then served from memory
        response = httpx.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["vary"] == "Accept-Encoding"
        assert response.headers["etag"].startswith("W/")
        assert int(response.headers["content-length"]) < len(APP_JS) / 5
        assert response.text == APP_JS  # httpx decodes it
    refused = httpx.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers
    with httpx.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as raw:
        assert gzip.decompress(b"".join(raw.iter_raw())) == APP_JS.encode()


def test_no_escape_from_the_build(app_gateway: Proc) -> None:
    for path in (b"/static/..%2f..%2f..%2fetc%2fpasswd", b"/static/../../../../etc/passwd",
                 b"/../../../../etc/passwd"):
        with socket.create_connection(("127.0.0.1", app_gateway.port)) as sock:
            sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        assert b"root:" not in reply, path


def test_api_paths_stay_locked(app_gateway: Proc) -> None:
    for path in ("/api/v1/chats/", "/api/anything", "/api/v1/configs/banners", "/ollama/api/tags",
                 "/openai/models", "/ws/socket.io/?EIO=4&transport=polling", "/oauth/x/login",
                 "/api/v1/users/some-id/profile/image"):
        response = httpx.get(app_gateway.url + path, headers={"Accept": "text/html"})
        assert response.status_code == 401, path


def test_without_a_build_the_page_says_what_to_do(start_gateway) -> None:
    gateway = start_gateway()
    page = httpx.get(gateway.url + "/", headers=HTML)
    assert page.status_code == 404 and "owui ui install" in page.text
    assert "owui ui install" in httpx.get(gateway.url + "/static/user.png").json()["detail"]
    assert httpx.get(gateway.url + "/api/config").status_code == 200  # the API works

    # Installed while the gateway runs: served without a restart.
    data_dir = Path(gateway.env["OWUI_DATA_DIR"])
    write_build(data_dir / "webapp" / "0.12.4")
    (data_dir / "webapp" / "current").write_text("0.12.4\n")
    deadline = time.monotonic() + 5
    while httpx.get(gateway.url + "/", headers=HTML).status_code != 200:
        assert time.monotonic() < deadline, "the new build was never served"
        time.sleep(0.2)
    assert httpx.get(gateway.url + "/static/user.png").status_code == 200

    broken = start_gateway(FRONTEND_BUILD_DIR="/nonexistent/build")
    page = httpx.get(broken.url + "/", headers=HTML)
    assert page.status_code == 404 and "/nonexistent/build" in page.text
