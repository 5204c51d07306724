"""`/api/v1/configs`: the settings pages the gateway owns (banners, default models and prompt
suggestions, models order and defaults, interface visibility), and export and import of the
gateway's settings. All are live settings: every replica has a change within about a second.
Settings other services own are routed to them (code execution to agent)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ValidationError

from owui.core.auth import AdminUser, CurrentUser
from owui.core.errors import validation_detail
from owui.core.service import Session
from owui.gateway.config_forms import (
    BannerModel,
    ConnectionsConfigForm,
    GatewayConfig,
    InterfaceVisibilityForm,
    ModelsConfigForm,
    SetBannersForm,
    SetDefaultSuggestionsForm,
)
from owui.gateway.live import ACCESS_VERSION, AUTH_KEYS, USER_PERMISSIONS
from owui.gateway.routes.auths_admin import check_admin_config, settable
from owui.gateway.runtime import runtime_of

router = APIRouter(prefix="/api/v1/configs", tags=["configs"])
MODELS_KEYS = ("DEFAULT_MODELS", "DEFAULT_PINNED_MODELS", "MODEL_ORDER_LIST",
               "DEFAULT_MODEL_METADATA", "DEFAULT_MODEL_PARAMS")
# /namespace/{name}: the settings under each of Open WebUI's namespaces the gateway keeps.
NAMESPACES = {
    "auth": AUTH_KEYS,
    "ui": ("BANNERS", "DEFAULT_MODELS", "DEFAULT_PINNED_MODELS", "MODEL_ORDER_LIST",
           "DEFAULT_PROMPT_SUGGESTIONS", "DEFAULT_PROMPT_SUGGESTIONS_I18N", "UI_VISIBILITY"),
    "models": ("DEFAULT_MODEL_METADATA", "DEFAULT_MODEL_PARAMS"),
    "user": (USER_PERMISSIONS,),
}


def _live(request: Request) -> Any:
    return runtime_of(request).admin.live


def _values(request: Request, keys: tuple[str, ...]) -> dict[str, Any]:
    snapshot = _live(request).snapshot()
    return {key: snapshot[key] for key in keys}


@router.get("/banners", response_model=list[BannerModel])
async def get_banners(request: Request, _user: CurrentUser) -> list[dict[str, Any]]:
    return _live(request).snapshot()["BANNERS"]


@router.post("/banners", response_model=list[BannerModel])
async def set_banners(form: SetBannersForm, request: Request,
                      _admin: AdminUser) -> list[dict[str, Any]]:
    stored = await _live(request).update({"BANNERS": form.model_dump()["banners"]})
    return stored["BANNERS"]


@router.post("/suggestions")
async def set_suggestions(form: SetDefaultSuggestionsForm, request: Request,
                          _admin: AdminUser) -> dict[str, Any]:
    data = form.model_dump()
    stored = await _live(request).update({"DEFAULT_PROMPT_SUGGESTIONS": data["suggestions"] or [],
                                          "DEFAULT_PROMPT_SUGGESTIONS_I18N": data["i18n"] or {}})
    return {"suggestions": stored["DEFAULT_PROMPT_SUGGESTIONS"],
            "i18n": stored["DEFAULT_PROMPT_SUGGESTIONS_I18N"]}


@router.get("/models", response_model=ModelsConfigForm)
async def get_models_config(request: Request, _admin: AdminUser) -> dict[str, Any]:
    return _values(request, MODELS_KEYS)


@router.post("/models", response_model=ModelsConfigForm)
async def set_models_config(form: ModelsConfigForm, request: Request,
                            _admin: AdminUser) -> dict[str, Any]:
    """Default and pinned models (comma-separated ids, as Open WebUI stores them), the order of
    the model menu, and the metadata and parameters every model starts from."""
    data = form.model_dump()
    data["DEFAULT_MODEL_METADATA"] = data["DEFAULT_MODEL_METADATA"] or {}
    data["DEFAULT_MODEL_PARAMS"] = data["DEFAULT_MODEL_PARAMS"] or {}
    data["MODEL_ORDER_LIST"] = data["MODEL_ORDER_LIST"] or []
    await _live(request).update(data)
    return _values(request, MODELS_KEYS)


@router.get("/models/defaults")
async def get_models_defaults(request: Request, _user: CurrentUser) -> dict[str, Any]:
    return {"DEFAULT_MODEL_METADATA": _live(request).snapshot()["DEFAULT_MODEL_METADATA"]}


@router.post("/interface/visibility", response_model=InterfaceVisibilityForm)
async def set_interface_visibility(form: InterfaceVisibilityForm, request: Request,
                                   _admin: AdminUser) -> InterfaceVisibilityForm:
    await _live(request).update({"UI_VISIBILITY": form.visibility})
    return form


@router.get("/connections", response_model=ConnectionsConfigForm)
async def get_connections_config(_admin: AdminUser) -> ConnectionsConfigForm:
    """owui has no direct connections (a browser calling a provider itself) and no separate
    base-model cache switch (MODELS_CACHE_TTL, read at start, says how long models are kept)."""
    return ConnectionsConfigForm(ENABLE_DIRECT_CONNECTIONS=False,
                                 ENABLE_DIRECT_INTEGRATIONS=False,
                                 ENABLE_BASE_MODELS_CACHE=False)


@router.post("/connections", response_model=ConnectionsConfigForm)
async def set_connections_config(form: ConnectionsConfigForm,
                                 _admin: AdminUser) -> ConnectionsConfigForm:
    asked = [name for name, on in form.model_dump().items() if on]
    if asked:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"owui cannot turn on {', '.join(asked)}: it has no direct "
                            f"connections, and MODELS_CACHE_TTL sets the model list's cache.")
    return form


class ImportConfigForm(BaseModel):
    config: dict[str, Any]


@router.get("/export")
async def export_config(request: Request, _admin: AdminUser) -> dict[str, Any]:
    """The gateway's settings (each service exports its own)."""
    snapshot = _live(request).snapshot()
    snapshot.pop(ACCESS_VERSION, None)
    return snapshot


@router.post("/import")
async def import_config(form: ImportConfigForm, request: Request, session: Session,
                        _admin: AdminUser) -> dict[str, Any]:
    """Settings as `/export` gives them, checked whole: a key the gateway does not keep or a
    value of the wrong shape is a 400, and then nothing is stored."""
    try:
        parsed = GatewayConfig.model_validate(form.config)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}"
                             for e in validation_detail(exc.errors()))
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "This is not a configuration of owui's gateway (as GET "
                            "/api/v1/configs/export gives it); nothing was imported. "
                            f"{problems}.") from None
    changes = settable(parsed, _live(request))
    await check_admin_config(parsed, session, changes)
    await session.commit()
    await _live(request).update(changes)
    return await export_config(request, _admin)


@router.get("/namespace/{namespace}")
async def get_config_namespace(namespace: str, request: Request,
                               _admin: AdminUser) -> dict[str, Any]:
    keys = NAMESPACES.get(namespace)
    if keys is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"The gateway keeps no settings under {namespace!r}; it keeps "
                            f"{', '.join(NAMESPACES)}.")
    return _values(request, keys)
