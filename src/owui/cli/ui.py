"""`owui ui`: fetch Open WebUI's web app from the package index, unchanged, and check it.

The `open-webui` wheel is downloaded by pip (so the user's index, proxy and certificates apply),
kept in `~/.cache/owui/wheels/`, and only its `frontend/` and `static/` folders and its licence
files are unpacked, byte for byte, into `OWUI_DATA_DIR/webapp/<version>/`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from owui.cli.serve import fail
from owui.core.wheels import WheelDownloadError, fetched_wheel
from owui.gateway.webapp.build import (
    CURRENT,
    DEFAULT_VERSION,
    installed_version,
    locate,
    valid_version,
    webapp_root,
)

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(help="Open WebUI's web app: install it from the package index, check it.",
                  no_args_is_help=True)
PACKAGE = "open-webui"
# Wheel members taken, and where they go under webapp/<version>/.
_FOLDERS = {"open_webui/frontend/": "frontend/", "open_webui/static/": "static/"}
_LICENCES = "licenses/"

DataDirOption = Annotated[Path | None, typer.Option(
    "--data-dir", help="Where the local stores live (default: $OWUI_DATA_DIR or ~/.owui).",
    show_default=False)]
VersionOption = Annotated[str, typer.Option(help="The open-webui release to install.")]


def data_dir_of(option: Path | None) -> Path:
    chosen = option or Path(os.environ.get("OWUI_DATA_DIR") or Path.home() / ".owui")
    return chosen.expanduser().resolve()


@app.command()
def install(
    version: VersionOption = DEFAULT_VERSION,
    data_dir: DataDirOption = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Unpack again even when this version is installed.")] = False,
) -> None:
    """Download the open-webui wheel (once; it is cached) and unpack its web app."""
    from rich.console import Console

    if not valid_version(version):
        raise fail(f"{version!r} is not a release number such as {DEFAULT_VERSION}", 2)
    console = Console(stderr=True)
    directory = data_dir_of(data_dir)
    target = webapp_root(directory) / version
    if not force and installed_version(directory) == version and locate(directory).ready:
        console.print(f"Open WebUI {version}'s web app is installed in {target}")
        return
    try:
        wheel = fetched_wheel(PACKAGE, version, "about 100 MB")
    except WheelDownloadError as exc:
        raise fail(f"{exc}\nowui runs the API without the web app meanwhile.") from None
    unpack(wheel, target, console)
    (webapp_root(directory) / CURRENT).write_text(version + "\n")
    console.print(f"[green]installed[/green] Open WebUI {version}'s web app in {target} "
                  f"(licence: {target / 'licenses' / 'LICENSE'}); `owui up` serves it")


@app.command()
def status(data_dir: DataDirOption = None) -> None:
    """Which web app `owui up` serves, or why it serves none."""
    directory = data_dir_of(data_dir)
    build = locate(directory, _env_path("FRONTEND_BUILD_DIR"), _env_path("STATIC_DIR"))
    if not build.ready:
        typer.echo(build.problem)
        raise typer.Exit(1)
    label = f"Open WebUI {build.version}" if build.version else "the build in FRONTEND_BUILD_DIR"
    typer.echo(f"{label}: {build.frontend} (static files: {build.static})")


def _env_path(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value) if value else None


def unpack(wheel: Path, target: Path, console: Console) -> None:
    """The wheel's frontend/, static/ and licence files into `target`, unchanged; a partial
    unpack never replaces a complete one (it is made beside it, then renamed)."""
    import shutil
    import tempfile
    import zipfile

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        wheel.unlink(missing_ok=True)
        raise fail(f"the cached wheel {wheel} is damaged ({exc}); it was removed, run the "
                   "command again to download it anew") from None
    with archive, tempfile.TemporaryDirectory(dir=target.parent, prefix=".unpack-") as scratch:
        members = [(info, _destination(info.filename)) for info in archive.infolist()]
        members = [(info, dest) for info, dest in members if dest and not info.is_dir()]
        if not any(dest == "frontend/index.html" for _, dest in members):
            raise fail(f"{wheel} holds no open_webui/frontend/index.html: not a web app build")
        columns = (TextColumn("unpacking"), BarColumn(), DownloadColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("unpack", total=sum(i.file_size for i, _ in members))
            for info, dest in members:
                path = Path(scratch, dest)
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with archive.open(info) as source, open(path, "wb") as out:
                        shutil.copyfileobj(source, out, 1024 * 1024)
                except (zipfile.BadZipFile, OSError) as exc:  # a CRC mismatch among them
                    raise fail(f"cannot unpack {info.filename} from {wheel}: {exc}; delete "
                               "the wheel and run the command again") from None
                progress.advance(task, info.file_size)
        if target.exists():
            shutil.rmtree(target)
        os.replace(scratch, target)
        os.mkdir(scratch)  # TemporaryDirectory removes it again on the way out


def _destination(name: str) -> str | None:
    """Where a wheel member goes under webapp/<version>/, or None when it is not taken."""
    if name.startswith("/") or ".." in name.split("/"):
        return None
    for prefix, folder in _FOLDERS.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            return folder + name[len(prefix):]
    head, _, rest = name.partition("/")
    if head.endswith(".dist-info") and rest.startswith(_LICENCES) and len(rest) > len(_LICENCES):
        return rest
    return None
