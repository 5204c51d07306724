"""Request and response bodies, in Open WebUI's shapes (names as in its API document).

Requests are pydantic models: FastAPI checks them. Responses are TypedDicts: each is both the
type of the dict that views.py builds (and the routes return as it is, serialized by orjson,
never validated again) and, as `response_model`, the source of the route's OpenAPI schema, so
a response shape is defined once (tests/chat/test_shapes.py holds the builders to it).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict  # pydantic reads typing's own only from Python 3.12

from owui.chat.limits import MAX_FOLDER_NAME_CHARS, MAX_TAG_NAME_CHARS, MAX_TITLE_CHARS

JsonObject = dict[str, Any]
SortBy = Literal["updated_at", "created_at", "title"]
SortDir = Literal["asc", "desc"]


class ChatForm(BaseModel):
    chat: JsonObject
    variables: JsonObject | None = None
    folder_id: str | None = None


class ChatImportForm(ChatForm):
    meta: JsonObject | None = Field(default_factory=dict)
    pinned: bool | None = False
    archived: bool | None = False
    current_message_id: str | None = None
    created_at: int | None = Field(None, ge=0, lt=2**63)
    updated_at: int | None = Field(None, ge=0, lt=2**63)


class ChatsImportForm(BaseModel):
    chats: list[ChatImportForm]


class ChatResponse(TypedDict):
    id: str
    user_id: str
    title: str
    chat: JsonObject  # Open WebUI's chat object: title, history {messages, currentId}, ...
    updated_at: int
    created_at: int
    share_id: str | None
    archived: bool
    pinned: bool
    meta: JsonObject  # with `tags`, the chat's tag ids
    variables: JsonObject
    folder_id: str | None
    current_message_id: str | None
    tasks: list[JsonObject] | None  # Open WebUI 0.12's chat tasks, compaction summary and
    summary: str | None  # context usage: features owui has not, so always null
    context_usage: JsonObject | None


class ChatTitleIdResponse(TypedDict):
    id: str
    title: str
    updated_at: int
    created_at: int
    last_read_at: int | None
    snippet: str | None
    active: bool
    archived: bool


class CloneForm(BaseModel):
    title: str | None = Field(None, max_length=MAX_TITLE_CHARS)


class ChatFolderIdForm(BaseModel):
    folder_id: str | None = None


class ShareChatForm(BaseModel):
    share_mode: Literal["continue"] | None = None


class ChatAccessGrantsForm(BaseModel):
    """Open WebUI's form for who may open a share link (checked by crud/grants.parse)."""

    access_grants: list[JsonObject] = Field(max_length=1000)
    share_mode: Literal["continue"] | None = None


class FolderAccessGrantsForm(ChatAccessGrantsForm):
    """Open WebUI's form for who may open a folder's chats."""


class ForkForm(BaseModel):
    message_id: str | None = Field(None, max_length=128)


class SharedChatResponse(TypedDict):
    id: str
    chat_id: str
    title: str
    share_id: str | None
    updated_at: int
    created_at: int


class TagForm(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_TAG_NAME_CHARS)


class TagFilterForm(TagForm):
    skip: int | None = Field(0, ge=0, le=1_000_000_000)  # must fit a database integer
    limit: int | None = Field(50, ge=1, le=1000)


class TagModel(TypedDict):
    id: str
    name: str
    user_id: str
    meta: JsonObject | None


class MessageForm(BaseModel):
    """A new message: Open WebUI's message fields; any others are kept as they are."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str | None = None
    parent_id: str | None = Field(None, validation_alias=AliasChoices("parentId", "parent_id"),
                                  description="The message to answer; omitted: the chat's "
                                              "current message; null: a new root.")
    role: str
    content: Any = ""
    model: str | None = None
    timestamp: int | None = None
    make_current: bool = Field(True, description="Make it the chat's current message.")


class MessageContentForm(BaseModel):
    content: str


@with_config(ConfigDict(extra="allow"))
class MessageResponse(TypedDict):
    """A message of `history.messages`: these keys, `model` and `timestamp` when it has them,
    and whatever else the client stored with it (tree.message_out)."""

    id: str
    parentId: str | None
    childrenIds: list[str]
    role: str
    content: Any


class FolderForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_FOLDER_NAME_CHARS)
    data: JsonObject | None = None
    meta: JsonObject | None = None
    parent_id: str | None = None


class FolderUpdateForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=MAX_FOLDER_NAME_CHARS)
    data: JsonObject | None = None
    meta: JsonObject | None = None


class FolderIsExpandedForm(BaseModel):
    is_expanded: bool


class FolderParentIdForm(BaseModel):
    parent_id: str | None = None


class FolderModel(TypedDict):
    id: str
    parent_id: str | None
    user_id: str
    name: str
    meta: JsonObject | None
    data: JsonObject | None
    is_expanded: bool
    created_at: int
    updated_at: int
    items: JsonObject | None
    access_grants: list[JsonObject]
    write_access: bool


class FolderNameIdResponse(TypedDict):
    id: str
    name: str
    meta: JsonObject | None
    parent_id: str | None
    is_expanded: bool
    unread_count: int
    created_at: int
    updated_at: int


class UserSettings(BaseModel):
    """The settings document: the update's body, and (as stored) what both routes answer."""

    model_config = ConfigDict(extra="allow")

    ui: JsonObject | None = Field(default_factory=dict)


class PreferencesForm(BaseModel):
    """Chat preferences; each field is stored where Open WebUI's settings keep it (`ui.*`)."""

    default_model: str | None = None
    system_prompt: str | None = None
    params: JsonObject | None = None
    ui: JsonObject | None = None


class Preferences(TypedDict):
    default_model: str | None
    system_prompt: str | None
    params: JsonObject
    ui: JsonObject
