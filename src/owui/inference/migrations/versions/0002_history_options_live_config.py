"""model presets' version history, a connection's Open WebUI options, the live settings table

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
        "model_history",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("model_id", sa.String(256), nullable=False, index=True),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("commit_message", sa.Text, nullable=True),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("version_id", sa.String(36), nullable=True))
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("options", sa.JSON, nullable=True))
    create_live_config_table("inference")


def downgrade() -> None:
    drop_live_config_table("inference")
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("options")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("version_id")
    op.drop_table("model_history")
