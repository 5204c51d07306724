"""note chats: the hidden chats of the Notes page's chat panel

Revision ID: 0008
Revises: 0007

- `chats.note_id`: set on a chat made by `/api/v1/notes/{id}/chat` (Open WebUI's internal chat
  about a note); such a chat is left out of every chat list, and goes with its note.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite supports it, so no table is rebuilt (chats carry search triggers).
    op.add_column("chats", sa.Column("note_id", sa.String(36), nullable=True))
    op.create_index("ix_chats_note", "chats", ["note_id"])


def downgrade() -> None:
    op.drop_index("ix_chats_note", table_name="chats")
    op.drop_column("chats", "note_id")
