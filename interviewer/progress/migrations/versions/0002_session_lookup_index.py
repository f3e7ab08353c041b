"""An index for "this user's latest active session" (resume on any replica looks it up).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("sessions_user_status", "sessions", ["user", "status", "updated_at"])


def downgrade() -> None:
    op.drop_index("sessions_user_status", "sessions")
