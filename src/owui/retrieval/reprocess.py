"""A file's extracted text edited by its owner (the app's "Edit" on a file): its rows are
made again from the new text, in its own collection and in every collection that holds it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from owui.retrieval import crud
from owui.retrieval.access import file_key
from owui.retrieval.extract import Section
from owui.retrieval.models import File
from owui.retrieval.runtime import Runtime


async def replace_content(rt: Runtime, session: AsyncSession, file: File, content: str,
                          token: str) -> None:
    """Embedded first (all or nothing, pipeline.py), the text stored after: a failed
    embedding leaves the file as it was."""
    chunks = await rt.pipeline.chunk([Section(content)])
    own = file_key(file.id)
    if chunks:
        meta = {"name": file.filename, "source": file.filename, "file_id": file.id}
        await rt.pipeline.embed_and_store(own, file.id, chunks, meta, token=token)
    else:
        await rt.store.delete(collection=own, file_id=file.id)
    for knowledge_id in await crud.knowledge_ids_of_file(session, file.id):
        await rt.store.delete(collection=knowledge_id, file_id=file.id)
        if chunks:
            await rt.store.copy(own, knowledge_id, file.id)
    file.content = content
    await session.commit()
    await session.refresh(file)
