"""Catalogue updates by admins, in a private chat: send the exported workbook, press Apply.

The handlers run in group -1, before the private-chat handlers. A document from anyone but
an active admin falls through to the usual "I can only read text" answer; what an admin
sends, and every "A:" button, stops there (`ApplicationHandlerStop`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Document, Message, Update, User
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot import catalog_admin
from bot.channels import inbox_queue
from bot.channels.context import BotContext, Channel
from bot.channels.sending import send
from bot.dialogue import events
from bot.i18n import _, format_number
from bot.storage import staff

log = logging.getLogger(__name__)
GROUP = -1  # before the private-chat handlers of group 0
APPLY = "A:"  # callback data: "A:<token>", 24 bytes
SWEEP_SECONDS = 600
UPLOADS = catalog_admin.default_uploads()


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Admins' workbooks in private chats, the Apply button, and the cleanup of old uploads."""
    documents = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.Document.ALL
    application.add_handler(MessageHandler(documents, on_document), group=GROUP)
    application.add_handler(CallbackQueryHandler(on_apply, pattern=rf"^{APPLY}"), group=GROUP)
    if application.job_queue is not None:
        application.job_queue.run_repeating(sweep_uploads, SWEEP_SECONDS, first=SWEEP_SECONDS)


async def on_document(update: Update, context: BotContext) -> None:
    """An admin's workbook: checked, answered with the report, the diff and Apply."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.document is None:
        return
    channel = context.channel
    member = await _active_staff(channel, user.id)
    if member is None or member.role != "admin":
        return  # not for us: the generic private-chat handlers answer
    translator = channel.translator
    with translator.use(translator.supported(user.language_code)):
        await _review(context, message, message.document, member)
    await inbox_queue.done(update, context)
    raise ApplicationHandlerStop


async def _review(
    context: BotContext, message: Message, document: Document, member: staff.Staff
) -> None:
    channel = context.channel
    actor, now = f"staff:{member.id}", channel.clock()
    limit = catalog_admin.MAX_UPLOAD_BYTES
    if not catalog_admin.acceptable_name(document.file_name):
        await catalog_admin.record(channel.writer, actor=actor, action="catalog.upload",
                                   allowed=True, now=now, details={"outcome": "not_xlsx"})
        await _say(context, message.chat_id, _(
            "Please send the catalogue as an .xlsx workbook: the file written by “catalog "
            "export --format xlsx”, edited and saved in the same format."))
        return
    if document.file_size is not None and document.file_size > limit:
        await _refuse_size(context, message.chat_id, actor, document.file_size)
        return
    file = await document.get_file()
    data = bytes(await file.download_as_bytearray())
    if len(data) > limit:  # Telegram did not report the size
        await _refuse_size(context, message.chat_id, actor, len(data))
        return
    UPLOADS.sweep(now)
    token = UPLOADS.save(data, now)
    path = UPLOADS.find(token, now)
    assert path is not None
    name = document.file_name or "upload.xlsx"
    rules = catalog_admin.rules(now.date(), channel.catalog_max_age_days)
    try:
        review = await catalog_admin.review(channel.sessions, path, rules, name)
    except BaseException:
        UPLOADS.discard(token)
        raise
    if not review.applicable:
        UPLOADS.discard(token)
    await catalog_admin.record(channel.writer, actor=actor, action="catalog.upload",
                               allowed=True, now=now,
                               details=catalog_admin.upload_details(review, len(data)))
    buttons = ((events.Button(_("Apply"), APPLY + token),),) if review.applicable else ()
    await send(context.bot, message.chat_id,
               [events.Message(catalog_admin.render_review(review, name), buttons)])


async def _refuse_size(context: BotContext, chat_id: int, actor: str, size: int) -> None:
    await catalog_admin.record(context.channel.writer, actor=actor, action="catalog.upload",
                               allowed=True, now=context.channel.clock(),
                               details={"outcome": "too_large", "bytes": size})
    megabyte = 1024 * 1024
    await _say(context, chat_id, _(
        "Sorry, this file is too large (%(size)s MB). Workbooks up to %(limit)s MB are "
        "accepted.", size=format_number(-(-size // megabyte)),
        limit=format_number(catalog_admin.MAX_UPLOAD_BYTES // megabyte)))


async def on_apply(update: Update, context: BotContext) -> None:
    """Apply: admins only; the token must name an upload of the last 30 minutes."""
    query = update.callback_query
    assert query is not None
    answered = asyncio.ensure_future(query.answer())  # stops the spinner meanwhile
    try:
        user = query.from_user
        chat_id = query.message.chat.id if query.message is not None else user.id
        translator = context.channel.translator
        with translator.use(translator.supported(user.language_code)):
            used = await _apply(context, user, chat_id, (query.data or "").removeprefix(APPLY))
            if used and query.message is not None:
                await _drop_button(context, chat_id, query.message.message_id)
    finally:
        await answered
    await inbox_queue.done(update, context)
    raise ApplicationHandlerStop


async def _apply(context: BotContext, user: User, chat_id: int, token: str) -> bool:
    """True when the token named an upload, now used up."""
    channel = context.channel
    member = await _active_staff(channel, user.id)
    now = channel.clock()
    if member is None or member.role != "admin":
        await catalog_admin.record(
            channel.writer, actor=f"staff:{member.id}" if member else "unknown",
            action="catalog.apply", allowed=False, now=now,
            details={"role": member.role} if member else {"role": "none"})
        await _say(context, chat_id, _("Sorry, only catalogue administrators can use this "
                                       "button."))
        return False
    actor = f"staff:{member.id}"
    path = UPLOADS.find(token, now)
    if path is None:
        await catalog_admin.record(channel.writer, actor=actor, action="catalog.apply",
                                   allowed=True, now=now, details={"outcome": "expired"})
        await _say(context, chat_id, _(
            "Sorry, this upload has expired or is unknown; nothing was imported. Please send "
            "the workbook again."))
        return False
    try:
        rules = catalog_admin.rules(now.date(), channel.catalog_max_age_days)
        applied = await catalog_admin.apply(channel.writer, path, rules, actor=actor, now=now)
    finally:
        UPLOADS.discard(token)
    await _say(context, chat_id, catalog_admin.render_applied(applied))
    return True


async def _drop_button(context: BotContext, chat_id: int, message_id: int) -> None:
    """The Apply button works once: remove it from the report."""
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as error:
        log.info("the Apply button was not removed: %s", type(error).__name__)


async def sweep_uploads(context: BotContext) -> None:
    """Deletes uploads nobody applied within 30 minutes (a JobQueue job)."""
    deleted = UPLOADS.sweep(context.channel.clock())
    if deleted:
        log.info("expired catalogue uploads deleted: %d", deleted)


async def _active_staff(channel: Channel, telegram_id: int) -> staff.Staff | None:
    async with channel.sessions() as session:
        return await staff.get_active_staff(session=session, telegram_id=telegram_id)


async def _say(context: BotContext, chat_id: int, html: str) -> None:
    await send(context.bot, chat_id, [events.Message(html)])
