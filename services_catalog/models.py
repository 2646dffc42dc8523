"""ORM tables for the catalogue. Callers never see these: repositories return views."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services_catalog.db import Base


class RegionRow(Base):
    __tablename__ = "catalog_regions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalog_regions.id"), index=True
    )
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)


class OrganizationRow(Base):
    __tablename__ = "catalog_organizations"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))


class ServiceRow(Base):
    __tablename__ = "catalog_services"
    __table_args__ = (Index("ix_catalog_services_category_status", "category", "status"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("catalog_organizations.id"), index=True
    )
    category: Mapped[str] = mapped_column(String(40))
    # active | suspended (from the file) | inactive (removed from the file; never deleted)
    status: Mapped[str] = mapped_column(String(20))
    national: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    accepts_referrals: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    summary: Mapped[dict[str, str]] = mapped_column(JSON)
    last_verified: Mapped[date] = mapped_column(Date)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ServiceDocumentRow(Base):
    """The whole validated service, kept apart so listing reads only small rows."""

    __tablename__ = "catalog_service_documents"

    service_id: Mapped[str] = mapped_column(
        ForeignKey("catalog_services.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


NATIONAL_AREA = "*"


class ServiceAreaRow(Base):
    """Where a service is available: the category + region filter's covering index.

    One row per region and district of its locations, or one `NATIONAL_AREA` row for a
    national service.
    """

    __tablename__ = "catalog_service_areas"
    __table_args__ = (
        Index("ix_catalog_service_areas_lookup", "area_id", "category", "service_id"),
    )

    service_id: Mapped[str] = mapped_column(
        ForeignKey("catalog_services.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    category: Mapped[str] = mapped_column(String(40))


class CatalogRevisionRow(Base):
    __tablename__ = "catalog_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(500))
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
