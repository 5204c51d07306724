"""`owui deploy --target k8s|compose`: render to a temporary folder, then apply it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from owui.cli.render import SECRET_FILES, JwtOption, ProfileOption, Target, build, write_files
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
) -> None:
    """Render the manifests for a profile and apply them with kubectl or docker compose."""
    files = build(target, profile, jwt_secret_key, with_secrets=True)
    if dry_run:
        print_files(files)
        return
    tool = "kubectl" if target is Target.k8s else "docker"
    program = shutil.which(tool)
    if program is None:
        raise fail(f"{tool} is not installed or not on PATH; install it, or use --dry-run "
                   f"(or `owui render {target.value}`) to see the manifests")
    kubectl = [program, *(["--namespace", namespace] if namespace else [])]
    if target is Target.k8s and secrets_exist(kubectl):
        # A new random password would lock the services out of the existing database.
        typer.echo("keeping the existing Secrets " + ", ".join(KEPT_SECRETS))
        files = {name: text for name, text in files.items() if name not in SECRET_FILES}
    with tempfile.TemporaryDirectory(prefix="owui-deploy-") as folder:
        write_files(files, Path(folder))
        command = ([*kubectl, "apply", "-f", folder] if target is Target.k8s else
                   [program, "compose", "--project-directory", folder, "-f",
                    f"{folder}/docker-compose.yml", "up", "-d"])
        code = subprocess.run(command, check=False).returncode
    if code:
        raise fail(f"{' '.join(command[:3])} ... exited with {code}", code)


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
