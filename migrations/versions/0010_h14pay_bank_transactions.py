"""bank transactions: incoming VietQR transfers (bank webhook, uploaded statements) and their review

Revision ID: 0010_h14pay_bank_transactions
Revises: 0009_mail_outbox
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_h14pay_bank_transactions"
down_revision = "0009_mail_outbox"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bank_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=True),
        sa.Column("reference", sa.String(length=32), nullable=True),
        sa.Column("checkout_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_bank_transactions_amount_positive")),
        sa.ForeignKeyConstraint(["checkout_id"], ["checkouts.id"],
                                name=op.f("fk_bank_transactions_checkout_id_checkouts"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["users.id"],
                                name=op.f("fk_bank_transactions_resolved_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transactions")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_bank_transactions_transaction_id")),
    )
    with op.batch_alter_table("bank_transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_transactions_checkout_id"), ["checkout_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_transactions_reference"), ["reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_transactions_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("bank_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_transactions_status"))
        batch_op.drop_index(batch_op.f("ix_bank_transactions_reference"))
        batch_op.drop_index(batch_op.f("ix_bank_transactions_checkout_id"))
    op.drop_table("bank_transactions")
