"""The case-worker team chats: ticket cards, their buttons, and the relay in both directions.

A team chat that is a forum gets one topic per ticket; otherwise the card and the copies of
the user's messages are posted in the chat, and staff answer by replying to them.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.channels.context import BotContext
from bot.channels.sending import keyboard, send
from bot.channels.split import split_html
from bot.dialogue.events import Message
from bot.handoff.intake import Notice
from bot.i18n import _
from bot.storage import tickets, users

log = logging.getLogger(__name__)


def register(application: Application[Any, Any, Any, Any, Any, Any], chats: set[int]) -> None:
    """Buttons anywhere (checked per staff member); messages only in the team chats."""
    application.add_handler(CallbackQueryHandler(on_card_button, pattern=r"^T:"))
    if chats:
        team = filters.Chat(chat_id=chats)
        application.add_handler(CommandHandler("note", on_note, filters=team))
        application.add_handler(MessageHandler(team & ~filters.COMMAND
                                               & ~filters.StatusUpdate.ALL, on_staff_message))


async def on_card_button(update: Update, context: BotContext) -> None:
    """Take, release, close, reassign: the desk checks who presses."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    result = await context.channel.desk.press(query.from_user.id, query.data or "")
    await query.answer(result.answer or None, show_alert=result.ticket is None)
    if result.card is not None and query.message is not None:
        await _edit(context.bot, query.message.chat.id, query.message.message_id, result.card)
    if result.user_chat is not None and result.ticket is not None:
        await send_to_user(context, result.ticket, result.to_user)


async def on_staff_message(update: Update, context: BotContext) -> None:
    """A case worker's answer in the ticket's topic, or a reply to its card, goes to the user."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or user.is_bot:
        return
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    thread = message.message_thread_id if message.is_topic_message else None
    ticket = await context.channel.desk.relay_target(user.id, message.chat.id, thread, reply_to)
    if ticket is None or ticket.chat_id is None:
        return
    delivered = not await _blocked(context, ticket)
    if delivered:
        try:
            await context.bot.copy_message(ticket.chat_id, message.chat.id, message.message_id)
        except Forbidden:
            delivered = False
            await _mark_blocked(context, ticket)
    if not delivered:
        with context.channel.translator.use(context.channel.team_language):
            await message.reply_text(_("The user has blocked the bot; the message was not "
                                       "delivered."))


async def send_to_user(
    context: BotContext, ticket: tickets.Ticket, messages: list[Message]
) -> None:
    """Tells the user about their ticket, unless they blocked the bot."""
    if ticket.chat_id is None or await _blocked(context, ticket):
        return
    if not await send(context.bot, ticket.chat_id, messages):
        await _mark_blocked(context, ticket)


async def _blocked(context: BotContext, ticket: tickets.Ticket) -> bool:
    async with context.channel.sessions() as session:
        return await users.is_blocked(session=session, user_id=ticket.user_id)


async def _mark_blocked(context: BotContext, ticket: tickets.Ticket) -> None:
    async with context.channel.writer.begin() as session:
        await users.set_blocked(session=session, user_id=ticket.user_id, blocked=True)


async def on_note(update: Update, context: BotContext) -> None:
    """/note text: an internal note on the ticket, never shown to the user."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    thread = message.message_thread_id if message.is_topic_message else None
    text = message.text.partition(" ")[2]
    saved = await context.channel.desk.note(user.id, message.chat.id, thread, reply_to, text)
    with context.channel.translator.use(context.channel.team_language):
        await message.reply_text(_("Note saved.") if saved else _("No note was saved."))


async def deliver(context: BotContext, update: Update, notices: list[Notice]) -> None:
    """Tells the team what the user did: a new ticket, a message, leaving, cancelling."""
    channel = context.channel
    for notice in notices:
        async with channel.sessions() as session:
            ticket = await tickets.get_ticket(session=session, ticket_id=notice.ticket_id)
            if ticket is None or ticket.team_chat_id is None:
                continue
            card = await channel.desk.card(session, ticket)
        try:
            if notice.kind == "opened":
                await _post_card(context, ticket, card)
            elif notice.kind == "relay" and update.effective_message is not None:
                await _relay_user_message(context, ticket, update)
            else:
                with channel.translator.use(channel.team_language):
                    text = {"left": _("The user went back to the bot."),
                            "cancelled": _("The user cancelled the request."),
                            "erased": _("The user asked for erasure: their details are deleted."),
                            "withdrawn": _("The user withdrew their consent to share: the "
                                           "request is closed and their details deleted."),
                            }[notice.kind]
                await context.bot.send_message(
                    ticket.team_chat_id, f"{ticket.reference}: {text}",
                    message_thread_id=ticket.thread_id,
                    reply_to_message_id=None if ticket.thread_id else ticket.card_message_id)
                if ticket.card_message_id is not None:
                    await _edit(context.bot, ticket.team_chat_id, ticket.card_message_id, card)
        except TelegramError as error:
            log.error("team chat delivery failed: %s", type(error).__name__)


async def _post_card(context: BotContext, ticket: tickets.Ticket, card: Message) -> None:
    assert ticket.team_chat_id is not None
    bot = context.bot
    thread_id = None
    chat = await bot.get_chat(ticket.team_chat_id)
    if chat.is_forum:
        topic = await bot.create_forum_topic(ticket.team_chat_id, ticket.reference)
        thread_id = topic.message_thread_id
    sent = await bot.send_message(ticket.team_chat_id, card.html, parse_mode=ParseMode.HTML,
                                  reply_markup=keyboard(card), message_thread_id=thread_id)
    async with context.channel.writer.begin() as session:
        await tickets.update_ticket(session=session, ticket_id=ticket.id,
                                    thread_id=thread_id, card_message_id=sent.message_id)


async def _relay_user_message(
    context: BotContext, ticket: tickets.Ticket, update: Update
) -> None:
    message = update.effective_message
    assert message is not None and ticket.team_chat_id is not None
    copied = await context.bot.copy_message(
        ticket.team_chat_id, message.chat.id, message.message_id,
        message_thread_id=ticket.thread_id,
        reply_to_message_id=None if ticket.thread_id else ticket.card_message_id)
    async with context.channel.writer.begin() as session:
        await tickets.record_relay(session=session, ticket_id=ticket.id,
                                   team_chat_id=ticket.team_chat_id,
                                   message_id=copied.message_id, now=context.channel.clock())


async def _edit(bot: ExtBot[None], chat_id: int, message_id: int, card: Message) -> None:
    try:
        await bot.edit_message_text(split_html(card.html)[0], chat_id, message_id,
                                    parse_mode=ParseMode.HTML, reply_markup=keyboard(card))
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise



async def check_deadlines(context: BotContext) -> None:
    """Reminders and escalations for overdue tickets (a JobQueue job)."""
    for alert in await context.channel.sweeps.overdue():
        ticket = alert.ticket
        if ticket.team_chat_id is not None:
            await _safely(send(context.bot, ticket.team_chat_id, [alert.message],
                               thread_id=ticket.thread_id))
        for supervisor in alert.supervisors:
            await _safely(send(context.bot, supervisor, [alert.message]))


async def send_follow_ups(context: BotContext) -> None:
    """Asks users whether they received the service (a JobQueue job; state is in the
    database, so a restart loses nothing)."""
    for chat_id, message in await context.channel.sweeps.follow_ups():
        await _safely(send(context.bot, chat_id, [message]))


async def _safely(sending: Any) -> None:
    try:
        await sending
    except TelegramError as error:
        log.warning("a scheduled message was not delivered: %s", type(error).__name__)
