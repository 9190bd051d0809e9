"""PostgreSQL search backend: search_documents (folded tsvector, GIN) and search_terms (pg_trgm)

The tables are created on every database (the schema is the same everywhere); only SEARCH_BACKEND=postgres
fills them. On PostgreSQL the pg_trgm extension is created first: that needs the CREATE privilege on the
database (a superuser, the database owner, or on hosted PostgreSQL the provider's admin role; pg_trgm is a
"trusted" extension since PostgreSQL 13, so the database owner may create it). Where the role may not,
create it once as an administrator (``CREATE EXTENSION pg_trgm;``) and run the upgrade again.

Revision ID: 0010_h15search_pg_search
Revises: 0009_mail_outbox
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0010_h15search_pg_search"
down_revision = "0009_mail_outbox"
branch_labels = None
depends_on = None


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "search_documents",
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("ocop", sa.SmallInteger(), nullable=False),
        sa.Column("ocop_until", sa.Integer(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("published", sa.BigInteger(), nullable=False),
        sa.Column("doc", TSVECTOR().with_variant(sa.Text(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_search_documents")),
    )
    op.create_index("ix_search_documents_doc", "search_documents", ["doc"], unique=False, postgresql_using="gin")
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("folded", sa.String(length=64), nullable=False),
        sa.Column("df_title", sa.Integer(), nullable=False),
        sa.Column("df_village", sa.Integer(), nullable=False),
        sa.Column("df_body", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_search_terms")),
    )
    op.create_index("ix_search_terms_trgm", "search_terms", ["term"], unique=False, postgresql_using="gin",
                    postgresql_ops={"term": "gin_trgm_ops"})
    op.create_index("ix_search_terms_folded", "search_terms", ["folded"], unique=False)


def downgrade():
    op.drop_index("ix_search_terms_folded", table_name="search_terms")
    op.drop_index("ix_search_terms_trgm", table_name="search_terms")
    op.drop_table("search_terms")
    op.drop_index("ix_search_documents_doc", table_name="search_documents")
    op.drop_table("search_documents")
