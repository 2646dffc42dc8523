"""The composition root: every component is built here from the settings, once."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot import nlu_setup
from bot.catalogue import CatalogueReader
from bot.channels import console, team, telegram
from bot.channels.context import BotContext, Channel
from bot.channels.inbox_queue import InboxQueue
from bot.channels.limits import RateLimiter
from bot.channels.retries import RetryingRateLimiter
from bot.conversation import Conversation, utcnow
from bot.dialogue.consent import Policy
from bot.dialogue.core import Dialogue
from bot.dialogue.events import Visitor
from bot.handoff.contacts import PublicContacts
from bot.handoff.desk import Desk, Sweeps
from bot.handoff.intake import Intake
from bot.handoff.routing import Router
from bot.i18n import Translator
from bot.pseudonym import Pseudonymizer, load_or_create_key
from bot.settings import PROJECT_ROOT, Settings
from bot.storage import inbox, retention
from bot.storage.writer import Writer
from nlu.types import Parser, ParseResult
from services_catalog.db import create_engine, session_factory
from services_catalog.errors import InputError

log = logging.getLogger(__name__)
RETENTION_EVERY_SECONDS = 3600  # sessions expire within the hour they are due
INBOX_MEMORY = timedelta(days=1)  # redeliveries come within minutes
SWEEP_EVERY_SECONDS = 60
MAX_CONCURRENT_UPDATES = 256
CONNECTIONS = 32


@dataclass(frozen=True)
class Components:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    writer: Writer
    translator: Translator
    pseudonyms: Pseudonymizer
    conversation: Conversation
    desk: Desk
    clock: Callable[[], datetime]

    async def close(self) -> None:
        await self.engine.dispose()


async def open_components(
    settings: Settings, parser: Parser | None = None, clock: Callable[[], datetime] = utcnow
) -> Components:
    engine = create_engine(settings.database_url, settings.sqlite_busy_timeout_ms)
    sessions = session_factory(engine)
    translator = Translator.load(default=settings.default_language)
    if parser is None:
        index = await nlu_setup.load_catalog_index(sessions)
        parser = await asyncio.to_thread(nlu_setup.build_parser, settings, index)
    await asyncio.to_thread(parser.parse, "hello")  # loads the lazy parts before any user
    catalogue = CatalogueReader(sessions)
    chain = settings.fallback_chain()
    policy = Policy(settings.profile_retention_days, settings.session_minutes)
    understand = parser  # bound here: the closure below must not see a None

    async def parse(text: str, language: str | None) -> ParseResult:
        """Off the event loop, so other updates progress meanwhile (numpy frees the GIL)."""
        return await asyncio.to_thread(understand.parse, text, language)

    dialogue = Dialogue(catalogue, parse, translator, chain, policy)
    writer = Writer(engine, sessions)
    router = Router(catalogue, settings.team_chats, settings.caseworker_chat_id,
                    settings.default_response_hours)
    intake = Intake(router, ZoneInfo(settings.timezone), settings.follow_up_days)
    conversation = Conversation(sessions, writer, dialogue, PublicContacts(catalogue, chain),
                                intake, policy, clock)
    desk = Desk(sessions, writer, catalogue, translator, chain, settings.default_language,
                settings.follow_up_days, clock)
    return Components(engine, sessions, writer, translator, Pseudonymizer(_key(settings)),
                      conversation, desk, clock)


def _key(settings: Settings) -> bytes:
    if settings.pseudonym_key is None:
        return load_or_create_key(PROJECT_ROOT / "var" / "pseudonym.key")
    try:
        return bytes.fromhex(settings.pseudonym_key.get_secret_value())
    except ValueError:
        raise InputError("PSEUDONYM_KEY must be hexadecimal (e.g. 64 hex digits)") from None


def build_application(
    settings: Settings, parser: Parser | None = None, clock: Callable[[], datetime] = utcnow
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The Telegram application; components are opened in post_init, closed at shutdown."""
    if settings.telegram_bot_token is None:
        raise InputError("TELEGRAM_BOT_TOKEN is not set")
    queue = InboxQueue()

    async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        components = await open_components(settings, parser, clock)
        application.bot_data["components"] = components
        application.bot_data["settings"] = settings
        application.bot_data["channel"] = queue.channel = Channel(
            components.conversation, components.translator, components.pseudonyms,
            components.desk, Sweeps(components.desk, timedelta(
                hours=settings.escalate_after_hours)), components.sessions, components.writer,
            settings.default_language, components.clock,
            RateLimiter(settings.user_burst, settings.user_messages_per_minute),
            catalog_max_age_days=settings.catalog_max_age_days)
        await telegram.set_commands(application.bot, components.translator)
        replayed = await telegram.replay_unfinished(application, application.bot_data["channel"])
        if replayed:
            log.info("updates left unfinished by the last run, processed again: %d", replayed)
        if application.job_queue is not None:
            jobs = application.job_queue
            jobs.run_repeating(_retention, RETENTION_EVERY_SECONDS, first=60)
            # deadlines live in the database: these jobs pick them up again after a restart
            jobs.run_repeating(team.check_deadlines, SWEEP_EVERY_SECONDS, first=1)
            jobs.run_repeating(team.send_follow_ups, SWEEP_EVERY_SECONDS, first=1)

    async def post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        components: Components | None = application.bot_data.get("components")
        if components is not None:
            await components.close()

    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .rate_limiter(RetryingRateLimiter(
            overall_max_rate=settings.telegram_messages_per_second,
            per_chat=settings.telegram_messages_per_chat_per_second, max_retries=3))
        .update_queue(queue)
        .concurrent_updates(telegram.PerChatOrder(MAX_CONCURRENT_UPDATES))
        .connection_pool_size(CONNECTIONS)  # a small pool is faster than httpcore's 256
        .pool_timeout(30)
        .context_types(ContextTypes(context=BotContext))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    telegram.register(application, team_chats(settings))
    return application


def team_chats(settings: Settings) -> set[int]:
    chats = set(settings.team_chats.values())
    if settings.caseworker_chat_id is not None:
        chats.add(settings.caseworker_chat_id)
    return chats


async def _retention(context: BotContext) -> None:
    """Deletes expired sessions and profiles; anonymises tickets past their retention."""
    components: Components = context.application.bot_data["components"]
    settings: Settings = context.application.bot_data["settings"]
    async with components.writer.begin() as session:
        report = await retention.apply_retention(
            session=session, now=components.clock(),
            ticket_days=settings.ticket_retention_days)
        forgotten = await inbox.forget_done(session=session,
                                            before=components.clock() - INBOX_MEMORY)
    log.info("retention: %d users deleted, %d tickets anonymised, %d inbox entries dropped",
             report.users_deleted, report.tickets_anonymised, forgotten)


def run_telegram(settings: Settings) -> None:
    # Database and NLU work runs in threads; handing the GIL back sooner cuts their waits.
    sys.setswitchinterval(0.0005)
    application = build_application(settings)
    if settings.webhook_url:
        assert settings.webhook_secret is not None  # enforced by Settings
        application.run_webhook(
            listen=settings.webhook_listen, port=settings.webhook_port,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)


async def run_console(settings: Settings, language: str | None) -> None:
    print("Loading…", file=sys.stderr)
    components = await open_components(settings)
    visitor = Visitor(components.pseudonyms.of("console", "local"), "console", language)

    async def read() -> str | None:
        try:
            return await asyncio.to_thread(input, "> ")
        except EOFError:
            return None

    try:
        await console.chat(components.conversation, visitor, read, print)
    finally:
        await components.close()
