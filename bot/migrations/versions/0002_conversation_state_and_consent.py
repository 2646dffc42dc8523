"""conversation state and consent

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:01:52.027297
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bot_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bot_users')),
    sa.UniqueConstraint('pseudonym', name=op.f('uq_bot_users_pseudonym'))
    )
    with op.batch_alter_table('bot_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bot_users_expires_at'), ['expires_at'], unique=False)

    op.create_table('consent_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('text_version', sa.Integer(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['bot_users.id'], name=op.f('fk_consent_events_user_id_bot_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_events'))
    )
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_events_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_events_user_id'))

    op.drop_table('consent_events')
    with op.batch_alter_table('bot_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bot_users_expires_at'))

    op.drop_table('bot_users')
