"""`owui render k8s|compose`: manifests from a profile, written to a folder."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from owui.cli.profiles import ProfileError, load_profile
from owui.cli.serve import fail


class Target(StrEnum):
    k8s = "k8s"
    compose = "compose"


TargetArgument = Annotated[Target, typer.Argument(help="k8s or compose.", show_default=False)]
ProfileOption = Annotated[str, typer.Option(
    help="Profile name (see `owui profiles list`) or path to a profile .yaml file.")]
JwtOption = Annotated[str | None, typer.Option(
    "--jwt-secret-key", envvar="JWT_SECRET_KEY", show_envvar=True,
    help="The signing key to put in the Secret (default: a random one made now).",
    show_default=False)]
SecretsOption = Annotated[bool, typer.Option(
    "--secrets/--without-secrets",
    help="Write the Secret (k8s) or .env (compose); without, supply them yourself "
         "(for manifests kept in version control).")]
ImageOption = Annotated[list[str] | None, typer.Option(
    "--image", metavar="NAME=REF",
    help="Run this image instead of the profile's (repeatable): owui, postgres, chroma, "
         "qdrant or redis, e.g. --image owui=registry.example/owui:1.0.",
    show_default=False)]
SECRET_FILES = frozenset({".env", "00-secrets.yaml"})


def parse_images(items: list[str] | None) -> dict[str, str]:
    """NAME=REF pairs; raises ProfileError naming a malformed one."""
    images: dict[str, str] = {}
    for item in items or ():
        name, _, reference = item.partition("=")
        if not name or not reference:
            raise ProfileError(f"--image {item!r}: expected NAME=REF, e.g. owui=owui:1.0")
        images[name] = reference
    return images


def render_files(target: Target, profile_name: str, jwt_secret_key: str | None = None,
                 with_secrets: bool = True,
                 images: dict[str, str] | None = None) -> dict[str, str]:
    """File name to text. Raises ProfileError or RenderError with a message for the user."""
    from owui.cli.manifests import common

    profile = load_profile(profile_name).with_images(images or {})
    secrets = common.Secrets.make(jwt_secret_key) if with_secrets else None
    if jwt_secret_key is not None and len(jwt_secret_key) < 32:
        raise common.RenderError("JWT_SECRET_KEY: use at least 32 characters")
    if target is Target.compose:
        from owui.cli.manifests import compose

        return compose.render(profile, secrets)
    from owui.cli.manifests import k8s

    return {file: common.dump(objects) for file, objects in k8s.render(profile, secrets).items()}


def write_files(files: dict[str, str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for file, text in files.items():
        path = out / file
        if file in SECRET_FILES:  # readable by the owner only, from the first byte
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            path.write_text(text, encoding="utf-8")


def build(target: Target, profile: str, jwt_secret_key: str | None,
          with_secrets: bool, images: list[str] | None = None) -> dict[str, str]:
    from owui.cli.manifests.common import RenderError

    try:
        return render_files(target, profile, jwt_secret_key, with_secrets,
                            parse_images(images))
    except (ProfileError, RenderError) as exc:
        raise fail(str(exc)) from None


def render(
    target: TargetArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write to.",
                                      file_okay=False)],
    profile: ProfileOption = "server",
    jwt_secret_key: JwtOption = None,
    with_secrets: SecretsOption = True,
    image: ImageOption = None,
) -> None:
    """Write Kubernetes manifests or a docker-compose.yml for a profile."""
    files = build(target, profile, jwt_secret_key, with_secrets, image)
    try:
        write_files(files, out)
    except OSError as exc:
        raise fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    for file in files:
        typer.echo(str(out / file))

