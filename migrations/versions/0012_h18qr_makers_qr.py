"""makers with a face and provenance QR: makers of a shop, the maker of a product, QR scan counts

Revision ID: 0012_h18qr_makers_qr
Revises: 0011_merge_session4
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_h18qr_makers_qr"
down_revision = "0011_merge_session4"
branch_labels = None
depends_on = None

TITLES = ("honour_title IS NULL OR honour_title IN "
          "('nghe_nhan_nhan_dan','nghe_nhan_uu_tu','nghe_nhan_ha_noi','tho_gioi','nguoi_co_cong')")


def upgrade():
    op.create_table(
        "makers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("honour_title", sa.String(length=32), nullable=True),
        sa.Column("honour_decision", sa.String(length=200), nullable=True),
        sa.Column("years_in_craft", sa.SmallInteger(), nullable=True),
        sa.Column("portrait_key", sa.String(length=200), nullable=True),
        sa.Column("portrait_width", sa.Integer(), nullable=True),
        sa.Column("portrait_height", sa.Integer(), nullable=True),
        sa.Column("story_vi", sa.Text(), nullable=True),
        sa.Column("story_en", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(TITLES, name=op.f("ck_makers_honour_title_valid")),
        sa.CheckConstraint("years_in_craft IS NULL OR years_in_craft BETWEEN 0 AND 90",
                           name=op.f("ck_makers_years_valid")),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_makers_shop_id_shops"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_makers")),
    )
    op.create_index(op.f("ix_makers_shop_id"), "makers", ["shop_id"], unique=False)
    op.create_table(
        "qr_scans",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("scans", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_scan_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_qr_scans_product_id_products"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_qr_scans")),
    )
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("maker_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_products_maker_id"), ["maker_id"], unique=False)
        batch.create_foreign_key(batch.f("fk_products_maker_id_makers"), "makers", ["maker_id"], ["id"],
                                 ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("products") as batch:
        batch.drop_constraint(batch.f("fk_products_maker_id_makers"), type_="foreignkey")
        batch.drop_index(batch.f("ix_products_maker_id"))
        batch.drop_column("maker_id")
    op.drop_table("qr_scans")
    op.drop_index(op.f("ix_makers_shop_id"), table_name="makers")
    op.drop_table("makers")
