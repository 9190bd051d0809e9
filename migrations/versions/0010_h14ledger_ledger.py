"""shop ledger: journal lines, payout batches, payout accounts; payouts gain status/batch/paid_at; shops gain
household_seller (default true)

Existing payouts were transfers already made: they become ``paid`` with ``paid_at`` = their ``created_at``.
Their journal lines — and those of every paid order and succeeded refund from before the ledger — are
posted by ``flask ledger backfill`` (idempotent; it needs the app's settings for commission and tax
withholding, so it is a command, not part of this revision; ``make run`` runs it).

Revision ID: 0010_h14ledger_ledger
Revises: 0009_mail_outbox
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_h14ledger_ledger'
down_revision = '0009_mail_outbox'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payout_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_payout_batches_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_batches'))
    )
    op.create_table('payout_accounts',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('bank_name', sa.String(length=120), nullable=False),
    sa.Column('account_number', sa.String(length=34), nullable=False),
    sa.Column('account_name', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_payout_accounts_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_payout_accounts'))
    )
    op.create_table('ledger_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('entry', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('debit', sa.String(length=24), nullable=False),
    sa.Column('credit', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('collector', sa.String(length=16), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('payout_id', sa.Integer(), nullable=True),
    sa.Column('reverses', sa.String(length=64), nullable=True),
    sa.Column('memo', sa.String(length=300), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_lines_amount_positive')),
    sa.CheckConstraint('debit <> credit', name=op.f('ck_ledger_lines_two_accounts')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ledger_lines_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_ledger_lines_order_id_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], name=op.f('fk_ledger_lines_payout_id_payouts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_ledger_lines_refund_id_refunds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_ledger_lines_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_lines')),
    sa.UniqueConstraint('entry', 'kind', name='uq_ledger_lines_entry_kind')
    )
    with op.batch_alter_table('ledger_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_lines_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_lines_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_ledger_lines_shop_created', ['shop_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_lines_shop_id'), ['shop_id'], unique=False)

    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='paid', nullable=False))
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paid_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_payouts_batch_id'), ['batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_payouts_batch_id_payout_batches'), 'payout_batches', ['batch_id'], ['id'], ondelete='SET NULL')
    op.execute("UPDATE payouts SET status = 'paid', paid_at = created_at")

    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('household_seller', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade():
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.drop_column('household_seller')

    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payouts_batch_id_payout_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payouts_batch_id'))
        batch_op.drop_column('paid_at')
        batch_op.drop_column('batch_id')
        batch_op.drop_column('status')

    with op.batch_alter_table('ledger_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_lines_shop_id'))
        batch_op.drop_index('ix_ledger_lines_shop_created')
        batch_op.drop_index(batch_op.f('ix_ledger_lines_order_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_lines_created_at'))

    op.drop_table('ledger_lines')
    op.drop_table('payout_accounts')
    op.drop_table('payout_batches')
