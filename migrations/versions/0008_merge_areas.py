"""merge the area branches (accounts, orders, officials, search, api) into one head

Revision ID: 0008_merge_areas
Revises: 0002_accounts, 0004_orders, 0005_officials, 0006_search, 0007_api
"""

revision = "0008_merge_areas"
down_revision = ("0002_accounts", "0004_orders", "0005_officials", "0006_search", "0007_api")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
