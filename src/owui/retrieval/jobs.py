"""Ingestion jobs: a file is extracted, chunked, embedded and indexed in the background, with
progress kept in the jobs table. Two run at once: the model encodes on one thread, so while it
embeds one file the other core extracts and chunks the next, and the encoder never idles.

A job that fails removes whatever it indexed and records why, on the job and on the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from owui.core import metrics
from owui.core.config import Settings
from owui.core.errors import UpstreamError
from owui.retrieval import crud
from owui.retrieval.access import file_key
from owui.retrieval.embeddings import EmbeddingUnavailable
from owui.retrieval.extract import ExtractionError, extract_file
from owui.retrieval.filetypes import kind_of
from owui.retrieval.models import File, Job, KnowledgeDirectory
from owui.retrieval.pipeline import Pipeline, sections_text
from owui.retrieval.storage import Storage, StorageError
from owui.retrieval.tasks import Tasks
from owui.retrieval.vectors import VectorStoreError

log = logging.getLogger("owui.retrieval.jobs")
PROGRESS_EVERY = 0.25  # seconds between progress writes
EXPECTED = (ExtractionError, EmbeddingUnavailable, VectorStoreError, StorageError, UpstreamError)


class JobFailed(Exception):
    """Raised to end a job with a message for the user."""


class Jobs:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession],
                 storage: Storage, pipeline: Pipeline, tasks: Tasks, tmp_dir: Path) -> None:
        self.settings = settings
        self.sessions = sessions
        self.storage = storage
        self.pipeline = pipeline
        self.tasks = tasks
        self.tmp_dir = tmp_dir
        self.slot = asyncio.Semaphore(2)
        self.done: dict[str, asyncio.Event] = {}

    async def create_file_job(self, file: File, user_id: str) -> Job:
        async with self.sessions() as session:
            job = Job(user_id=user_id, kind="file", file_id=file.id, collection=file_key(file.id))
            session.add(job)
            await session.flush()
            await session.execute(
                File.__table__.update().where(File.id == file.id)
                .values(job_id=job.id, status="pending", error=None))
            await session.commit()
            return job

    def submit(self, job_id: str, file_id: str, token: str | None) -> asyncio.Event:
        event = self.done.setdefault(job_id, asyncio.Event())
        self.tasks.spawn(self._run(job_id, file_id, token, event), f"ingest-{file_id}")
        return event

    async def wait(self, job_id: str, limit: float) -> Job | None:
        """Until the job ends (or `limit` seconds), then its row; polls the table too, for a
        job that another replica runs."""
        deadline = time.monotonic() + limit
        event = self.done.get(job_id)
        while True:
            if event is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), max(0.0, deadline - time.monotonic()))
            async with self.sessions() as session:
                job = await crud.get_job(session, job_id)
            if job is None or job.status in ("completed", "failed"):
                return job
            if time.monotonic() >= deadline:
                return job
            await asyncio.sleep(0.2)

    async def settled(self, job_id: str | None, limit: float) -> None:
        """Until the job ends here or `limit` seconds pass (a job another replica runs, or
        none: just the wait), so that a status stream hears the end at once."""
        event = self.done.get(job_id) if job_id else None
        if event is None:
            await asyncio.sleep(limit)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), limit)

    async def resume(self) -> None:
        """Jobs cut short by a stop or crash run again from the start (their file is stored).
        With several replicas on one database, each would take them up: the work is then
        done twice, with the same result, since a file's rows are replaced, not appended."""
        async with self.sessions() as session:
            unfinished = await crud.unfinished_jobs(session)
        for job in unfinished:
            if job.kind == "file" and job.file_id and self.settings.embedding_engine in (
                    "", "sentence-transformers"):
                log.info("resuming ingestion job %s", job.id)
                self.submit(job.id, job.file_id, None)
            else:
                async with self.sessions() as session:
                    await crud.update_job(session, job.id, status="failed",
                                          error="Interrupted by a restart of the service.")

    async def _run(self, job_id: str, file_id: str, token: str | None,
                   event: asyncio.Event) -> None:
        queued = running = metrics.INGESTION_JOBS.labels("queued")
        queued.inc()
        try:
            async with self.slot:
                queued.dec()
                running = metrics.INGESTION_JOBS.labels("running")
                running.inc()
                await self._ingest(job_id, file_id, token)
        finally:
            running.dec()  # (the queued gauge, when it never ran)
            event.set()
            self.done.pop(job_id, None)

    async def _ingest(self, job_id: str, file_id: str, token: str | None) -> None:
        try:
            await self._update(job_id, status="running", stage="extracting")
            await self._process(job_id, file_id, token)
        except asyncio.CancelledError:
            # The service is stopping: the job stays 'running' and runs again at the next
            # start (resume), which first replaces whatever rows of the file were written.
            raise
        except JobFailed as exc:
            await self._fail(job_id, file_id, str(exc))
        except EXPECTED as exc:
            await self._fail(job_id, file_id, str(exc))
        except Exception as exc:
            log.exception("ingestion of file %s failed", file_id)
            await self._fail(job_id, file_id, f"Processing failed: {exc.__class__.__name__}")

    async def _process(self, job_id: str, file_id: str, token: str | None) -> None:
        async with self.sessions() as session:
            file = await crud.get_file(session, file_id)
        if file is None:
            raise JobFailed("The file was deleted before it was processed.")
        sections = await self._extract(file)
        chunks = await self.pipeline.chunk(sections)
        await self._update(job_id, stage="embedding", total=len(chunks), done=0)
        meta = {"name": file.filename, "source": file.filename, "file_id": file.id}
        stored = await self.pipeline.embed_and_store(file_key(file.id), file.id, chunks, meta,
                                                     token=token,
                                                     progress=self._progress(job_id))
        await self._update(job_id, stage="indexing", done=stored)
        await self._finish(job_id, file, sections_text(sections), stored)
        metrics.INGESTION_CHUNKS.inc(stored)
        metrics.INGESTION_FINISHED.labels("done").inc()

    async def _extract(self, file: File) -> list:
        kind = kind_of(file.filename).kind
        with tempfile.TemporaryDirectory(dir=self.tmp_dir) as directory:
            local = Path(directory) / "document"
            await self.storage.fetch(file.path, local)
            return await asyncio.to_thread(extract_file, local, kind)

    async def _finish(self, job_id: str, file: File, content: str, stored: int) -> None:
        """Copy the rows into the file's collections, unless the file went meanwhile; the job
        and the file then read as completed together (one commit), never one before the other."""
        store = self.pipeline.store
        async with self.sessions() as session:
            if await crud.get_file(session, file.id) is None:
                raise JobFailed("The file was deleted while it was processed.")
            await self._join_collection(session, file)
            for knowledge_id in await crud.knowledge_ids_of_file(session, file.id):
                await store.delete(collection=knowledge_id, file_id=file.id)
                await store.copy(file_key(file.id), knowledge_id, file.id)
            await crud.update_job(session, job_id, commit=False, status="completed",
                                  stage="done", done=stored)
            await crud.set_file_status(session, file.id, "completed", content=content)

    @staticmethod
    async def _join_collection(session: AsyncSession, file: File) -> None:
        """An upload for a collection (its `metadata.knowledge_id`, checked writable when it
        came) joins it now that it is processed, in its folder if that is still there."""
        data = (file.meta or {}).get("data") or {}
        knowledge_id = data.get("knowledge_id")
        if not isinstance(knowledge_id, str) or await crud.get_knowledge(
                session, knowledge_id) is None:
            return
        directory = data.get("directory_id")
        found = await session.get(KnowledgeDirectory, directory) if isinstance(
            directory, str) else None
        directory_id = found.id if found and found.knowledge_id == knowledge_id else None
        await crud.link_file(session, knowledge_id, file.id, directory_id)

    def _progress(self, job_id: str):
        state = {"done": 0, "written": 0.0}

        async def report(count: int) -> None:
            state["done"] += count
            now = time.monotonic()
            if now - state["written"] >= PROGRESS_EVERY:
                state["written"] = now
                await self._update(job_id, done=state["done"])

        return report

    async def _update(self, job_id: str, **values: object) -> None:
        async with self.sessions() as session:
            await crud.update_job(session, job_id, **values)

    async def _fail(self, job_id: str, file_id: str, reason: str) -> None:
        """Nothing half-indexed stays behind; the job and the file say why."""
        metrics.INGESTION_FINISHED.labels("failed").inc()
        try:
            await self.pipeline.store.delete(file_id=file_id)
        except VectorStoreError as exc:
            reason = f"{reason} (cleaning up also failed: {exc})"
        async with self.sessions() as session:
            await crud.update_job(session, job_id, status="failed", stage="failed", error=reason)
            if await crud.get_file(session, file_id) is not None:
                await crud.set_file_status(session, file_id, "failed", error=reason)
