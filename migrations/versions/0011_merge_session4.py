"""merge the session-4 branches (officials, claims/register, ledger, bank transfers, jobs, search) into one head

Revision ID: 0011_merge_session4
"""

revision = "0011_merge_session4"
down_revision = (
    "0010_h13ind_indicator_provenance",
    "0010_h13reg_claims",
    "0010_h14ledger_ledger",
    "0010_h14pay_bank_transactions",
    "0010_h15jobs_background_jobs",
    "0010_h15search_pg_search",
)
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
