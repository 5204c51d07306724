"""`GET /api/v1/models/model/profile/image?id=...`: a model's picture, which Open WebUI's web app
loads in `<img>` (so with the token cookie). A preset's `meta.profile_image_url` decides: an
image `data:` URL is answered as the image, a web or `/static/` URL is redirected to; anything
else, a provider's model and a preset the caller may not read all get the app's default
picture, `/static/favicon.png` from the web app's static folder (served by the gateway).

Not a 404 for another user's private preset, as other routes answer: the app asks for every
model's picture it shows, and a broken image is no answer. That answer is exactly an unknown
id's (same status, bytes and headers), so it tells nothing of the preset, not even that it
exists (tests/authz/probe.py, ANSWERED_AS_UNKNOWN, checks it)."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from owui.core.auth import CurrentUser
from owui.core.service import Session
from owui.inference import crud
from owui.inference.presets import can_read

router = APIRouter(tags=["models"])
DEFAULT_IMAGE = "/static/favicon.png"


def _data_image(url: str) -> Response | None:
    """`data:image/...;base64,...` as a response, or None if it is not one."""
    header, _, payload = url.partition(",")
    media_type = header.removeprefix("data:").removesuffix(";base64")
    if not header.endswith(";base64") or not media_type.startswith("image/"):
        return None
    try:
        return Response(base64.b64decode(payload, validate=True), media_type=media_type)
    except (binascii.Error, ValueError):
        return None


@router.get("/api/v1/models/model/profile/image", response_class=Response,
            responses={200: {"content": {"image/*": {}}, "description": "The preset's image"},
                       307: {"description": "To the image's URL, or the default picture"}},
            summary="A model's profile image (the default picture when it has none)")
async def model_profile_image(session: Session, user: CurrentUser,
                              id: str = Query(max_length=256)) -> Response:
    row = await crud.get_preset(session, id)
    url = row.meta.get("profile_image_url") if row is not None and can_read(row, user) else None
    if isinstance(url, str):
        if url.startswith("data:"):
            image = _data_image(url)
            if image is not None:
                return image
        elif url.startswith(("https://", "http://", "/static/")):
            return RedirectResponse(url)
    return RedirectResponse(DEFAULT_IMAGE)
