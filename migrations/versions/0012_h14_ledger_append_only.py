"""ledger lines: append-only in the database (triggers refuse UPDATE and DELETE); shop_id may be NULL for the
platform's own bank lines (money on the collecting account that pays no order: unmatched or refused transfers,
an overpayment's excess, and their return to the payer)

An UPDATE is allowed only when it sets a reference (order, refund, payout, actor) to NULL and changes nothing
else: that is what ON DELETE SET NULL of those rows does. TRUNCATE is not refused (tests; no row triggers).
The SQL is written out here (a migration is a snapshot); ``marketplace/ledger/models.py`` attaches the same
triggers to ``create_all``.

Revision ID: 0012_h14_ledger_append_only
Revises: 0011_merge_session4
"""
from alembic import op
import sqlalchemy as sa

revision = "0012_h14_ledger_append_only"
down_revision = "0011_merge_session4"
branch_labels = None
depends_on = None

MESSAGE = "ledger lines are append-only: post a correcting entry"
FACTS = ("id", "shop_id", "entry", "kind", "debit", "credit", "amount", "method", "collector", "reverses", "memo",
         "created_at")
REFERENCES = ("order_id", "refund_id", "payout_id", "actor_id")


def _unchanged(same: str) -> str:
    return " AND ".join([f"NEW.{c} {same} OLD.{c}" for c in FACTS]
                        + [f"(NEW.{c} {same} OLD.{c} OR NEW.{c} IS NULL)" for c in REFERENCES])


def upgrade():
    with op.batch_alter_table("ledger_lines") as batch:
        batch.alter_column("shop_id", existing_type=sa.Integer(), nullable=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""CREATE OR REPLACE FUNCTION ledger_lines_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {_unchanged("IS NOT DISTINCT FROM")} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
        MESSAGE = '{MESSAGE} (' || TG_OP || ' of line ' || OLD.id || ')';
END
$$""")
        op.execute("""CREATE TRIGGER ledger_lines_append_only BEFORE UPDATE OR DELETE ON ledger_lines
FOR EACH ROW EXECUTE FUNCTION ledger_lines_append_only()""")
    else:
        op.execute(f"""CREATE TRIGGER ledger_lines_no_update BEFORE UPDATE ON ledger_lines
FOR EACH ROW WHEN NOT ({_unchanged("IS")})
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")
        op.execute(f"""CREATE TRIGGER ledger_lines_no_delete BEFORE DELETE ON ledger_lines
FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_lines_append_only ON ledger_lines")
        op.execute("DROP FUNCTION IF EXISTS ledger_lines_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_lines_no_update")
        op.execute("DROP TRIGGER IF EXISTS ledger_lines_no_delete")
    # the platform's own bank lines have no shop: they cannot stay under NOT NULL
    op.execute("DELETE FROM ledger_lines WHERE shop_id IS NULL")
    with op.batch_alter_table("ledger_lines") as batch:
        batch.alter_column("shop_id", existing_type=sa.Integer(), nullable=False)
