"""Imports every ORM module so `Base.metadata` knows all tables (for Alembic and tests)."""

from bot.storage import models as bot_models
from services_catalog import models as catalog_models

__all__ = ["bot_models", "catalog_models"]
