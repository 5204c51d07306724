"""Presets exported (`GET /api/v1/models/export`), imported (`POST /api/v1/models/import`) and
synced by an admin (`POST /api/v1/models/sync`), as the Models page's buttons call them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from owui.core.access import Access, require_permission
from owui.core.auth import AdminUser
from owui.core.errors import error_response, not_found_response
from owui.core.service import Session
from owui.inference import transfer
from owui.inference.routes.preset_common import as_model, changed
from owui.inference.schemas import (
    ModelExportResponse,
    ModelModel,
    ModelsImportForm,
    SyncModelsForm,
)

router = APIRouter(prefix="/api/v1/models", tags=["models"])


@router.get("/export", response_model=list[ModelExportResponse],
            responses=not_found_response("A model of `ids` is not there (or not yours)."))
async def export_presets(session: Session,
                         who: Annotated[Access, Depends(require_permission(
                             "workspace.models_export"))],
                         ids: list[str] | None = Query(None, max_length=1000),
                         ) -> list[ModelExportResponse]:
    """The presets the caller may change, whole (system prompt and params included)."""
    return [ModelExportResponse(**as_model(row).model_dump())
            for row in await transfer.exported(session, who, ids)]


@router.post("/import", response_model=bool,
             responses={400: error_response("An entry may not be imported (each one named)."),
                        409: error_response("An entry's id is another user's model."),
                        422: error_response("An entry is not a model (each one named).")})
async def import_presets(form: ModelsImportForm, request: Request, session: Session,
                         who: Annotated[Access, Depends(require_permission(
                             "workspace.models_import"))]) -> bool:
    """Create or update each model of an export; all of them or none."""
    await transfer.import_presets(session, form.models, who)
    await changed(request)
    return True


@router.post("/sync", response_model=list[ModelModel],
             responses={400: error_response("An id appears twice.")})
async def sync_presets(form: SyncModelsForm, request: Request, session: Session,
                       admin: AdminUser) -> list[ModelModel]:
    """Make the stored models exactly these (others are deleted)."""
    rows = await transfer.sync_presets(session, form.models, admin.sub)
    await changed(request)
    return [as_model(row) for row in rows]
