"""saved versions of tools and functions (Open WebUI's history), each one's production version,
and the live settings table (task and code execution settings)

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
        "plugin_versions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(128), nullable=False),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=True),
        sa.Column("commit_message", sa.Text, nullable=True),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("seq", sa.Float, nullable=False),
    )
    op.create_index("ix_plugin_versions_item", "plugin_versions", ["kind", "item_id", "seq"])
    for table in ("tools", "functions"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version_id", sa.String(36), nullable=True))
    create_live_config_table("agent")


def downgrade() -> None:
    drop_live_config_table("agent")
    for table in ("tools", "functions"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version_id")
    op.drop_index("ix_plugin_versions_item", "plugin_versions")
    op.drop_table("plugin_versions")
