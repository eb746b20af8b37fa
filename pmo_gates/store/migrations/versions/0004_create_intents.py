"""create intents: creates sent but not yet recorded (search index lag)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 21:55:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'create_intents',
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('project_key', sa.String(length=64), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('gave_up_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('fingerprint'),
    )


def downgrade() -> None:
    op.drop_table('create_intents')
