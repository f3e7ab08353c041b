"""The schema of the releases before migrations (sessions, turns, cards, review_logs,
checklist_marks). A database those releases wrote already has these tables: they are kept as
they are (this revision only creates what is missing), so it migrates forward in place.

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
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "sessions" not in have:
        op.create_table(
            "sessions",
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("user", sa.Text, nullable=False),
            sa.Column("mode", sa.Text, nullable=False),
            sa.Column("config", sa.Text, nullable=False),
            sa.Column("state", sa.Text, nullable=False),
            sa.Column("status", sa.Text, nullable=False, server_default="active"),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.Column("updated_at", sa.Text, nullable=False))
    if "turns" not in have:
        op.create_table(
            "turns",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id"), nullable=False),
            sa.Column("item_id", sa.Text),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("prompt", sa.Text, nullable=False, server_default=""),
            sa.Column("answer", sa.Text),
            sa.Column("score", sa.Float),
            sa.Column("grade", sa.Text),
            sa.Column("topic", sa.Text),
            sa.Column("created_at", sa.Text, nullable=False))
        op.create_index("turns_session", "turns", ["session_id"])
    if "cards" not in have:
        op.create_table(
            "cards",
            sa.Column("user", sa.Text, primary_key=True),
            sa.Column("kind", sa.Text, primary_key=True),
            sa.Column("ref", sa.Text, primary_key=True),
            sa.Column("topic", sa.Text),
            sa.Column("card", sa.Text, nullable=False),
            sa.Column("due", sa.Text, nullable=False),
            sa.Column("last_score", sa.Float),
            sa.Column("reviews", sa.Integer, nullable=False, server_default="0"),
            sa.Column("updated_at", sa.Text, nullable=False))
    if "review_logs" not in have:
        op.create_table(
            "review_logs",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("user", sa.Text, nullable=False),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("ref", sa.Text, nullable=False),
            sa.Column("log", sa.Text, nullable=False),
            sa.Column("created_at", sa.Text, nullable=False))
    if "checklist_marks" not in have:
        op.create_table(
            "checklist_marks",
            sa.Column("user", sa.Text, primary_key=True),
            sa.Column("bullet", sa.Text, primary_key=True),
            sa.Column("done", sa.Integer, nullable=False),
            sa.Column("origin", sa.Text, nullable=False))


def downgrade() -> None:
    for t in ("checklist_marks", "review_logs", "cards", "turns", "sessions"):
        op.drop_table(t)
