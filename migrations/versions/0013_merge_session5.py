"""merge the session-5 branches (ledger triggers, reviews, SEO/contact/English, shipping/addresses, seller
operations, makers/QR, sales aggregates) into one head

Revision ID: 0013_merge_session5
"""

revision = "0013_merge_session5"
down_revision = (
    "0012_h14_ledger_append_only",
    "0012_h16rev_reviews",
    "0012_h16seo_contact_english",
    "0012_h16shop_shipping_addresses",
    "0012_h17ops_seller_ops",
    "0012_h18qr_makers_qr",
    "0012_h20_stats_aggregates",
)
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
