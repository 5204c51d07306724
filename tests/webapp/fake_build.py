"""A small stand-in for the open-webui wheel and its web app build, for tests that need no
100 MB download: the same layout, a few files."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

INDEX = "<!doctype html><html><head><title>Open WebUI</title></head><body>app</body></html>"
APP_JS = "export const start = () => 'hello';\n" * 200  # large enough to be worth gzip
FILES = {
    "frontend/index.html": INDEX,
    "frontend/manifest.json": '{"name": "Open WebUI"}',
    "frontend/opensearch.xml": "<OpenSearchDescription/>",
    "frontend/audio/notification.mp3": "ID3-not-really",
    "frontend/_app/version.json": '{"version": "1"}',
    "frontend/_app/immutable/entry/start.abc123.js": APP_JS,
    "frontend/static/only-in-frontend.txt": "from the frontend's static copy",
    "static/user.png": "\x89PNG-user",
    "static/loader.js": "console.log('loader');\n",
    "static/custom.css": "",
    "licenses/LICENSE": "Open WebUI License (test copy)",
}


def write_build(root: Path) -> Path:
    """The unpacked layout (frontend/, static/, licenses/) under `root`."""
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("latin-1"))
    return root


def write_wheel(directory: Path, version: str = "0.12.4") -> Path:
    """A wheel pip accepts from --find-links, holding the build as open-webui's does."""
    dist = f"open_webui-{version}.dist-info"
    members = {("open_webui/" + n if not n.startswith("licenses/") else f"{dist}/{n}"): t
               for n, t in FILES.items()}
    members["open_webui/__init__.py"] = ""
    members[f"{dist}/METADATA"] = (f"Metadata-Version: 2.1\nName: open-webui\n"
                                   f"Version: {version}\n")
    members[f"{dist}/WHEEL"] = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for name, text in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode("latin-1")).digest())
        record.append(f"{name},sha256={digest.rstrip(b'=').decode()},{len(text)}")
    members[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"open_webui-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text.encode("latin-1"))
    return path
