"""chat flows: read state, access grants for chats and folders, rating feedback

Revision ID: 0006
Revises: 0005

- `chats.last_read_at`: Open WebUI's unread mark (a chat is unread while `updated_at` is past it).
- `chat_access_grants`: who else may read a shared chat or folder (Open WebUI's `AccessGrantModel`:
  a principal, user or group, and a permission, read or write, on a resource). Share links made
  before this revision were open to every signed-in user; each gets that grant written out.
- `shares.share_mode`: a share link's mode (Open WebUI's `ShareChatForm.share_mode`).
- `feedback`: a rating of an answer (`/api/v1/evaluations/feedback`), as Open WebUI stores it;
  `chat_id` and `message_id` are copied out of `meta` so that a message's rating is found by index.
- `live_config`: settings an admin changes at run time (core/live_config.py).
"""

import sqlalchemy as sa
from alembic import op

from owui.core.live_config import create_live_config_table, drop_live_config_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite supports it, so no table is rebuilt (chats carry search triggers).
    op.add_column("chats", sa.Column("last_read_at", sa.BigInteger(), nullable=True))
    op.add_column("shares", sa.Column("share_mode", sa.String(32), nullable=True))
    op.create_table(
        "chat_access_grants",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(36), nullable=False),
        sa.Column("principal_type", sa.String(32), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("permission", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("resource_type", "resource_id", "principal_type", "principal_id",
                            "permission", name="uq_chat_access_grants_grant"),
    )
    op.create_index("ix_chat_access_grants_principal", "chat_access_grants",
                    ["principal_type", "principal_id", "resource_type"])
    # Links made before grants existed were open to every signed-in user: they stay so.
    op.execute("INSERT INTO chat_access_grants (id, resource_type, resource_id, principal_type,"
               " principal_id, permission, created_at) SELECT id, 'shared_chat', chat_id, 'user',"
               " '*', 'read', created_at FROM shares")
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("chat_id", sa.String(36), nullable=True),
        sa.Column("message_id", sa.String(128), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_feedback_user_updated", "feedback", ["user_id", "updated_at"])
    op.create_index("ix_feedback_chat_message", "feedback", ["chat_id", "message_id"])
    create_live_config_table("chat")


def downgrade() -> None:
    drop_live_config_table("chat")
    op.drop_index("ix_feedback_chat_message", "feedback")
    op.drop_index("ix_feedback_user_updated", "feedback")
    op.drop_table("feedback")
    op.drop_index("ix_chat_access_grants_principal", "chat_access_grants")
    op.drop_table("chat_access_grants")
    with op.batch_alter_table("shares") as batch:
        batch.drop_column("share_mode")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("last_read_at")
