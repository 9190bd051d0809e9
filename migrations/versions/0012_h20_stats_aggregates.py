"""officials: delivered sales per shop, line village and Hà Nội day / month (stats_sales_days, stats_sales_months)

Revision ID: 0012_h20_stats_aggregates
Revises: 0011_merge_session4
"""
from alembic import op
import sqlalchemy as sa


revision = "0012_h20_stats_aggregates"
down_revision = "0011_merge_session4"
branch_labels = None
depends_on = None

PRODUCED = "('delivered', 'completed', 'refunded')"


def _create(name, period):
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column(period, sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(f"ix_{name}_shop_{period}", ["shop_id", period], unique=False)
        batch_op.create_index(f"ix_{name}_{period}", [period], unique=False)


def upgrade():
    _create("stats_sales_days", "day")
    _create("stats_sales_months", "month")
    # Backfill from the orders already there (the same sums as ``flask stats rebuild``; Hà Nội = UTC+7).
    if op.get_bind().dialect.name == "sqlite":
        day, month = "date(o.delivered_at, '+7 hours')", "strftime('%Y-%m-01', day)"
    else:
        day, month = "CAST(o.delivered_at + INTERVAL '7 hours' AS DATE)", "CAST(date_trunc('month', day) AS DATE)"
    op.execute(
        "INSERT INTO stats_sales_days (shop_id, day, village_id, gross, orders) "
        f"SELECT o.shop_id, {day}, l.village_id, SUM(l.unit_price * l.quantity), COUNT(DISTINCT o.id) "
        "FROM orders o JOIN order_lines l ON l.order_id = o.id "
        f"WHERE o.status IN {PRODUCED} AND o.delivered_at IS NOT NULL "
        f"GROUP BY o.shop_id, {day}, l.village_id")
    op.execute(
        "INSERT INTO stats_sales_months (shop_id, month, village_id, gross, orders) "
        f"SELECT shop_id, {month}, village_id, SUM(gross), SUM(orders) FROM stats_sales_days "
        f"GROUP BY shop_id, {month}, village_id")


def downgrade():
    for name, period in (("stats_sales_months", "month"), ("stats_sales_days", "day")):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{name}_{period}")
            batch_op.drop_index(f"ix_{name}_shop_{period}")
        op.drop_table(name)
