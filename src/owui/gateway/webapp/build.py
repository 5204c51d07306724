"""Where Open WebUI's built web app lives on this machine, and whether it can be served.

`owui ui install` unpacks the `open-webui` wheel's `frontend/` and `static/` folders, unchanged,
into `OWUI_DATA_DIR/webapp/<version>/` and names that version in `OWUI_DATA_DIR/webapp/current`.
`FRONTEND_BUILD_DIR` and `STATIC_DIR` (Open WebUI's own names) point at a build the user already
has instead. Nothing here writes into a build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_VERSION = "0.12.4"
CURRENT = "current"
INSTALL_HINT = "run `owui ui install` (or set FRONTEND_BUILD_DIR to a build you have)"
_VERSION = re.compile(r"^\d+(\.\d+){1,3}([a-z]+\d*)?(\.post\d+)?$")


def valid_version(version: str) -> bool:
    """A release number such as 0.12.4 (it names a folder: nothing else gets through)."""
    return bool(_VERSION.match(version))


def webapp_root(data_dir: Path) -> Path:
    return data_dir / "webapp"


def installed_version(data_dir: Path) -> str | None:
    try:
        version = (webapp_root(data_dir) / CURRENT).read_text().strip()
    except OSError:
        return None
    return version if valid_version(version) else None


@dataclass(frozen=True, slots=True)
class Build:
    """The folders to serve, or `problem`: why the web app cannot be served (the API can)."""

    frontend: Path | None
    static: Path | None
    version: str | None
    problem: str | None = None

    @property
    def ready(self) -> bool:
        return self.problem is None


def locate(data_dir: Path, frontend_dir: Path | None = None,
           static_dir: Path | None = None) -> Build:
    """The build named by FRONTEND_BUILD_DIR/STATIC_DIR, else the installed one."""
    version = None
    if frontend_dir is None:
        version = installed_version(data_dir)
        if version is None:
            return Build(None, static_dir, None,
                         f"Open WebUI's web app is not installed in {webapp_root(data_dir)}: "
                         f"{INSTALL_HINT}. The API works without it.")
        frontend_dir = webapp_root(data_dir) / version / "frontend"
        static_dir = static_dir or webapp_root(data_dir) / version / "static"
    frontend_dir = frontend_dir.expanduser()
    static_dir = (static_dir or frontend_dir / "static").expanduser()
    index = frontend_dir / "index.html"
    if not index.is_file():
        return Build(frontend_dir, static_dir, version,
                     f"The web app in {frontend_dir} is incomplete or broken: {index} is "
                     f"missing; {INSTALL_HINT}. The API works without it.")
    return Build(frontend_dir, static_dir, version)
