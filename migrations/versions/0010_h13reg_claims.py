"""claims and register: OCOP/IP claim status with evidence and review, IP expiry, village code, photos

Revision ID: 0010_h13reg_claims
Revises: 0009_mail_outbox

Existing OCOP certificates get their expiry stored (issue + 36 months when none was typed, and never later
than that); existing IP marks get 10 years from the grant; every existing claim starts "declared" (nobody
has checked its evidence yet); every existing village's code is its slug.
"""
import calendar
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0010_h13reg_claims"
down_revision = "0009_mail_outbox"
branch_labels = None
depends_on = None

KINDS_OLD = "kind IN ('collective_mark','certification_mark','geographical_indication')"
KINDS_NEW = "kind IN ('collective_mark','certification_mark','geographical_indication','other')"
STATUSES = "IN ('declared','verified','rejected')"


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def upgrade():
    with op.batch_alter_table("craft_villages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("commune_note", sa.String(length=300), nullable=True))
    op.execute("UPDATE craft_villages SET code = slug")
    with op.batch_alter_table("craft_villages", schema=None) as batch_op:
        batch_op.alter_column("code", existing_type=sa.String(length=80), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_craft_villages_code"), ["code"])

    op.create_table(
        "village_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("alt_text", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["village_id"], ["craft_villages.id"],
                                name=op.f("fk_village_images_village_id_craft_villages"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_images")),
    )
    with op.batch_alter_table("village_images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_village_images_village_id"), ["village_id"], unique=False)

    with op.batch_alter_table("ip_protections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="declared", nullable=False))
        batch_op.add_column(sa.Column("evidence_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_ip_protections_kind_valid"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_ip_protections_kind_valid"), KINDS_NEW)
        batch_op.create_check_constraint(batch_op.f("ck_ip_protections_status_valid"), f"status {STATUSES}")
        batch_op.create_foreign_key(batch_op.f("fk_ip_protections_reviewed_by_id_users"), "users",
                                    ["reviewed_by_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index(batch_op.f("ix_ip_protections_status"), ["status"], unique=False)

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ocop_status", sa.String(length=16), server_default="declared", nullable=False))
        batch_op.add_column(sa.Column("ocop_evidence_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("ocop_reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ocop_reviewed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("ocop_review_note", sa.Text(), nullable=True))
        batch_op.create_check_constraint(batch_op.f("ck_products_ocop_status_valid"), f"ocop_status {STATUSES}")
        batch_op.create_foreign_key(batch_op.f("fk_products_ocop_reviewed_by_id_users"), "users",
                                    ["ocop_reviewed_by_id"], ["id"], ondelete="SET NULL")

    conn = op.get_bind()
    products = sa.table("products", sa.column("id", sa.Integer), sa.column("ocop_issued_on", sa.Date),
                        sa.column("ocop_expires_on", sa.Date))
    for pid, issued, expires in conn.execute(
            sa.select(products.c.id, products.c.ocop_issued_on, products.c.ocop_expires_on)
            .where(products.c.ocop_issued_on.is_not(None))).all():
        cap = _add_months(issued, 36)
        if expires is None or expires > cap:
            conn.execute(products.update().where(products.c.id == pid).values(ocop_expires_on=cap))
    ips = sa.table("ip_protections", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                   sa.column("granted_on", sa.Date), sa.column("expires_on", sa.Date))
    for ip_id, granted in conn.execute(
            sa.select(ips.c.id, ips.c.granted_on)
            .where(ips.c.kind.in_(("collective_mark", "certification_mark")), ips.c.granted_on.is_not(None))).all():
        conn.execute(ips.update().where(ips.c.id == ip_id).values(expires_on=_add_months(granted, 120)))


def downgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_products_ocop_reviewed_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("ck_products_ocop_status_valid"), type_="check")
        for name in ("ocop_review_note", "ocop_reviewed_at", "ocop_reviewed_by_id", "ocop_evidence_key",
                     "ocop_status"):
            batch_op.drop_column(name)
    op.execute("DELETE FROM ip_protections WHERE kind = 'other'")
    with op.batch_alter_table("ip_protections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ip_protections_status"))
        batch_op.drop_constraint(batch_op.f("fk_ip_protections_reviewed_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("ck_ip_protections_status_valid"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_ip_protections_kind_valid"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_ip_protections_kind_valid"), KINDS_OLD)
        for name in ("review_note", "reviewed_at", "reviewed_by_id", "evidence_key", "status", "expires_on"):
            batch_op.drop_column(name)
    with op.batch_alter_table("village_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_village_images_village_id"))
    op.drop_table("village_images")
    with op.batch_alter_table("craft_villages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_craft_villages_code"), type_="unique")
        batch_op.drop_column("commune_note")
        batch_op.drop_column("code")
