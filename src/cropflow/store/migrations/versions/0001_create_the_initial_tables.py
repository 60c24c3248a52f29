"""create the initial tables

Revision ID: 0001
Revises:
Create Date: 2026-12-04 20:47:44.679576
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cultivars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cultivars')),
    sa.UniqueConstraint('key', name=op.f('uq_cultivars_key'))
    )
    op.create_table('farms',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_farms'))
    )
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('lot_count', sa.Integer(), nullable=False),
    sa.Column('rejected_lot_count', sa.Integer(), nullable=False),
    sa.Column('batch_count', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('rejected_lots', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('sha256', name=op.f('uq_plans_sha256'))
    )
    op.create_table('recipe_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipe_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('light_intensity', sa.Float(), nullable=False),
    sa.Column('lights_on', sa.Float(), nullable=False),
    sa.Column('lights_off', sa.Float(), nullable=False),
    sa.Column('co2_ppm', sa.Float(), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipe_versions')),
    sa.UniqueConstraint('recipe_id', 'version', name=op.f('uq_recipe_versions_recipe_id'))
    )
    with op.batch_alter_table('recipe_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recipe_versions_recipe_id'), ['recipe_id'], unique=False)

    op.create_table('lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('cultivar_id', sa.Integer(), nullable=False),
    sa.Column('farm_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_date', sa.Date(), nullable=False),
    sa.Column('crop_count', sa.Integer(), nullable=False),
    sa.Column('default_recipe_version_id', sa.Integer(), nullable=False),
    sa.Column('recommended_recipe_version_ids', sa.JSON(), nullable=False),
    sa.Column('batches_created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cultivar_id'], ['cultivars.id'], name=op.f('fk_lots_cultivar_id_cultivars')),
    sa.ForeignKeyConstraint(['default_recipe_version_id'], ['recipe_versions.id'], name=op.f('fk_lots_default_recipe_version_id_recipe_versions')),
    sa.ForeignKeyConstraint(['farm_id'], ['farms.id'], name=op.f('fk_lots_farm_id_farms')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_lots_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lots')),
    sa.UniqueConstraint('plan_id', 'row_number', name=op.f('uq_lots_plan_id'))
    )
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lots_plan_id'), ['plan_id'], unique=False)

    op.create_table('batches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('farm_id', sa.Integer(), nullable=False),
    sa.Column('cultivar_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_date', sa.Date(), nullable=False),
    sa.Column('recipe_version_id', sa.Integer(), nullable=False),
    sa.Column('recipe_source', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivery_count', sa.Integer(), nullable=False),
    sa.Column('failure_count', sa.Integer(), nullable=False),
    sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dead_lettered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['cultivar_id'], ['cultivars.id'], name=op.f('fk_batches_cultivar_id_cultivars')),
    sa.ForeignKeyConstraint(['farm_id'], ['farms.id'], name=op.f('fk_batches_farm_id_farms')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_batches_lot_id_lots')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_batches_plan_id_plans')),
    sa.ForeignKeyConstraint(['recipe_version_id'], ['recipe_versions.id'], name=op.f('fk_batches_recipe_version_id_recipe_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches')),
    sa.UniqueConstraint('lot_id', 'sequence', name=op.f('uq_batches_lot_id'))
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index('ix_batches_outbox', ['dispatched_at', 'plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batches_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index('ix_batches_queue', ['scheduled_date', 'acked_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index('ix_batches_queue')
        batch_op.drop_index(batch_op.f('ix_batches_plan_id'))
        batch_op.drop_index('ix_batches_outbox')

    op.drop_table('batches')
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lots_plan_id'))

    op.drop_table('lots')
    with op.batch_alter_table('recipe_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recipe_versions_recipe_id'))

    op.drop_table('recipe_versions')
    op.drop_table('plans')
    op.drop_table('farms')
    op.drop_table('cultivars')
