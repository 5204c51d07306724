"""The two lists the 0.12 web app asks for on every page, for features owui has not: skills
(Open WebUI's `list[SkillUserResponse]`) and channels (`list[ChannelListItemResponse]`). A user
has none of either: an empty list, through the gateway, and nothing without a token."""

from __future__ import annotations

import httpx
import pytest

from tests.chat.conftest import Backend, ok


@pytest.mark.parametrize("path", ["/api/v1/skills/", "/api/v1/channels/"])
def test_a_user_with_none_gets_an_empty_list(path: str, fresh: httpx.Client,
                                             backend: Backend) -> None:
    assert ok(fresh.get(path)) == []
    assert ok(fresh.get(f"{path}?")) == []  # as the app asks for skills
    assert httpx.get(f"{backend.gateway.url}{path}").status_code == 401


def test_only_the_channel_list_is_served(fresh: httpx.Client) -> None:
    """Channels are out of scope: their other routes stay unknown, not pretended."""
    assert fresh.post("/api/v1/channels/create", json={"name": "team"}).status_code == 404
    assert fresh.get("/api/v1/channels/some-id/messages").status_code == 404
