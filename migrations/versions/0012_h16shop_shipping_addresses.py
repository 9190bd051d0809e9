"""shipping up front and saved addresses: shops gain a Hà Nội fee, delivery estimates and weight-band
surcharges (``marketplace.shops.shipping``); orders keep the delivery estimate quoted at checkout; signed-in
buyers' saved delivery addresses

Revision ID: 0012_h16shop_shipping_addresses
Revises: 0011_merge_session4
"""
from alembic import op
import sqlalchemy as sa


revision = "0012_h16shop_shipping_addresses"
down_revision = "0011_merge_session4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("shipping_fee_hanoi", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("delivery_days_hanoi", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("delivery_days_other", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("shipping_weight_bands", sa.String(length=200), nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("delivery_days", sa.String(length=16), nullable=True))
    op.create_table(
        "saved_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("recipient_name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("ward", sa.String(length=120), nullable=False),
        sa.Column("street", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_saved_addresses_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_addresses")),
    )
    op.create_index(op.f("ix_saved_addresses_user_id"), "saved_addresses", ["user_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_saved_addresses_user_id"), table_name="saved_addresses")
    op.drop_table("saved_addresses")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("delivery_days")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("shipping_weight_bands")
        batch.drop_column("delivery_days_other")
        batch.drop_column("delivery_days_hanoi")
        batch.drop_column("shipping_fee_hanoi")
