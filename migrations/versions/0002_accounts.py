"""accounts, shops and assisted listing: shop consents

Revision ID: 0002_accounts
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa


revision = "0002_accounts"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shop_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("artisan_name", sa.String(length=120), nullable=False),
        sa.Column("artisan_phone", sa.String(length=20), nullable=True),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("given_at", sa.DateTime(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("handed_over_at", sa.DateTime(), nullable=True),
        sa.Column("handed_over_to_id", sa.Integer(), nullable=True),
        sa.Column("handed_over_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "method IN ('in_person_signed','in_person_verbal','phone','letter')",
            name=op.f("ck_shop_consents_method_valid"),
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_shop_consents_shop_id_shops"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_shop_consents_recorded_by_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["handed_over_to_id"], ["users.id"], name=op.f("fk_shop_consents_handed_over_to_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["handed_over_by_id"], ["users.id"], name=op.f("fk_shop_consents_handed_over_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_consents")),
        sa.UniqueConstraint("shop_id", name=op.f("uq_shop_consents_shop_id")),
    )


def downgrade():
    op.drop_table("shop_consents")
