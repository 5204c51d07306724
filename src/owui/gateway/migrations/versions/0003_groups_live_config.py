"""groups and their members, the users' info and variables, the live settings table

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from owui.core.live_config import create_live_config_table, drop_live_config_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("parent_group_id", sa.String(36), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("permissions", sa.JSON, nullable=True),
        sa.Column("data", sa.JSON, nullable=True),
        sa.Column("meta", sa.JSON, nullable=True),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(36), sa.ForeignKey("groups.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_group_members_user_id", "group_members", ["user_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("info", sa.JSON, nullable=True))
        batch.add_column(sa.Column("variables", sa.JSON, nullable=True))
    create_live_config_table("gateway")


def downgrade() -> None:
    drop_live_config_table("gateway")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("variables")
        batch.drop_column("info")
    op.drop_index("ix_group_members_user_id", "group_members")
    op.drop_table("group_members")
    op.drop_table("groups")
