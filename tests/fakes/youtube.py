"""A stand-in for YouTube behind an HTTPS proxy, for the retrieval service's transcript loader
(youtube-transcript-api, on `requests`), so that the library's own requests are the ones tested.

The proxy answers `CONNECT www.youtube.com:443`, then ends TLS itself with a certificate for
www.youtube.com signed by a CA the test made (the service trusts it through REQUESTS_CA_BUNDLE,
as behind a proxy that inspects TLS) and answers what YouTube answers to the library's calls:
the watch page (which carries INNERTUBE_API_KEY), the innertube `player` call (playability and
caption tracks) and a caption track (timedtext XML, its text escaped twice as YouTube does).

Videos: `otterfacts1` has English captions written by people and German ones made by YouTube
(`asr`); `kelpforest1` has English ones only; `nocaptions0` has none; any other id is
unavailable. `POST /control/down` makes the proxy answer every CONNECT with 502 (it cannot reach
YouTube), `POST /control/untrusted` makes it end TLS with the other certificate given (one the
service does not trust), until `POST /control/up`; `GET /healthz` is the proxy's own.

Run: python -m tests.fakes.youtube PORT CERT KEY OTHER_CERT OTHER_KEY
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

HOST = "www.youtube.com"
API_KEY = "AIzaSyStandInKeyForTests_0123456789ab"
CAPTIONS = {
    ("otterfacts1", "en"): [(0.0, 2.5, "Sea otters hold hands while they sleep."),
                            (2.5, 3.0, "A group of resting otters is called a raft."),
                            (5.5, 2.0, "The otters' fur is the densest of any animal.")],
    ("otterfacts1", "de"): [(0.0, 2.5, "Seeotter halten sich im Schlaf an den Pfoten."),
                            (2.5, 3.0, "Eine Gruppe ruhender Otter heißt Floß.")],
    ("kelpforest1", "en"): [(0.0, 3.0, "Kelp forests grow along cold coasts."),
                            (3.0, 3.0, "Sea urchins eat kelp & otters eat urchins.")],
}
NAMES = {"en": "English", "de": "German (auto-generated)"}
UNAVAILABLE = {"status": "ERROR", "reason": "This video is unavailable"}
DOWN = threading.Event()
UNTRUSTED = threading.Event()
FLAGS = {"/control/down": DOWN, "/control/untrusted": UNTRUSTED}


def _track(video: str, lang: str) -> dict[str, Any]:
    track: dict[str, Any] = {
        "baseUrl": f"https://{HOST}/api/timedtext?v={video}&ei=x&caps=asr&lang={lang}"
                   "&fmt=srv3",
        "name": {"runs": [{"text": NAMES[lang]}]}, "vssId": f".{lang}", "languageCode": lang,
        "isTranslatable": True, "trackName": ""}
    if lang == "de":
        track["kind"] = "asr"
    return track


def player(video: str) -> dict[str, Any]:
    """The innertube `player` answer: playability, and the caption tracks when there are any."""
    langs = [lang for (vid, lang) in CAPTIONS if vid == video]
    if not langs and video != "nocaptions0":
        return {"responseContext": {}, "playabilityStatus": UNAVAILABLE}
    answer: dict[str, Any] = {"responseContext": {}, "playabilityStatus": {"status": "OK"},
                              "videoDetails": {"videoId": video, "title": video}}
    if langs:
        answer["captions"] = {"playerCaptionsTracklistRenderer": {
            "captionTracks": [_track(video, lang) for lang in langs],
            "translationLanguages": [{"languageCode": "fr",
                                      "languageName": {"runs": [{"text": "French"}]}}]}}
    return answer


def timedtext(video: str, lang: str) -> str:
    """YouTube's caption XML: the text XML-escaped over an HTML-escaped apostrophe."""
    lines = "".join(
        f'<text start="{start}" dur="{dur}">{escape(text.replace(chr(39), "&#39;"))}</text>'
        for start, dur, text in CAPTIONS[(video, lang)])
    return f'<?xml version="1.0" encoding="utf-8" ?><transcript>{lines}</transcript>'


def watch_page(video: str) -> str:
    config = json.dumps({"INNERTUBE_API_KEY": API_KEY, "VISITOR_DATA": "stand-in"})
    return (f"<!DOCTYPE html><html><head><title>{video} - YouTube</title></head><body>"
            f"<script>ytcfg.set({config});</script></body></html>")


class YouTube(BaseHTTPRequestHandler):
    """What runs inside the TLS tunnel: YouTube's own answers."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        video = (query.get("v") or [""])[0]
        if self.headers.get("Host") != HOST:
            self._send(421, "text/plain", "misdirected")
        elif url.path == "/watch":
            self._send(200, "text/html; charset=utf-8", watch_page(video))
        elif url.path == "/api/timedtext" and (video, query["lang"][0]) in CAPTIONS:
            self._send(200, "text/xml; charset=UTF-8", timedtext(video, query["lang"][0]))
        else:
            self._send(404, "text/html", "<html>Not Found</html>")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        if url.path != "/youtubei/v1/player" or parse_qs(url.query).get("key") != [API_KEY]:
            self._send(403, "application/json", json.dumps({"error": {"code": 403}}))
        elif body.get("context", {}).get("client", {}).get("clientName") is None:
            self._send(400, "application/json", json.dumps({"error": {"code": 400}}))
        else:
            self._send(200, "application/json", json.dumps(player(body["videoId"])))

    def _send(self, status: int, kind: str, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Proxy(BaseHTTPRequestHandler):
    """The HTTP proxy: CONNECT to YouTube's host opens the tunnel, TLS ends here."""

    protocol_version = "HTTP/1.1"
    tls: ssl.SSLContext
    untrusted: ssl.SSLContext

    def do_CONNECT(self) -> None:
        if DOWN.is_set() or self.path != f"{HOST}:443":
            self.send_response(502, "Bad Gateway")
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.close_connection = True
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        context = self.untrusted if UNTRUSTED.is_set() else self.tls
        try:
            tunnel = context.wrap_socket(self.connection, server_side=True)
        except ssl.SSLError:  # the client refused our certificate, as it should
            self.close_connection = True
            return
        YouTube(tunnel, self.client_address, self.server)
        self.close_connection = True

    def do_GET(self) -> None:
        self._answer(200 if self.path == "/healthz" else 404)

    def do_POST(self) -> None:
        if self.path in (*FLAGS, "/control/up"):
            for flag in FLAGS.values():
                flag.clear()
            if self.path in FLAGS:
                FLAGS[self.path].set()
            self._answer(200)
        else:
            self._answer(404)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def main(port: int, cert: str, key: str, other_cert: str, other_key: str) -> None:
    Proxy.tls, Proxy.untrusted = _context(cert, key), _context(other_cert, other_key)
    server = ThreadingHTTPServer(("127.0.0.1", port), Proxy)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), *sys.argv[2:6])
