"""The `owui` command. Wiring only: each command or group lives in its own module, and
modules import their heavy dependencies inside the command, so `owui serve` starts fast."""

from __future__ import annotations

from typing import Annotated

import typer

import owui
from owui.cli import (
    certs,
    deploy,
    image,
    ingest,
    migrate,
    profile_cmd,
    render,
    serve,
    status,
    ui,
    up,
    users,
)

app = typer.Typer(
    name="owui",
    help="The Open WebUI backend as five services: run them, check them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold secrets from the environment
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"owui {owui.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """The Open WebUI backend as five services: run them, check them."""


app.command()(serve.serve)
app.command()(up.up)
app.command()(status.status)
app.add_typer(users.app, name="users")
app.command()(render.render)
app.command()(deploy.deploy)
app.add_typer(profile_cmd.app, name="profiles")
app.command()(ingest.ingest)
app.command()(migrate.migrate)
app.add_typer(ui.app, name="ui")
app.add_typer(image.app, name="image")
app.command()(certs.certs)


def main() -> None:
    app(prog_name="owui")
