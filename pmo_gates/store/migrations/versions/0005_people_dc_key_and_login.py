"""people: Data Center user key and login name

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 22:05:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_key', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('login', sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f('ix_people_user_key'), ['user_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_user_key'))
        batch_op.drop_column('login')
        batch_op.drop_column('user_key')
