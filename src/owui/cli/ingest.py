"""`owui ingest PATH... --collection NAME`: upload files (folders are walked) through the
gateway, follow each ingestion job with a progress bar, and add the files to a knowledge
collection, made if no collection of that name is visible to the token's user. A 429 or 503 is
waited out as its Retry-After says (core/retry_after.py), not reported as a failure."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

POLL = 0.25


class IngestError(Exception):
    """What went wrong, for the user."""


def _files(paths: list[Path]) -> list[Path]:
    from owui.core.filetypes import KINDS, extension

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file()
                            and not any(part.startswith(".") for part in p.relative_to(path).parts)
                            and extension(p.name) in KINDS)
        elif path.is_file():
            found.append(path)
        else:
            raise IngestError(f"{path}: no such file or folder")
    return list(dict.fromkeys(found))


def _check(response: Any, what: str) -> Any:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = response.text[:200]
        raise IngestError(f"{what}: {response.status_code} {detail}")
    return response.json()


def _collection(client: Any, name: str) -> dict[str, Any]:
    page = 1
    while True:
        listed = _check(client.get("/api/v1/knowledge/", params={"page": page}),
                        "listing collections")
        for item in listed["items"]:
            if item["name"] == name:
                return item
        if not listed["items"] or page * len(listed["items"]) >= listed["total"]:
            break
        page += 1
    made = client.post("/api/v1/knowledge/create",
                       json={"name": name, "description": "made by owui ingest"})
    if made.status_code == 403:
        raise IngestError(_not_allowed_to_make(name))
    return _check(made, f"creating collection {name!r}")


def _not_allowed_to_make(name: str) -> str:
    """Before anything is uploaded: who may fix it, and how (Open WebUI's defaults let a user
    make no collection)."""
    return (f"no collection named {name!r} is visible to you, and you may not make one: your "
            "account lacks the 'workspace.knowledge' permission. An admin can grant it under "
            "Admin Panel > Users > Groups (Default permissions, or a group you are in: "
            "Workspace Permissions > Knowledge Access), or make the collection and share it "
            "with you for writing; then run this again. Nothing was uploaded.")


def _upload(client: Any, path: Path) -> dict[str, Any]:
    with open(path, "rb") as handle:
        return _check(client.post("/api/v1/files/", files={"file": (path.name, handle)}),
                      f"uploading {path}")


def _follow(client: Any, progress: Any, task: Any, job_id: str) -> dict[str, Any]:
    while True:
        job = _check(client.get(f"/api/v1/retrieval/jobs/{job_id}"), "reading job")
        progress.update(task, total=max(job["total"], 1), completed=job["done"],
                        stage=job["stage"])
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(POLL)


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.",
                                                show_default=False)],
    collection: Annotated[str, typer.Option("--collection", "-c",
                                            help="Knowledge collection name (made if absent).",
                                            show_default=False)],
    url: Annotated[str, typer.Option(envvar="OWUI_URL", help="The gateway.")]
        = "http://127.0.0.1:8000",
    token: Annotated[str | None, typer.Option(envvar="OWUI_TOKEN", show_default=False,
                                              help="A JWT or sk- API key.")] = None,
) -> None:
    """Upload files into a knowledge collection, with a progress bar per file."""
    import httpx
    from rich.console import Console

    from owui.core.retry_after import RetryAfterTransport

    console = Console(stderr=True)
    if not token:
        console.print("owui: give a token with --token or OWUI_TOKEN")
        raise typer.Exit(2)
    try:
        files = _files(paths)
        if not files:
            raise IngestError("no files of a supported type in the given paths")
        with httpx.Client(base_url=url.rstrip("/"), timeout=httpx.Timeout(600, connect=10),
                          headers={"Authorization": f"Bearer {token}"},
                          transport=RetryAfterTransport()) as client:
            failures = _run(client, console, files, collection)
    except (IngestError, httpx.HTTPError) as exc:
        console.print(f"owui: {exc}")
        raise typer.Exit(1) from None
    if failures:
        raise typer.Exit(1)


def _run(client: Any, console: Any, files: list[Path], name: str) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    knowledge = _collection(client, name)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("chunks {task.fields[stage]}"), TimeElapsedColumn())
    failures = chunks = 0
    with Progress(*columns, console=console) as progress:
        uploaded = []
        for path in files:
            task = progress.add_task(path.name, total=None, stage="uploading")
            uploaded.append((path, task, _upload(client, path)))
            progress.update(task, stage="queued")
        for path, task, file in uploaded:
            job = _follow(client, progress, task, file["job_id"])
            if job["status"] == "failed":
                failures += 1
                progress.update(task, stage="failed")
                console.print(f"[red]{path}: {job['error']}[/red]")
                continue
            _check(client.post(f"/api/v1/knowledge/{knowledge['id']}/file/add",
                               json={"file_id": file["id"]}), f"adding {path}")
            chunks += job["done"]
            progress.update(task, stage="added")
    console.print(f"{len(files) - failures} of {len(files)} files ({chunks} chunks) in "
                  f"collection {name!r} ({knowledge['id']})")
    return failures
