"""Imports every ORM module so `Base.metadata` knows all tables (for Alembic and tests)."""

from services_catalog import models as catalog_models

__all__ = ["catalog_models"]
