"""`owui profiles list|show`: the shipped profiles, and what one of them (or a file) says."""

from __future__ import annotations

from typing import Annotated

import typer

from owui.cli.profiles import ProfileError, available_profiles, load_profile
from owui.cli.serve import fail

app = typer.Typer(help="The profiles owui ships, and what each one sets.",
                  no_args_is_help=True)

ProfileArgument = Annotated[str, typer.Argument(
    help="Profile name (see `owui profiles list`) or path to a profile .yaml file.",
    show_default=False)]


@app.command("list")
def list_profiles() -> None:
    """Name and description of each shipped profile."""
    for name in available_profiles():
        try:
            profile = load_profile(name)
        except ProfileError as exc:
            typer.echo(f"{name}\t(invalid: {exc})")
            continue
        typer.echo(f"{profile.name}\t{profile.description}")


@app.command("show")
def show(profile: ProfileArgument) -> None:
    """The profile as owui reads it, defaults filled in, as YAML."""
    import yaml

    try:
        chosen = load_profile(profile)
    except ProfileError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"# {chosen.source}")
    typer.echo(yaml.safe_dump(chosen.model_dump(mode="json"), sort_keys=False), nl=False)
