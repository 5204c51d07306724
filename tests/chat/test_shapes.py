"""Each response shape is defined once (a TypedDict in schemas.py, which the OpenAPI document is
made from); the builders in views.py (and tree.message_out) must give exactly that shape: the
same keys, and values of the declared types."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import TypeAdapter
from typing_extensions import is_typeddict

from owui.chat import schemas, views
from owui.chat.tree import MessageIn, message_out

CHAT = SimpleNamespace(id="c1", user_id="u1", title="A chat", updated_at=2, created_at=1,
                       archived=0, pinned=1, meta={"k": "v"}, variables=None, folder_id=None,
                       current_message_id="m2")
FOLDER = SimpleNamespace(id="f1", parent_id=None, user_id="u1", name="Work", meta=None,
                         data={"x": 1}, is_expanded=False, created_at=1, updated_at=2)
SHARE = SimpleNamespace(id="s1", chat_id="c1", title="A chat", updated_at=2, created_at=1)

BUILT: list[tuple[Any, Any]] = [
    (schemas.ChatResponse, views.chat_response(CHAT, {"title": "A chat"}, ["t1"], "s1")),
    (schemas.ChatResponse, views.chat_response(CHAT, {}, [], None)),
    (schemas.ChatTitleIdResponse, views.title_ids([("c1", "A chat", 2, 1, 0, 1, None)])[0]),
    (schemas.ChatTitleIdResponse, views.title_ids([("c1", "A chat", 2, 1, 0, 1, 0)])[0]),
    (schemas.TagModel, views.tag_models([("t1", "T1", '{"a": 1}')], "u1", json.loads)[0]),
    (schemas.TagModel, views.tag_models([("t1", "T1", None)], "u1", lambda v: v)[0]),
    (schemas.SharedChatResponse, views.shared_chats([SHARE])[0]),
    (schemas.FolderModel, views.folder_model(FOLDER)),
    (schemas.FolderNameIdResponse, views.folder_name_id(FOLDER)),
    (schemas.Preferences, views.preferences({"ui": {"models": ["m"], "system": "s"}})),
    (schemas.Preferences, views.preferences({})),
]


@pytest.mark.parametrize("shape, built", BUILT, ids=[s.__name__ for s, _ in BUILT])
def test_a_builder_gives_exactly_its_shape(shape: Any, built: dict[str, Any]) -> None:
    assert is_typeddict(shape)
    assert set(built) == set(shape.__annotations__)
    assert TypeAdapter(shape).validate_python(built, strict=True) == built


def test_a_message_has_its_keys_and_keeps_the_others() -> None:
    keys = set(schemas.MessageResponse.__annotations__)
    bare = message_out(MessageIn("m1", None, "user", "hi", None, None, None), [])
    assert set(bare) == keys
    full = message_out(MessageIn("m2", "m1", "assistant", "yes", "gpt", 5, {"done": True}), [])
    assert set(full) == keys | {"model", "timestamp", "done"}
    for message in (bare, full):
        assert TypeAdapter(schemas.MessageResponse).validate_python(message, strict=True) \
            == message
