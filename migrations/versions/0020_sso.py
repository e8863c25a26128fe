"""sso: organizations' OpenID Connect providers and linked identities (issue 18)

Revision ID: 0020_sso
Revises: 0019_privacy
Create Date: 2026-12-06 03:43:16.506625

"""
from alembic import op
import sqlalchemy as sa

import mixer.db_types


# revision identifiers, used by Alembic.
revision = '0020_sso'
down_revision = '0019_privacy'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oidc_provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('client_secret_encrypted', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('passwords_off', sa.Boolean(), nullable=False),
    sa.Column('scopes', sa.String(length=255), nullable=False),
    sa.Column('claim_name', sa.String(length=80), nullable=False),
    sa.Column('claim_email', sa.String(length=80), nullable=False),
    sa.Column('claim_department', sa.String(length=80), nullable=False),
    sa.Column('claim_level', sa.String(length=80), nullable=False),
    sa.Column('email_domains', sa.JSON(), nullable=False),
    sa.Column('discovery', sa.JSON(), nullable=False),
    sa.Column('discovered_at', mixer.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_oidc_provider_org_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_provider')),
    sa.UniqueConstraint('org_id', name=op.f('uq_oidc_provider_org_id'))
    )
    op.create_table('sso_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('created_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', mixer.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_sso_identity_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_identity')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_sso_identity_issuer_subject'))
    )
    with op.batch_alter_table('sso_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_identity_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('sso_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_identity_user_id'))

    op.drop_table('sso_identity')
    op.drop_table('oidc_provider')
