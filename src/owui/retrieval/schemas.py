"""Request bodies (Open WebUI's forms) and how stored rows are shown (Open WebUI's shapes)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from owui.retrieval.models import AccessGrant, File, Job, Knowledge, KnowledgeDirectory
from owui.retrieval.web.engines import MAX_QUERY

NAME = Field(min_length=1, max_length=200)


class GrantForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    principal_type: Literal["user", "group"] = "user"
    principal_id: str = Field(min_length=1, max_length=64)
    permission: Literal["read", "write"] = "read"


class KnowledgeForm(BaseModel):
    name: str = NAME
    description: str = Field(default="", max_length=10_000)
    access_grants: list[GrantForm] | None = None

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the name is blank")
        return value.strip()


class KnowledgeFileIdForm(BaseModel):
    file_id: str = Field(min_length=1, max_length=64)
    directory_id: str | None = Field(default=None, max_length=64)


class ContentForm(BaseModel):
    content: str = Field(max_length=5_000_000)


class RenameForm(BaseModel):
    filename: str = Field(min_length=1, max_length=255)

    @field_validator("filename")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the filename is blank")
        return value


class AccessGrantsForm(BaseModel):
    access_grants: list[GrantForm] = Field(max_length=1000)


class DirectoryForm(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    parent_id: str | None = Field(default=None, max_length=64)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        value = value.strip()
        if not value or "/" in value or value in (".", ".."):
            raise ValueError("a directory name is not blank and has no '/'")
        return value


UNSET = "__unset__"


class DirectoryUpdateForm(BaseModel):
    """Open WebUI's: a field left out is unchanged; parent_id null moves to the top."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    parent_id: str | None = Field(default=UNSET, max_length=64)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        return None if value is None else DirectoryForm._plain_name(value)


class QueryForm(BaseModel):
    """Open WebUI's query fields; k_reranker and the BM25 weight are taken and not used (we
    fuse by rank, not by weighted score)."""

    query: str = Field(min_length=1, max_length=10_000)
    k: int | None = Field(default=None, ge=1, le=200)
    k_reranker: int | None = None
    r: float | None = Field(default=None, ge=0.0, le=1.0)
    hybrid: bool | None = None
    hybrid_bm25_weight: float | None = None


class QueryDocForm(QueryForm):
    collection_name: str = Field(min_length=1, max_length=300)


class QueryCollectionsForm(QueryForm):
    collection_names: list[str] = Field(min_length=1, max_length=100)
    enable_enriched_texts: bool | None = None


class SearchForm(BaseModel):
    """Our own search: collections and/or files, any mode, hits with their sources."""

    query: str = Field(min_length=1, max_length=10_000)
    collection_names: list[str] = Field(default_factory=list, max_length=100)
    file_ids: list[str] = Field(default_factory=list, max_length=100)
    mode: Literal["vector", "text", "hybrid"] | None = None
    k: int | None = Field(default=None, ge=1, le=200)
    r: float | None = Field(default=None, ge=0.0, le=1.0)


class ProcessTextForm(BaseModel):
    name: str = NAME
    content: str = Field(min_length=1, max_length=5_000_000)
    collection_name: str | None = Field(default=None, max_length=200)


class DeleteTextForm(BaseModel):
    """Documents of one of the caller's text collections, by the names process/text gave
    them; no `names`: every document, and the collection."""

    collection_name: str = Field(min_length=1, max_length=200)
    names: list[Annotated[str, NAME]] | None = Field(default=None, min_length=1,
                                                     max_length=1000)


class WebSearchForm(BaseModel):
    queries: list[Annotated[str, Field(max_length=MAX_QUERY)]] = Field(min_length=1,
                                                                     max_length=10)
    k: int | None = Field(default=None, ge=1, le=50)
    hybrid: bool | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: str
    content: Any = ""


class RagForm(BaseModel):
    """Given a chat's messages and what is attached to it, the context and citations."""

    messages: list[Message] = Field(min_length=1)
    collection_names: list[str] = Field(default_factory=list, max_length=100)
    file_ids: list[str] = Field(default_factory=list, max_length=100)
    web_search: bool = False
    k: int | None = Field(default=None, ge=1, le=200)
    r: float | None = Field(default=None, ge=0.0, le=1.0)
    hybrid: bool | None = None


# views


def file_view(file: File, *, content: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"status": file.status}
    if file.error:
        data["error"] = file.error
    if content and file.content is not None:
        data["content"] = file.content
    return {"id": file.id, "user_id": file.user_id, "hash": file.hash,
            "filename": file.filename, "data": data, "meta": file.meta or {},
            "created_at": file.created_at, "updated_at": file.updated_at,
            "job_id": file.job_id}


def file_user_view(file: File, directory_id: str | None, path: str) -> dict[str, Any]:
    """A file as a collection lists it (Open WebUI's FileUserResponse; who uploaded it is the
    gateway's to say: `user` is null)."""
    return {**file_view(file), "directory_id": directory_id, "directory_path": path,
            "has_original": bool(file.path), "user": None}


def directory_view(directory: KnowledgeDirectory) -> dict[str, Any]:
    return {"id": directory.id, "knowledge_id": directory.knowledge_id,
            "parent_id": directory.parent_id, "name": directory.name,
            "user_id": directory.user_id, "created_at": directory.created_at,
            "updated_at": directory.updated_at}


def file_metadata_view(file: File) -> dict[str, Any]:
    return {"id": file.id, "hash": file.hash, "meta": file.meta or {},
            "created_at": file.created_at, "updated_at": file.updated_at,
            "status": file.status}


def grant_view(grant: AccessGrant) -> dict[str, Any]:
    return {"id": grant.id, "resource_type": grant.resource_type,
            "resource_id": grant.resource_id, "principal_type": grant.principal_type,
            "principal_id": grant.principal_id, "permission": grant.permission,
            "created_at": grant.created_at}


def knowledge_view(knowledge: Knowledge, grants: list[AccessGrant],
                   **extra: Any) -> dict[str, Any]:
    return {"id": knowledge.id, "user_id": knowledge.user_id, "name": knowledge.name,
            "description": knowledge.description, "meta": knowledge.meta,
            "access_grants": [grant_view(g) for g in grants],
            "created_at": knowledge.created_at, "updated_at": knowledge.updated_at, **extra}


def job_view(job: Job) -> dict[str, Any]:
    progress = job.done / job.total if job.total else (1.0 if job.status == "completed" else 0.0)
    return {"id": job.id, "kind": job.kind, "status": job.status, "stage": job.stage,
            "file_id": job.file_id, "total": job.total, "done": job.done,
            "progress": round(progress, 4), "error": job.error,
            "created_at": job.created_at, "updated_at": job.updated_at}
