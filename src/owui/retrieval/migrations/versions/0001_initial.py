"""files, knowledge, access grants, collections and jobs

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False, index=True),
        sa.Column("hash", sa.String(64), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("content", sa.Text, nullable=True),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.Integer, nullable=False, index=True),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "knowledge",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("meta", sa.JSON, nullable=True),
        sa.Column("created_at", sa.Integer, nullable=False, index=True),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "knowledge_files",
        sa.Column("knowledge_id", sa.String(36),
                  sa.ForeignKey("knowledge.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("file_id", sa.String(36), sa.ForeignKey("files.id", ondelete="CASCADE"),
                  primary_key=True, index=True),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "access_grants",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("principal_type", sa.String(16), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("permission", sa.String(8), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_access_grants_resource", "access_grants",
                    ["resource_type", "resource_id"])
    op.create_index("ix_access_grants_principal", "access_grants",
                    ["principal_type", "principal_id"])
    op.create_table(
        "collections",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=True, index=True),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_collections_user_name", "collections", ["user_id", "name"], unique=True)
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("file_id", sa.String(36), nullable=True, index=True),
        sa.Column("collection", sa.String(300), nullable=True),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("collections")
    op.drop_table("access_grants")
    op.drop_table("knowledge_files")
    op.drop_table("knowledge")
    op.drop_table("files")
