"""Failed logins, so that the login rate limit holds across every replica sharing the database.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("login_failures_at", "login_failures", ["at"])
    op.create_index("login_failures_user_at", "login_failures", ["user", "at"])


def downgrade() -> None:
    op.drop_table("login_failures")
