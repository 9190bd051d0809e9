"""search: products waiting for an index update

Revision ID: 0006_search
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_search"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_dirty",
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_search_dirty")),
    )


def downgrade():
    op.drop_table("search_dirty")
