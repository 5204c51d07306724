"""What is stored: one row per message; appends and updates touch only the rows they must;
each database has its own full-text index, made by the migration."""

from __future__ import annotations

import httpx

from tests.chat.conftest import create, ok, sample_chat


def _rows(backend, chat_id: str) -> dict[str, tuple]:
    rows = backend.query("SELECT id, pk, parent_id, content, updated_at FROM messages "
                         "WHERE chat_id = ? ORDER BY pk", chat_id)
    return {row[0]: row[1:] for row in rows}


def test_messages_are_rows_and_the_chat_row_holds_no_history(backend, alice) -> None:
    made = create(alice, sample_chat("Rows"))
    assert set(_rows(backend, made["id"])) == {"u1", "a1", "u2", "u3", "a2", "a3"}
    ((data,),) = backend.query("SELECT data FROM chats WHERE id = ?", made["id"])
    assert "history" not in str(data) and "an answer" not in str(data)


def test_append_writes_one_row_and_leaves_the_rest(backend, alice: httpx.Client) -> None:
    chat = create(alice)["id"]
    before = _rows(backend, chat)
    new = ok(alice.post(f"/api/v1/chats/{chat}/messages", json={"role": "user",
                                                                "content": "one more"}))
    after = _rows(backend, chat)
    assert set(after) - set(before) == {new["id"]}
    assert {k: after[k] for k in before} == before
    ((current,),) = backend.query("SELECT current_message_id FROM chats WHERE id = ?", chat)
    assert current == new["id"]


def test_update_inserts_updates_and_deletes_only_what_changed(backend,
                                                              alice: httpx.Client) -> None:
    made = create(alice)
    before = _rows(backend, made["id"])
    history = made["chat"]["history"]
    history["messages"]["a1"]["content"] = "changed"
    del history["messages"]["a3"]
    history["messages"]["u2"]["childrenIds"] = ["a2"]
    history["messages"]["x"] = {"id": "x", "parentId": "u3", "childrenIds": [],
                                "role": "assistant", "content": "new"}
    ok(alice.post(f"/api/v1/chats/{made['id']}", json={"chat": {"history": history}}))
    after = _rows(backend, made["id"])
    assert set(after) == {"u1", "a1", "u2", "u3", "a2", "x"}
    for unchanged in ("u1", "u2", "u3", "a2"):
        assert after[unchanged] == before[unchanged], unchanged
    assert after["a1"][0] == before["a1"][0] and after["a1"][2] == "changed"
    assert after["x"][0] > max(pk for pk, *_ in before.values())


def _chat_head() -> str:
    """The chat service's newest migration, read from its migrations (not a literal)."""
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import owui.chat

    config = Config()
    config.set_main_option("script_location", str(Path(owui.chat.__file__).parent / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def test_migration_made_the_right_search_index(backend) -> None:
    assert backend.query("SELECT version_num FROM alembic_version_chat") == [(_chat_head(),)]
    if backend.name == "sqlite":
        names = {r[0] for r in backend.query("SELECT name FROM sqlite_master WHERE type IN "
                                             "('table', 'trigger')")}
        assert {"messages_fts", "chats_fts", "messages_fts_delete", "messages_fts_update",
                "chats_fts_insert", "search_progress"} <= names
        # New messages are indexed in batches by the service's writer, not by a trigger.
        assert "messages_fts_insert" not in names
        assert backend.query("SELECT name FROM sqlite_master WHERE name = ?",
                             "ix_messages_pk_chat") == [("ix_messages_pk_chat",)]
        ((mode,),) = backend.query("PRAGMA journal_mode")
        assert mode == "wal"
    else:
        indexes = {r[0]: r[1] for r in backend.query(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('messages', 'chats')")}
        assert "gin" in indexes["ix_messages_content_fts"]
        assert "to_tsvector" in indexes["ix_chats_title_fts"]
        assert backend.query("SELECT to_regclass('messages_fts')") == [(None,)]
