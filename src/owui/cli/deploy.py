"""`owui deploy --target k8s|compose`: render, then apply with kubectl or docker compose
(podman-compose where Docker is not installed). Kubernetes gets a temporary folder; Compose a
folder that stays (`--dir`): its containers bind-mount the init SQL from it, and its .env holds
the secrets, kept on the next deploy (a new password would lock the services out of the data)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from owui.cli.render import (
    SECRET_FILES,
    ImageOption,
    JwtOption,
    ProfileOption,
    Target,
    build,
    write_files,
)
from owui.cli.serve import fail

KEPT_SECRETS = ("owui-secrets", "owui-database")


def deploy(
    target: Annotated[Target, typer.Option(help="k8s or compose.", show_default=False)],
    profile: ProfileOption = "server",
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print what would be applied; change nothing.")] = False,
    namespace: Annotated[str | None, typer.Option(
        help="Kubernetes namespace (default: kubectl's current one).", show_default=False)] = None,
    jwt_secret_key: JwtOption = None,
    folder: Annotated[Path, typer.Option(
        "--dir", help="Compose: the folder the files are written to and kept in.",
        file_okay=False)] = Path("owui-compose"),
    image: ImageOption = None,
) -> None:
    """Render the manifests for a profile and apply them with kubectl or docker compose."""
    files = build(target, profile, jwt_secret_key, with_secrets=True, images=image)
    if dry_run:
        print_files(files)
        return
    if target is Target.compose:
        return compose_up(files, folder.resolve())
    program = shutil.which("kubectl")
    if program is None:
        raise fail("kubectl is not installed or not on PATH; install it, or use --dry-run "
                   "(or `owui render k8s`) to see the manifests")
    kubectl = [program, *(["--namespace", namespace] if namespace else [])]
    if target is Target.k8s and secrets_exist(kubectl):
        # A new random password would lock the services out of the existing database.
        typer.echo("keeping the existing Secrets " + ", ".join(KEPT_SECRETS))
        files = {name: text for name, text in files.items() if name not in SECRET_FILES}
    with tempfile.TemporaryDirectory(prefix="owui-deploy-") as temporary:
        write_files(files, Path(temporary))
        command = [*kubectl, "apply", "-f", temporary]
        code = subprocess.run(command, check=False).returncode
    if code:
        raise fail(f"{' '.join(command[:3])} ... exited with {code}", code)


def compose_up(files: dict[str, str], folder: Path) -> None:
    docker, podman_compose = shutil.which("docker"), shutil.which("podman-compose")
    if docker is None and podman_compose is None:
        raise fail("docker is not installed or not on PATH (nor podman-compose); install "
                   "one, or use --dry-run (or `owui render compose`) to see the manifests")
    if (folder / ".env").exists():
        typer.echo(f"keeping the existing secrets in {folder / '.env'}")
        files = {name: text for name, text in files.items() if name not in SECRET_FILES}
    try:
        write_files(files, folder)
    except OSError as exc:
        raise fail(f"cannot write to {folder}: {exc.strerror or exc}") from None
    compose_file = str(folder / "docker-compose.yml")
    command = ([docker, "compose", "--project-directory", str(folder), "-f", compose_file,
                "up", "-d"] if docker else
               [str(podman_compose), "-f", compose_file, "up", "-d"])
    code = subprocess.run(command, cwd=folder, check=False).returncode
    if code:
        raise fail(f"{' '.join(command[:2])} ... exited with {code}; the files are in "
                   f"{folder}", code)


def secrets_exist(kubectl: list[str]) -> bool:
    found = subprocess.run([*kubectl, "get", "secret", *KEPT_SECRETS, "-o", "name"],
                           capture_output=True, check=False)
    return found.returncode == 0


def print_files(files: dict[str, str]) -> None:
    """One YAML stream, each file after a `---` and a comment naming it."""
    for name, text in files.items():
        typer.echo(f"---\n# ---- {name}")
        if name in SECRET_FILES:  # the values are made afresh; never shown
            typer.echo("# (secret values not shown)")
            continue
        typer.echo(text, nl=not text.endswith("\n"))
