"""`owui image build`: owui's container image from the Dockerfile, with docker or podman.

The Dockerfile takes its base image and package index as build arguments, so a machine with no
access to Docker Hub or PyPI (a private registry, a mirror, a corporate proxy) builds it without
editing a file: `--base`, `--index-url`, `--extra-index-url`, and `--build-arg`/`--volume` for
anything else the machine needs (podman mounts folders into the build, e.g. pip's
configuration and the wheels it names).
"""

from __future__ import annotations

import shutil
import subprocess
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from owui.cli.serve import fail

app = typer.Typer(help="Build owui's container image.", no_args_is_help=True)
# A source checkout: the Dockerfile sits three levels above this package (src/owui/cli).
CHECKOUT = Path(__file__).resolve().parents[3]


class Tool(StrEnum):
    auto = "auto"
    docker = "docker"
    podman = "podman"


def _names(tool: Tool) -> list[str]:
    return ["docker", "podman"] if tool is Tool.auto else [tool.value]


def find_tool(tool: Tool) -> str:
    """The container tool's path: the one asked for, else docker, else podman."""
    names = _names(tool)
    for name in names:
        program = shutil.which(name)
        if program is not None:
            return program
    raise fail(f"{' or '.join(names)} is not installed or not on PATH; install one "
               "(apt-get install podman, or Docker) to build the image")


def build_command(program: str, tag: str, context: Path, base: str | None,
                  index_url: str | None, extra_index_url: str | None,
                  build_args: list[str], volumes: list[str], ulimits: list[str]) -> list[str]:
    args = {"BASE": base, "PIP_INDEX_URL": index_url, "PIP_EXTRA_INDEX_URL": extra_index_url}
    command = [program, "build", "--tag", tag, "--file", str(context / "Dockerfile")]
    for name, value in args.items():
        if value:
            command += ["--build-arg", f"{name}={value}"]
    for item in build_args:
        command += ["--build-arg", item]
    for item in volumes:
        command += ["--volume", item]
    for item in ulimits:
        command += ["--ulimit", item]
    return [*command, str(context)]


def _check_pairs(items: list[str], option: str, separator: str) -> None:
    for item in items:
        if separator not in item:
            raise fail(f"{option} {item!r}: expected NAME{separator}VALUE")


@app.command()
def build(
    tag: Annotated[str, typer.Option("--tag", "-t", help="Name of the image.")] = "owui:latest",
    base: Annotated[str | None, typer.Option(
        help="Base image of both stages (default: the Dockerfile's, the official Python "
             "image): any Debian-like image with python3 and its venv module.",
        show_default=False)] = None,
    index_url: Annotated[str | None, typer.Option(
        help="Package index pip installs from (default: PyPI).", show_default=False)] = None,
    extra_index_url: Annotated[str | None, typer.Option(
        help="Further package indexes, space-separated, e.g. PyTorch's CPU-only "
             "https://download.pytorch.org/whl/cpu (no CUDA in the image).",
        show_default=False)] = None,
    build_arg: Annotated[list[str] | None, typer.Option(
        help="KEY=VALUE passed to the build (repeatable).", show_default=False)] = None,
    volume: Annotated[list[str] | None, typer.Option(
        help="HOST:CONTAINER[:ro] mounted into the build's steps (podman only; repeatable).",
        show_default=False)] = None,
    ulimit: Annotated[list[str] | None, typer.Option(
        help="Limits for the build's steps, e.g. nofile=1024:1024 (repeatable).",
        show_default=False)] = None,
    context: Annotated[Path, typer.Option(
        help="Folder holding the Dockerfile (default: this source checkout).",
        file_okay=False)] = CHECKOUT,
    tool: Annotated[Tool, typer.Option(help="Container tool to build with.")] = Tool.auto,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the build command; run nothing.")] = False,
) -> None:
    """Build owui's image (one image for all five services) with docker or podman."""
    if not (context / "Dockerfile").is_file():
        raise fail(f"no Dockerfile in {context}: run from a source checkout of owui, or pass "
                   "--context FOLDER")
    _check_pairs(build_arg or [], "--build-arg", "=")
    _check_pairs(volume or [], "--volume", ":")
    if dry_run:  # the command is shown even where no tool is installed
        program = next((p for p in map(shutil.which, _names(tool)) if p), _names(tool)[0])
    else:
        program = find_tool(tool)
    if volume and Path(program).name == "docker":
        raise fail("--volume needs podman: `docker build` cannot mount folders into a build")
    command = build_command(program, tag, context, base, index_url, extra_index_url,
                            build_arg or [], volume or [], ulimit or [])
    if dry_run:
        typer.echo(" ".join(command))
        return
    code = subprocess.run(command, check=False).returncode
    if code:
        raise fail(f"{Path(program).name} build exited with {code}; the output above says why",
                   code)
    typer.echo(f"built {tag}")
