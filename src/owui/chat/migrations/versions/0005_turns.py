"""turns: the assistant messages being generated, and by which process

Revision ID: 0005
Revises: 0004

A row per running chat turn, written with the turn's pending assistant message and deleted with
its final one. A row left behind by a process that died tells the service which messages to mark
interrupted, without scanning the messages.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turns",
        sa.Column("chat_id", sa.String(36), sa.ForeignKey("chats.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("message_id", sa.String(128), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("runner", sa.Text(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("turns")
