"""The `owui` command. Wiring only: each command or group lives in its own module, and
modules import their heavy dependencies inside the command, so `owui serve` starts fast."""

from __future__ import annotations

from typing import Annotated

import typer

import owui
from owui.cli import serve, status, up, users

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
app.command()(__import__("owui.cli.render", fromlist=["render"]).render)
app.command()(__import__("owui.cli.deploy", fromlist=["deploy"]).deploy)
app.add_typer(__import__("owui.cli.profile_cmd", fromlist=["app"]).app, name="profiles")
app.command()(__import__("owui.cli.ingest", fromlist=["ingest"]).ingest)
app.command()(__import__("owui.cli.migrate", fromlist=["migrate"]).migrate)


def main() -> None:
    app(prog_name="owui")
