"""seller operations: order messages, shop alerts (digest, low-stock threshold), the cancel reason

Revision ID: 0012_h17ops_seller_ops
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_h17ops_seller_ops"
down_revision = "0011_merge_session4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "order_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=8), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("author IN ('buyer','shop','admin')", name=op.f("ck_order_messages_author_valid")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_order_messages_author_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_messages_order_id_orders"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_order_messages_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_messages")),
    )
    op.create_index(op.f("ix_order_messages_order_id"), "order_messages", ["order_id"])
    op.create_index("ix_order_messages_shop_unread", "order_messages", ["shop_id", "author", "read_at"])
    op.create_table(
        "shop_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("mailed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_shop_alerts_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_alerts")),
    )
    op.create_index("ix_shop_alerts_pending", "shop_alerts", ["shop_id", "mailed_at"])
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("low_stock_threshold", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("alert_digest", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("cancel_reason", sa.String(length=400), nullable=True))


def downgrade():
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("cancel_reason")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("alert_digest")
        batch.drop_column("low_stock_threshold")
    op.drop_index("ix_shop_alerts_pending", table_name="shop_alerts")
    op.drop_table("shop_alerts")
    op.drop_index("ix_order_messages_shop_unread", table_name="order_messages")
    op.drop_index(op.f("ix_order_messages_order_id"), table_name="order_messages")
    op.drop_table("order_messages")
