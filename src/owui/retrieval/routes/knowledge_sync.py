"""Syncing a local folder into a collection (the app's "Sync directory"): the client sends a
manifest of its files (path, name, SHA-256), learns what to upload, replace and remove and
which folders to make; after uploading it asks for the stale files and folders to go."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import delete

from owui.core.auth import CurrentUser
from owui.core.service import Session
from owui.retrieval import crud, library
from owui.retrieval.access import file_for, knowledge_for
from owui.retrieval.groups import GROUPS
from owui.retrieval.models import KnowledgeDirectory
from owui.retrieval.routes.common import delete_file
from owui.retrieval.runtime import RuntimeDep

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"], dependencies=GROUPS)
RECENT_PENDING = 3600  # seconds: an upload still processing counts as there


class ManifestEntry(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    path: str = Field(max_length=4096)  # its folder, 'docs/api', '' at the top
    checksum: str = Field(max_length=128)
    size: int = Field(ge=0)


class DiffForm(BaseModel):
    manifest: list[ManifestEntry] = Field(max_length=100_000)


class CleanupForm(BaseModel):
    file_ids: list[str] = Field(max_length=100_000)
    dir_ids: list[str] = Field(default_factory=list, max_length=10_000)


def _wanted_dirs(manifest: list[ManifestEntry]) -> set[str]:
    wanted: set[str] = set()
    for entry in manifest:
        if entry.path:
            parts = entry.path.split("/")
            wanted.update("/".join(parts[:depth + 1]) for depth in range(len(parts)))
    return wanted


@router.post("/{knowledge_id}/sync/diff")
async def sync_diff(knowledge_id: str, form: DiffForm, user: CurrentUser,
                    session: Session) -> dict[str, Any]:
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    all_dirs = await library.directories(session, knowledge.id)
    path_of = library.paths(all_dirs)
    id_of = {path: directory_id for directory_id, path in path_of.items()}
    recent = int(time.time()) - RECENT_PENDING
    pending = {(path_of.get(((f.meta or {}).get("data") or {}).get("directory_id") or "", ""),
                f.filename, f.hash)
               for f in await library.pending_files(session, knowledge.id)
               if f.created_at >= recent}
    rows, _ = await library.knowledge_files(
        session, knowledge.id, query=None, content=False, directory=None, scoped=False,
        order_by=None, direction=None, page=1, size=1_000_000)
    indexed = {(path_of.get(d or "", ""), f.filename): f for f, d in rows}
    added, modified, unchanged, seen = [], [], 0, set()
    for entry in form.manifest:
        key = (entry.path, entry.filename)
        seen.add(key)
        if key not in indexed and (*key, entry.checksum) in pending:
            unchanged += 1
        elif key not in indexed:
            added.append({"filename": entry.filename, "path": entry.path})
        elif indexed[key].hash != entry.checksum:
            modified.append({"filename": entry.filename, "path": entry.path,
                             "stale_file_id": indexed[key].id})
        else:
            unchanged += 1
    wanted = _wanted_dirs(form.manifest)
    return {"added": added, "modified": modified,
            "deleted": [{"file_id": f.id, "filename": key[1]}
                        for key, f in indexed.items() if key not in seen],
            "mkdir": sorted((p for p in wanted if p not in id_of), key=lambda p: p.count("/")),
            "rmdir": [id_of[p] for p in set(id_of) - wanted],
            "unmodified_count": unchanged, "directory_map": id_of}


@router.post("/{knowledge_id}/sync/cleanup")
async def sync_cleanup(knowledge_id: str, form: CleanupForm, user: CurrentUser,
                       session: Session, rt: RuntimeDep) -> dict[str, bool]:
    """The named files leave the collection (and are deleted when no collection holds them
    and the caller owns them); the named folders go. Files and folders the caller can see
    but not of this collection are passed over; a file the caller cannot see is a 404, found
    before anything changes."""
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    files = [await file_for(session, user, file_id) for file_id in form.file_ids]
    for file in files:
        file_id = file.id
        if not await crud.unlink_file(session, knowledge.id, file_id):
            continue
        await rt.store.delete(collection=knowledge.id, file_id=file_id)
        if not await crud.knowledge_ids_of_file(session, file_id) and (
                user.is_admin or file.user_id == user.sub):
            await delete_file(rt, session, file)
    mine = {d.id for d in await library.directories(session, knowledge.id)}
    gone = [d for d in form.dir_ids if d in mine]
    if gone:
        await library.move_files_up(session, knowledge.id, gone, None)
        await session.execute(delete(KnowledgeDirectory).where(KnowledgeDirectory.id.in_(gone)))
        await session.commit()
    return {"status": True}
