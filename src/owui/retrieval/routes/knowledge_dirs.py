"""Folders inside a collection (Open WebUI 0.12): create, rename or move, delete (its files
moved up to the parent, or removed with it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import delete

from owui.core.auth import CurrentUser
from owui.core.errors import BadRequestError
from owui.core.service import Session
from owui.retrieval import crud, library
from owui.retrieval.access import knowledge_for
from owui.retrieval.groups import GROUPS
from owui.retrieval.models import KnowledgeDirectory, KnowledgeFile
from owui.retrieval.runtime import RuntimeDep
from owui.retrieval.schemas import UNSET, DirectoryForm, DirectoryUpdateForm, directory_view

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"], dependencies=GROUPS)
MAX_DIRECTORIES = 10_000  # per collection


@router.post("/{knowledge_id}/dirs/create")
async def create_directory(knowledge_id: str, form: DirectoryForm, user: CurrentUser,
                           session: Session) -> dict[str, Any]:
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    parent = await library.directory_in(session, knowledge.id, form.parent_id)
    if len(await library.directories(session, knowledge.id)) >= MAX_DIRECTORIES:
        raise BadRequestError(f"A collection holds at most {MAX_DIRECTORIES} directories.")
    parent_id = parent.id if parent else None
    await library.check_name_free(session, knowledge.id, parent_id, form.name)
    directory = KnowledgeDirectory(knowledge_id=knowledge.id, parent_id=parent_id,
                                   name=form.name, user_id=user.sub)
    session.add(directory)
    await crud.touch_knowledge(session, knowledge.id)
    await session.commit()
    return directory_view(directory)


@router.post("/{knowledge_id}/dirs/{dir_id}/update")
async def update_directory(knowledge_id: str, dir_id: str, form: DirectoryUpdateForm,
                           user: CurrentUser, session: Session) -> dict[str, Any]:
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    directory = await library.directory_in(session, knowledge.id, dir_id)
    assert directory is not None  # dir_id is a path segment: never empty
    parent_id = directory.parent_id
    if form.parent_id != UNSET:
        parent = await library.directory_in(session, knowledge.id, form.parent_id)
        parent_id = parent.id if parent else None
        all_dirs = await library.directories(session, knowledge.id)
        if parent_id in library.subtree(all_dirs, directory.id):
            raise BadRequestError("A directory cannot move into itself or one of its own.")
    name = form.name or directory.name
    await library.check_name_free(session, knowledge.id, parent_id, name, own_id=directory.id)
    directory.name, directory.parent_id = name, parent_id
    await crud.touch_knowledge(session, knowledge.id)
    await session.commit()
    await session.refresh(directory)
    return directory_view(directory)


@router.delete("/{knowledge_id}/dirs/{dir_id}/delete")
async def delete_directory(knowledge_id: str, dir_id: str, user: CurrentUser, session: Session,
                           rt: RuntimeDep, move_files: bool = True) -> dict[str, Any]:
    """With `move_files` its files (and those of folders below) go up to its parent; else
    they leave the collection (the files themselves are kept)."""
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    directory = await library.directory_in(session, knowledge.id, dir_id)
    assert directory is not None
    gone = library.subtree(await library.directories(session, knowledge.id), directory.id)
    file_ids = await library.files_in_directories(session, knowledge.id, gone)
    if move_files:
        await library.move_files_up(session, knowledge.id, gone, directory.parent_id)
    else:
        await session.execute(delete(KnowledgeFile).where(
            KnowledgeFile.knowledge_id == knowledge.id, KnowledgeFile.file_id.in_(file_ids)))
    await session.execute(delete(KnowledgeDirectory).where(KnowledgeDirectory.id.in_(gone)))
    await crud.touch_knowledge(session, knowledge.id)
    await session.commit()
    if not move_files:
        for file_id in file_ids:
            await rt.store.delete(collection=knowledge.id, file_id=file_id)
    return {"status": True, "file_ids": file_ids}
