"""catalogue tables

Revision ID: 0001
Revises:
Create Date: 2026-11-22 12:03:56.062231
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_organizations",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_organizations")),
    )
    op.create_table(
        "catalog_regions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.String(length=40), nullable=True),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["catalog_regions.id"],
            name=op.f("fk_catalog_regions_parent_id_catalog_regions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_regions")),
    )
    with op.batch_alter_table("catalog_regions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_regions_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "catalog_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_revisions")),
    )
    op.create_table(
        "catalog_services",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("organization_id", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("national", sa.Boolean(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("accepts_referrals", sa.Boolean(), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("last_verified", sa.Date(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["catalog_organizations.id"],
            name=op.f("fk_catalog_services_organization_id_catalog_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_services")),
    )
    with op.batch_alter_table("catalog_services", schema=None) as batch_op:
        batch_op.create_index(
            "ix_catalog_services_category_status", ["category", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_catalog_services_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "catalog_service_areas",
        sa.Column("service_id", sa.String(length=80), nullable=False),
        sa.Column("area_id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["catalog_services.id"],
            name=op.f("fk_catalog_service_areas_service_id_catalog_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "area_id", name=op.f("pk_catalog_service_areas")),
    )
    with op.batch_alter_table("catalog_service_areas", schema=None) as batch_op:
        batch_op.create_index(
            "ix_catalog_service_areas_lookup", ["area_id", "category", "service_id"], unique=False
        )

    op.create_table(
        "catalog_service_documents",
        sa.Column("service_id", sa.String(length=80), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["catalog_services.id"],
            name=op.f("fk_catalog_service_documents_service_id_catalog_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_catalog_service_documents")),
    )


def downgrade() -> None:
    op.drop_table("catalog_service_documents")
    with op.batch_alter_table("catalog_service_areas", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_service_areas_lookup")

    op.drop_table("catalog_service_areas")
    with op.batch_alter_table("catalog_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_services_organization_id"))
        batch_op.drop_index("ix_catalog_services_category_status")

    op.drop_table("catalog_services")
    op.drop_table("catalog_revisions")
    with op.batch_alter_table("catalog_regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_regions_parent_id"))

    op.drop_table("catalog_regions")
    op.drop_table("catalog_organizations")
