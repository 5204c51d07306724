"""the user's profile fields (bio, gender, date of birth, timezone, status)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = (
    ("bio", sa.Text), ("gender", sa.String(64)), ("date_of_birth", sa.String(10)),
    ("timezone", sa.String(64)), ("status_emoji", sa.String(64)),
    ("status_message", sa.Text), ("status_expires_at", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
