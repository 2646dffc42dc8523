"""The Telegram channel (python-telegram-bot 22): thin handlers around the conversation.

Each handler turns an update into a channel-neutral event, lets the conversation answer,
and sends the reply as HTML. Only private chats are served here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

from telegram import (
    BotCommand,
    Update,
)
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels import admin, inbox_queue, team
from bot.channels.context import BotContext, Channel
from bot.channels.limits import Verdict
from bot.channels.locks import KeyedLocks
from bot.channels.sending import send
from bot.dialogue.events import (
    ButtonInput,
    CommandInput,
    Contact,
    Event,
    TextInput,
    UnsupportedInput,
    Visitor,
)
from bot.i18n import SUPPORTED, Translator, _
from bot.storage import inbox, users

log = logging.getLogger(__name__)
RATE_LIMIT, INBOX_LAST = -200, 100
COMMANDS = ("start", "menu", "language", "privacy", "human", "ticket", "bot", "mydata",
            "delete", "help")


class PerChatOrder(BaseUpdateProcessor):
    """Processes updates concurrently, but one at a time per chat, in arrival order."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._chats = KeyedLocks()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        async with self._chats.hold(chat.id):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def register(application: Application[Any, Any, Any, Any, Any, Any], team_chats: set[int]) -> None:
    """Adds the handlers for private chats and the case-worker team chats; the last one
    marks the update done in the durable inbox (the update queue recorded it)."""
    application.add_handler(TypeHandler(Update, rate_limit), group=RATE_LIMIT)
    application.add_handler(TypeHandler(Update, inbox_queue.done), group=INBOX_LAST)
    team.register(application, team_chats)
    admin.register(application)
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE  # edits are not answered
    application.add_handler(CommandHandler(COMMANDS, on_command, filters=private))
    application.add_handler(MessageHandler(private & filters.COMMAND, on_command))
    application.add_handler(MessageHandler(private & filters.TEXT, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(private & ~filters.TEXT, on_other))
    application.add_error_handler(on_error)


async def rate_limit(update: Update, context: BotContext) -> None:
    """One user flooding the bot gets one warning; further messages are dropped unread."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return
    verdict = context.channel.limiter.check(user.id, time.monotonic())
    if verdict is Verdict.PASS:
        return
    if verdict is Verdict.WARN:
        translator = context.channel.translator
        with translator.use(translator.supported(user.language_code)):
            text = _("You are sending messages very fast. Please wait a moment, then write "
                     "again.")
        await context.bot.send_message(chat.id, text)
    log.info("rate limit: a message was %s", "warned" if verdict is Verdict.WARN else "dropped")
    await inbox_queue.done(update, context)
    raise ApplicationHandlerStop


async def replay_unfinished(application: Application[Any, Any, Any, Any, Any, Any],
                            channel: Channel) -> int:
    """Processes again the updates a stopped process had received but not finished."""
    async with channel.sessions() as session:
        payloads = await inbox.unfinished(session=session)
    for payload in payloads:
        update = Update.de_json(payload, application.bot)
        if update is not None:
            await application.process_update(update)
    return len(payloads)


async def on_command(update: Update, context: BotContext) -> None:
    """/start, /menu, … and unknown commands (answered with help)."""
    assert update.effective_message is not None and update.effective_message.text is not None
    word, _space, args = update.effective_message.text.partition(" ")
    name = word.lstrip("/").split("@", 1)[0].lower()
    await respond(update, context, CommandInput(name, args.strip()))


async def on_text(update: Update, context: BotContext) -> None:
    """A question in the user's own words."""
    assert update.effective_message is not None
    await respond(update, context, TextInput(update.effective_message.text or ""))


async def on_button(update: Update, context: BotContext) -> None:
    """A button press; its data is an id, possibly forged, checked by the core."""
    query = update.callback_query
    assert query is not None
    answered = asyncio.ensure_future(query.answer())  # stops the spinner meanwhile
    try:
        if query.message is not None and query.message.chat.type == "private":
            await respond(update, context, ButtonInput(query.data or ""))
    finally:
        await answered


async def on_other(update: Update, context: BotContext) -> None:
    """Voice, photos, stickers, locations…: the bot reads text only."""
    message = update.effective_message
    assert message is not None
    kind = next((k for k in ("voice", "photo", "sticker", "document", "location", "contact",
                             "video", "audio") if getattr(message, k, None)), "other")
    await respond(update, context, UnsupportedInput(kind))


async def respond(update: Update, context: BotContext, event: Event) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    channel = context.channel
    visitor = Visitor(channel.pseudonyms.of("telegram", user.id), "telegram", user.language_code,
                      Contact(chat.id, user.first_name, user.username))
    outcome = await channel.conversation.handle(visitor, event, update.update_id)
    context.inbox_done = outcome.inbox_done
    if not await send(context.bot, chat.id, outcome.messages):
        await mark_blocked(channel, user.id)
        return
    for filename, content in outcome.documents:
        await context.bot.send_document(chat.id, content, filename=filename)
    await team.deliver(context, update, outcome.notices)


async def mark_blocked(channel: Channel, user_id: int) -> None:
    """After a 403: nothing more is sent to this user until they write again."""
    async with channel.writer.begin() as session:
        row = await users.user_id_of(session=session,
                                     pseudonym=channel.pseudonyms.of("telegram", user_id))
        await users.set_blocked(session=session, user_id=row, blocked=True)


async def on_error(update: object, context: BotContext) -> None:
    """Logs the failure without personal data and apologises to the user."""
    error = context.error
    log.error("update failed: %s", type(error).__name__,
              exc_info=(type(error), error, error.__traceback__) if error else None)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    user = update.effective_user
    translator = context.channel.translator
    with translator.use(translator.supported(user.language_code if user else None)):
        text = _("Sorry, something went wrong on my side. Please try again in a moment.")
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except Exception as failure:  # the apology itself failed: log the kind, keep serving
        log.warning("could not send the apology: %s", type(failure).__name__)


async def set_commands(bot: ExtBot[None], translator: Translator) -> None:
    """The command menu in each language, plus the default language for everyone else."""
    for language in (*SUPPORTED, None):
        with translator.use(language):
            descriptions = {
                "start": _("Start again"), "menu": _("Topics"),
                "language": _("Change language"), "privacy": _("What I store, your choices"),
                "human": _("Talk to a case worker"), "ticket": _("My request"),
                "bot": _("Back to the bot"), "mydata": _("Everything stored about me"),
                "delete": _("Delete my data"), "help": _("Help"),
            }
            commands = [BotCommand(name, descriptions[name]) for name in COMMANDS]
        await bot.set_my_commands(commands, language_code=language)
