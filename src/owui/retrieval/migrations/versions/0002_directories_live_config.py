"""knowledge directories, a file's directory in a collection, and the live settings table

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from owui.core.live_config import create_live_config_table, drop_live_config_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_directories",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("knowledge_id", sa.String(36),
                  sa.ForeignKey("knowledge.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )
    with op.batch_alter_table("knowledge_files") as batch:
        batch.add_column(sa.Column("directory_id", sa.String(36), nullable=True))
    create_live_config_table("retrieval")


def downgrade() -> None:
    drop_live_config_table("retrieval")
    with op.batch_alter_table("knowledge_files") as batch:
        batch.drop_column("directory_id")
    op.drop_table("knowledge_directories")
