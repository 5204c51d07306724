"""The parts of a turn that need no process: the trimming policy, Open WebUI's body read into a
turn, the agent's attachments, and the events on the wire."""

from __future__ import annotations

import json

import pytest

from owui.agent.schemas import RunForm
from owui.chat.turns import context
from owui.chat.turns.events import openai_encoder, ours
from owui.chat.turns.forms import TurnForm, from_openwebui
from owui.core.errors import DomainError


def _message(role: str, chars: int, tag: str = "") -> dict:
    return {"role": role, "content": tag + "x" * (chars - len(tag))}


def test_trim_keeps_the_system_prompt_the_new_message_and_the_newest_that_fit() -> None:
    history = [_message("user" if i % 2 == 0 else "assistant", 400, f"m{i} ")
               for i in range(50)]  # 104 tokens each
    system = [{"role": "system", "content": "be brief"}]
    trimmed = context.trim(system, list(history), 1000)
    assert trimmed.messages[0] == system[0] and trimmed.messages[-1] == history[-1]
    kept = trimmed.messages[1:-1]
    assert kept == history[-1 - len(kept):-1]  # contiguous, newest first
    assert sum(map(context.estimate, trimmed.messages)) <= 1000
    # 1000 - 6 (system) - 104 (the new one) leaves room for 8 of 104 tokens
    assert trimmed.dropped == 49 - len(kept) and len(kept) == 8


def test_trim_never_drops_the_new_message_even_past_the_budget() -> None:
    huge = _message("user", 100_000)
    trimmed = context.trim([], [_message("user", 40), _message("assistant", 40), huge], 100)
    assert trimmed.messages == [huge] and trimmed.dropped == 2


def test_trim_stops_at_the_first_message_that_does_not_fit() -> None:
    old_small, big, newest = _message("user", 8), _message("assistant", 4000), _message("user", 8)
    trimmed = context.trim([], [old_small, big, newest], 100)
    assert trimmed.messages == [newest]  # no hole: the small old one goes with the big one


def test_budget_keeps_room_for_the_answer() -> None:
    assert context.budget(8192, None) == 6144
    assert context.budget(8192, 1000) == 7192
    assert context.budget(100, 1000) == 0


def test_model_message_leaves_out_answers_without_content_and_other_roles() -> None:
    assert context.model_message({"role": "assistant", "content": "", "status": "pending"}) \
        is None
    assert context.model_message({"role": "tool", "content": "x"}) is None
    parts = [{"type": "text", "text": "look"}]
    assert context.model_message({"role": "user", "content": parts, "id": "a"}) == \
        {"role": "user", "content": parts}


def test_openwebui_body_becomes_a_turn() -> None:
    form, chat_id, messages = from_openwebui({
        "model": "m", "chat_id": "c1", "id": "answer-1", "stream": True, "temperature": 0.2,
        "messages": [{"role": "system", "content": "s"},
                     {"role": "user", "content": "hi", "id": "u1"}],
        "files": [{"type": "collection", "id": "k1"}], "features": {"web_search": True},
        "tool_ids": ["calculator"], "params": {"max_tokens": 9, "system": "be kind"}})
    assert chat_id == "c1" and len(messages) == 2
    assert form.content == "hi" and form.user_message_id == "u1" and form.message_id == "answer-1"
    assert form.params == {"temperature": 0.2, "max_tokens": 9} and form.max_tokens() == 9
    assert form.system == "be kind"
    assert form.attachments() == [{"type": "collection", "id": "k1"}] and form.stream
    assert "parent_id" not in form.model_fields_set


@pytest.mark.parametrize("body, words", [
    ({"model": "m"}, "messages"),
    ({"model": "m", "messages": [{"role": "assistant", "content": "x"}]}, "last"),
    ({"model": "m", "messages": [{"role": "user", "content": "x"}], "chat_id": 3}, "chat_id"),
    ({"messages": [{"role": "user", "content": "x"}]}, "model"),
])
def test_bad_openwebui_bodies_are_422_naming_the_field(body: dict, words: str) -> None:
    with pytest.raises(DomainError) as caught:
        from_openwebui(body)
    assert caught.value.status == 422 and words in caught.value.detail


def test_turn_form_checks() -> None:
    with pytest.raises(DomainError) as caught:
        TurnForm(model="m").check()  # neither a message nor one to answer again
    assert caught.value.status == 422
    with pytest.raises(DomainError) as caught:
        TurnForm(model="m", content="x", params={"tools": []}).check()
    assert "tools" in caught.value.detail
    regenerate = TurnForm(model="m", parentId="u1")
    regenerate.check()
    assert regenerate.regenerate() and regenerate.parent_id == "u1"


def test_agent_attachments_from_open_webui_items() -> None:
    form = RunForm(model="m", messages=[{"role": "user", "content": "q"}], file_ids=["f0"],
                   files=[{"type": "collection", "id": "k1"}, {"type": "file", "id": "f1"},
                          {"type": "image", "id": "i1"}, {"id": "f1"}],
                   features={"web_search": True})
    assert form.attachments() == (["k1"], ["f0", "f1"])
    assert form.wants_web_search()
    with pytest.raises(DomainError):
        RunForm(model="m", messages=[{"role": "user", "content": "q"}],
                files=[{"type": "file"}]).attachments()


def test_events_on_the_wire() -> None:
    assert ours({"type": "token", "content": "a"}) == \
        b'event: token\ndata: {"type":"token","content":"a"}\n\n'
    encode = openai_encoder("m", "a1", "c1")

    def decoded(event: dict) -> dict:
        return json.loads(encode(event)[6:])

    first = decoded({"type": "start"})
    assert first["object"] == "chat.completion.chunk" and first["id"] == "chatcmpl-a1"
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert decoded({"type": "token", "content": "hi"})["choices"][0]["delta"] == \
        {"content": "hi"}
    sources = decoded({"type": "citations", "sources": [{"id": 1}]})
    assert sources["choices"] == [] and sources["sources"] == [{"id": 1}]
    done = decoded({"type": "done", "message": {"status": "done"}})
    assert done["choices"][0]["finish_reason"] == "stop"
    error = decoded({"type": "error", "status": 503, "detail": "gone"})
    assert error == {"error": {"message": "gone", "type": "server_error", "code": 503}}
