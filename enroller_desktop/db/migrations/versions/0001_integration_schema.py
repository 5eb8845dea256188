"""The integration schema of RULES §6, shared with the dealership's other systems.

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 12:02:17.639241
"""

from alembic import op
import sqlalchemy as sa

#: Primary and foreign keys: BIGINT, or SQLite's rowid alias INTEGER.
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organizations',
    sa.Column('id', ID, nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('timezone', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations'))
    )
    op.create_table('campaigns',
    sa.Column('id', ID, nullable=False),
    sa.Column('organization_id', ID, nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('uses_email', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('uses_phone', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('uses_sms', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('expire_after_days', sa.Integer(), nullable=True),
    sa.Column('marketing_exclusion_days', sa.Integer(), nullable=True),
    sa.Column('exclusion_exempt', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_campaigns_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_organization_id'), ['organization_id'], unique=False)

    op.create_table('customers',
    sa.Column('id', ID, nullable=False),
    sa.Column('organization_id', ID, nullable=False),
    sa.Column('first_name', sa.Text(), nullable=True),
    sa.Column('last_name', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('mobile', sa.Text(), nullable=True),
    sa.Column('deleted', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('opt_out_all', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('email_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('sms_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('do_not_call', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('casl_express_consent_at', sa.DateTime(), nullable=True),
    sa.Column('casl_withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('last_purchase_at', sa.DateTime(), nullable=True),
    sa.Column('last_inquiry_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_customers_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_organization_id'), ['organization_id'], unique=False)

    op.create_table('campaign_excluded_tags',
    sa.Column('campaign_id', ID, nullable=False),
    sa.Column('tag', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_excluded_tags_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('campaign_id', 'tag', name=op.f('pk_campaign_excluded_tags'))
    )
    op.create_table('customer_tags',
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('tag', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_tags_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', 'tag', name=op.f('pk_customer_tags'))
    )
    op.create_table('enroller_runs',
    sa.Column('id', ID, nullable=False),
    sa.Column('organization_id', ID, nullable=False),
    sa.Column('campaign_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=True),
    sa.Column('purpose', sa.Enum('default', 'campaign_simulation', 'criterion_stats', 'customer_evaluation', 'campaign_evaluation_and_expire', name='run_purpose', native_enum=False, length=40), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'in_progress', 'completed', 'error', 'canceled', 'not_applicable', name='run_status', native_enum=False, length=40), nullable=False),
    sa.Column('step', sa.Enum('main', 'criterions', 'enroller_run_customers', 'customer_validation', 'campaign_customers', name='run_step', native_enum=False, length=40), nullable=False),
    sa.Column('as_of', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(), nullable=True),
    sa.Column('in_progress_at', sa.DateTime(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('query_param_customers', sa.Integer(), nullable=True),
    sa.Column('potential_customers', sa.Integer(), nullable=True),
    sa.Column('potential_events', sa.Integer(), nullable=True),
    sa.Column('eligible', sa.Integer(), nullable=True),
    sa.Column('success', sa.Integer(), nullable=True),
    sa.Column('expired', sa.Integer(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_enroller_runs_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_enroller_runs_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enroller_runs'))
    )
    with op.batch_alter_table('enroller_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enroller_runs_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enroller_runs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_enroller_runs_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enroller_runs_purpose'), ['purpose'], unique=False)
        batch_op.create_index(batch_op.f('ix_enroller_runs_status'), ['status'], unique=False)
        batch_op.create_index('ix_enroller_runs_status_scheduled_for', ['status', 'scheduled_for', 'id'], unique=False)

    op.create_table('query_params',
    sa.Column('id', ID, nullable=False),
    sa.Column('campaign_id', ID, nullable=False),
    sa.Column('process_order', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('criterion', sa.Text(), nullable=False),
    sa.Column('event_key', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_query_params_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_query_params'))
    )
    with op.batch_alter_table('query_params', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_query_params_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('vehicles',
    sa.Column('id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('vin', sa.Text(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('make', sa.Text(), nullable=True),
    sa.Column('model', sa.Text(), nullable=True),
    sa.Column('odometer', sa.Integer(), nullable=True),
    sa.Column('purchase_date', sa.Date(), nullable=True),
    sa.Column('lease_end_date', sa.Date(), nullable=True),
    sa.Column('last_service_date', sa.Date(), nullable=True),
    sa.Column('warranty_end_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_vehicles_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vehicles'))
    )
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vehicles_customer_id'), ['customer_id'], unique=False)

    op.create_table('campaign_customers',
    sa.Column('id', ID, nullable=False),
    sa.Column('campaign_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('vehicle_id', ID, nullable=True),
    sa.Column('event_key', sa.Text(), nullable=False),
    sa.Column('run_id', ID, nullable=True),
    sa.Column('purpose', sa.Enum('default', 'return_call', 'return_email', 'return_message', name='campaign_customer_purpose', native_enum=False, length=40), nullable=False),
    sa.Column('status', sa.Enum('queued', 'pending_deployment', 'assigned', 'in_progress', 'completed', 'error', name='campaign_customer_status', native_enum=False, length=40), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(), nullable=True),
    sa.Column('expiration', sa.Enum('campaign_ended', 'aged_out', 'no_longer_qualifies', name='expiration', native_enum=False, length=40), nullable=True),
    sa.Column('expired_at', sa.DateTime(), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('last_attempt_disposition', sa.Text(), nullable=True),
    sa.Column('appointment_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_customers_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_campaign_customers_customer_id_customers')),
    sa.ForeignKeyConstraint(['run_id'], ['enroller_runs.id'], name=op.f('fk_campaign_customers_run_id_enroller_runs')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], name=op.f('fk_campaign_customers_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_customers'))
    )
    with op.batch_alter_table('campaign_customers', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_customers_customer_id_enrolled_at', ['customer_id', 'enrolled_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_customers_run_id'), ['run_id'], unique=False)
    # No vehicle and no event key are values of the key too: plain columns would
    # let NULLs repeat, so the unique index is over expressions.
    op.create_index(
        'uq_campaign_customers_enrollment', 'campaign_customers',
        ['campaign_id', 'customer_id', sa.text('coalesce(vehicle_id, 0)'), sa.text("coalesce(event_key, '')")],
        unique=True,
    )

    op.create_table('enroller_run_customers',
    sa.Column('id', ID, nullable=False),
    sa.Column('run_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('vehicle_id', ID, nullable=True),
    sa.Column('query_param_id', ID, nullable=True),
    sa.Column('event_key', sa.Text(), nullable=False),
    sa.Column('first_name', sa.Text(), nullable=True),
    sa.Column('last_name', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('success', 'error', 'pending', name='potential_status', native_enum=False, length=40), nullable=False),
    sa.Column('is_valid', sa.Boolean(), nullable=False),
    sa.Column('valid_email', sa.SmallInteger(), nullable=True),
    sa.Column('valid_phone', sa.SmallInteger(), nullable=True),
    sa.Column('valid_message', sa.SmallInteger(), nullable=True),
    sa.Column('deleted', sa.SmallInteger(), nullable=True),
    sa.Column('unique_event', sa.SmallInteger(), nullable=True),
    sa.Column('already_in_queue', sa.SmallInteger(), nullable=True),
    sa.Column('casl', sa.SmallInteger(), nullable=True),
    sa.Column('opt_out_all', sa.SmallInteger(), nullable=True),
    sa.Column('marketing_exclusion', sa.SmallInteger(), nullable=True),
    sa.Column('validated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enroller_run_customers'))
    )
    with op.batch_alter_table('enroller_run_customers', schema=None) as batch_op:
        batch_op.create_index('ix_enroller_run_customers_run_id_customer_id', ['run_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_enroller_run_customers_run_id_id', ['run_id', 'id'], unique=False)

    op.create_table('enroller_run_events',
    sa.Column('id', ID, nullable=False),
    sa.Column('run_id', ID, nullable=False),
    sa.Column('stage', sa.Enum('main', 'criterions', 'enroller_run_customers', 'customer_validation', 'campaign_customers', name='run_step', native_enum=False, length=40), nullable=False),
    sa.Column('level', sa.Enum('info', 'warning', 'error', name='event_level', native_enum=False, length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['enroller_runs.id'], name=op.f('fk_enroller_run_events_run_id_enroller_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enroller_run_events'))
    )
    with op.batch_alter_table('enroller_run_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enroller_run_events_run_id'), ['run_id'], unique=False)

    op.create_table('enroller_run_query_params',
    sa.Column('id', ID, nullable=False),
    sa.Column('run_id', ID, nullable=False),
    sa.Column('query_param_id', ID, nullable=False),
    sa.Column('process_order', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'in_progress', 'completed', 'error', 'canceled', 'not_applicable', name='run_status', native_enum=False, length=40), nullable=False),
    sa.Column('total_customers', sa.Integer(), nullable=True),
    sa.Column('query_attempts', sa.Integer(), nullable=False),
    sa.Column('average_potential_duration_ms', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('in_progress_at', sa.DateTime(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['enroller_runs.id'], name=op.f('fk_enroller_run_query_params_run_id_enroller_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enroller_run_query_params'))
    )
    with op.batch_alter_table('enroller_run_query_params', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enroller_run_query_params_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('enroller_run_query_params', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enroller_run_query_params_run_id'))

    op.drop_table('enroller_run_query_params')
    with op.batch_alter_table('enroller_run_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enroller_run_events_run_id'))

    op.drop_table('enroller_run_events')
    with op.batch_alter_table('enroller_run_customers', schema=None) as batch_op:
        batch_op.drop_index('ix_enroller_run_customers_run_id_id')
        batch_op.drop_index('ix_enroller_run_customers_run_id_customer_id')

    op.drop_table('enroller_run_customers')
    op.drop_index('uq_campaign_customers_enrollment', table_name='campaign_customers')
    with op.batch_alter_table('campaign_customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_customers_run_id'))
        batch_op.drop_index('ix_campaign_customers_customer_id_enrolled_at')

    op.drop_table('campaign_customers')
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicles_customer_id'))

    op.drop_table('vehicles')
    with op.batch_alter_table('query_params', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_query_params_campaign_id'))

    op.drop_table('query_params')
    with op.batch_alter_table('enroller_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_enroller_runs_status_scheduled_for')
        batch_op.drop_index(batch_op.f('ix_enroller_runs_status'))
        batch_op.drop_index(batch_op.f('ix_enroller_runs_purpose'))
        batch_op.drop_index(batch_op.f('ix_enroller_runs_organization_id'))
        batch_op.drop_index(batch_op.f('ix_enroller_runs_created_at'))
        batch_op.drop_index(batch_op.f('ix_enroller_runs_campaign_id'))

    op.drop_table('enroller_runs')
    op.drop_table('customer_tags')
    op.drop_table('campaign_excluded_tags')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_organization_id'))

    op.drop_table('customers')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_organization_id'))

    op.drop_table('campaigns')
    op.drop_table('organizations')
