"""Settings from the environment or `.env`. Built in `main`, never at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services_catalog.multilingual import LANGUAGES, FallbackChain

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'returnee-bot.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)  # then "please try again"
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"
    caseworker_chat_id: int | None = None  # the default team chat for referrals
    team_chats: dict[str, int] = Field(default_factory=dict)  # organisation id -> team chat
    default_response_hours: int = Field(default=24, gt=0)  # when a service names no SOP
    escalate_after_hours: int = Field(default=24, gt=0)  # after the first-response target
    follow_up_days: int = Field(default=14, gt=0)
    timezone: str = "UTC"  # of the catalogue's opening hours
    default_language: Literal["en", "fr", "ar"] = "en"
    language_fallbacks: dict[str, list[str]] = Field(
        default_factory=lambda: {"ar": ["fr", "en"], "fr": ["en"], "en": ["fr"]}
    )
    nlu_backend: Literal["embedded", "rasa"] = "embedded"
    rasa_url: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object per line
    catalog_path: Path = PROJECT_ROOT / "services_catalog" / "data"
    catalog_max_age_days: int = Field(default=365, gt=0)
    nlu_cache_dir: Path = PROJECT_ROOT / "var" / "nlu"
    pseudonym_key: SecretStr | None = None  # hex; default: var/pseudonym.key, made on first run
    profile_retention_days: int = Field(default=180, gt=0)
    session_minutes: int = Field(default=60, gt=0)
    # closed or cancelled tickets lose their personal details this long after closing
    ticket_retention_days: int = Field(default=365, gt=0)
    telegram_messages_per_second: int = Field(default=30, ge=0)  # 0: no limit (benchmarks)
    telegram_messages_per_chat_per_second: float = Field(default=1.0, ge=0)  # 0: no pacing
    user_burst: int = Field(default=10, gt=0)  # messages a user may send at once
    user_messages_per_minute: int = Field(default=30, gt=0)  # then this many a minute
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        """Accept plain `postgresql://` and `sqlite://` URLs and pick the async driver."""
        for plain, driver in (("postgresql://", "postgresql+asyncpg://"),
                              ("postgres://", "postgresql+asyncpg://"),
                              ("sqlite://", "sqlite+aiosqlite://")):
            if url.startswith(plain):
                return driver + url.removeprefix(plain)
        return url

    @field_validator("language_fallbacks")
    @classmethod
    def _known_languages(cls, fallbacks: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = {lang for key, chain in fallbacks.items() for lang in [key, *chain]}
        unknown -= set(LANGUAGES)
        if unknown:
            raise ValueError(f"unsupported language(s): {', '.join(sorted(unknown))}")
        return fallbacks

    @model_validator(mode="after")
    def _webhook_secret(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_URL needs WEBHOOK_SECRET (Telegram's secret_token)")
        return self

    def fallback_chain(self) -> FallbackChain:
        return FallbackChain(self.default_language, self.language_fallbacks)
