"""webhooks: endpoints and the log of deliveries (issue 18)

Revision ID: 0018_webhooks
Revises: 0017_audit
Create Date: 2026-12-06 03:42:29.966839

"""
from alembic import op
import sqlalchemy as sa

import mixer.db_types


# revision identifiers, used by Alembic.
revision = '0018_webhooks'
down_revision = '0017_audit'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook_endpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=True),
        sa.Column('event_types', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.String(length=300), nullable=True),
        sa.Column('failing_since', mixer.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['user.id'],
            name=op.f('fk_webhook_endpoint_created_by_id_user'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['org_id'], ['organization.id'],
            name=op.f('fk_webhook_endpoint_org_id_organization'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint')),
    )
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_webhook_endpoint_org_id'), ['org_id'], unique=False
        )

    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=40), nullable=False),
        sa.Column('event_type', sa.String(length=40), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', mixer.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', mixer.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('response_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', mixer.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')",
            name=op.f('ck_webhook_delivery_status'),
        ),
        sa.ForeignKeyConstraint(
            ['endpoint_id'], ['webhook_endpoint.id'],
            name=op.f('fk_webhook_delivery_endpoint_id_webhook_endpoint'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
        sa.UniqueConstraint('message_id', name=op.f('uq_webhook_delivery_message_id')),
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index(
            'ix_webhook_delivery_endpoint_created',
            ['endpoint_id', 'created_at'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_delivery_endpoint_created')
    op.drop_table('webhook_delivery')
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_endpoint_org_id'))
    op.drop_table('webhook_endpoint')
