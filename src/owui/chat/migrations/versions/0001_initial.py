"""folders, chats, messages, tags, shares, preferences, and full-text search

Revision ID: 0001
Revises:

Search is the database's own: on SQLite, FTS5 tables over message contents and chat titles
(external content, kept in step by triggers); on PostgreSQL, GIN indexes over `to_tsvector`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# PostgreSQL refuses a tsvector over 1 MB: index the first 100,000 characters of a message.
PG_MESSAGE_VECTOR = "to_tsvector('simple', left(content, 100000))"
PG_TITLE_VECTOR = "to_tsvector('simple', title)"

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages',
       content_rowid='pk', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
       INSERT INTO messages_fts(rowid, content) VALUES (new.pk, new.content); END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
       INSERT INTO messages_fts(messages_fts, rowid, content)
       VALUES ('delete', old.pk, old.content); END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
       INSERT INTO messages_fts(messages_fts, rowid, content)
       VALUES ('delete', old.pk, old.content);
       INSERT INTO messages_fts(rowid, content) VALUES (new.pk, new.content); END""",
    """CREATE VIRTUAL TABLE chats_fts USING fts5(title, content='chats', content_rowid='pk',
       tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER chats_fts_insert AFTER INSERT ON chats BEGIN
       INSERT INTO chats_fts(rowid, title) VALUES (new.pk, new.title); END""",
    """CREATE TRIGGER chats_fts_delete AFTER DELETE ON chats BEGIN
       INSERT INTO chats_fts(chats_fts, rowid, title) VALUES ('delete', old.pk, old.title); END""",
    """CREATE TRIGGER chats_fts_update AFTER UPDATE OF title ON chats BEGIN
       INSERT INTO chats_fts(chats_fts, rowid, title) VALUES ('delete', old.pk, old.title);
       INSERT INTO chats_fts(rowid, title) VALUES (new.pk, new.title); END""",
]

POSTGRES_FTS = [
    f"CREATE INDEX ix_messages_content_fts ON messages USING gin ({PG_MESSAGE_VECTOR})",
    f"CREATE INDEX ix_chats_title_fts ON chats USING gin ({PG_TITLE_VECTOR})",
]


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.BigInteger, nullable=False),
            sa.Column("updated_at", sa.BigInteger, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "folders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("parent_id", sa.String(36), sa.ForeignKey("folders.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("meta", sa.JSON, nullable=True),
        sa.Column("data", sa.JSON, nullable=True),
        sa.Column("is_expanded", sa.Boolean, nullable=False),
        *_timestamps(),
    )
    op.create_index("ix_folders_user_parent", "folders", ["user_id", "parent_id"])

    op.create_table(
        "chats",
        sa.Column("pk", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("current_message_id", sa.String(128), nullable=True),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("variables", sa.JSON, nullable=True),
        sa.Column("folder_id", sa.String(36), sa.ForeignKey("folders.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False),
        *_timestamps(),
    )
    op.create_index("ix_chats_user_list", "chats", ["user_id", "archived", "updated_at", "pk"])
    op.create_index("ix_chats_user_pinned", "chats", ["user_id", "pinned"])
    op.create_index("ix_chats_folder", "chats", ["folder_id"])

    op.create_table(
        "messages",
        sa.Column("pk", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("chat_id", sa.String(36), sa.ForeignKey("chats.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("parent_id", sa.String(128), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=True),
        sa.Column("timestamp", sa.BigInteger, nullable=True),
        sa.Column("extra", sa.JSON, nullable=True),
        *_timestamps(),
        sa.UniqueConstraint("chat_id", "id", name="uq_messages_chat_id"),
        # Never reuse a row id: a share shows the messages up to the id it was made at.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_messages_chat_parent", "messages", ["chat_id", "parent_id"])

    op.create_table(
        "tags",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("meta", sa.JSON, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "chat_tags",
        sa.Column("chat_id", sa.String(36), sa.ForeignKey("chats.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("tag_id", sa.String(128), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_chat_tags_user_tag", "chat_tags", ["user_id", "tag_id"])

    op.create_table(
        "shares",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("chat_id", sa.String(36), sa.ForeignKey("chats.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("current_message_id", sa.String(128), nullable=True),
        sa.Column("message_cut", sa.BigInteger, nullable=False),
        *_timestamps(),
    )
    op.create_index("ix_shares_user", "shares", ["user_id"])

    op.create_table(
        "preferences",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )

    dialect = op.get_bind().dialect.name
    for statement in SQLITE_FTS if dialect == "sqlite" else POSTGRES_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("messages_fts", "chats_fts"):
            op.execute(f"DROP TABLE IF EXISTS {name}")
    for table in ("preferences", "shares", "chat_tags", "tags", "messages", "chats", "folders"):
        op.drop_table(table)
