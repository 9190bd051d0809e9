"""contact the shop and English content: shops gain show_phone / show_zalo (default true), name_en, story_en;
variants gain name_en; products gain materials_en, technique_en, ocop_issuer_en (all nullable, Vietnamese is
the fallback)

Revision ID: 0012_h16seo_contact_english
Revises: 0011_merge_session4
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_h16seo_contact_english"
down_revision = "0011_merge_session4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("show_phone", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("show_zalo", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("name_en", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("story_en", sa.Text(), nullable=True))
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_en", sa.String(length=120), nullable=True))
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("materials_en", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("technique_en", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("ocop_issuer_en", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("ocop_issuer_en")
        batch_op.drop_column("technique_en")
        batch_op.drop_column("materials_en")
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.drop_column("name_en")
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.drop_column("story_en")
        batch_op.drop_column("name_en")
        batch_op.drop_column("show_zalo")
        batch_op.drop_column("show_phone")
