"""Bot API methods of the fake; each takes the state and the request's parameters."""

from __future__ import annotations

import asyncio
import dataclasses
import mimetypes
import re
from collections.abc import Callable
from typing import Any

from .html import utf16_len
from .params import Formatted, Params, format_text, parse_markup, reply_target
from .records import (
    ApiError,
    CallbackAnswer,
    DocumentRecord,
    JSONDict,
    SentMessage,
    TopicRecord,
    Upload,
    bad_request,
)
from .state import MEDIA_KINDS, BotState, now

Handler = Callable[[BotState, Params], Any]

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


def _message_text(p: Params) -> Formatted:
    return format_text(
        p, "text", "entities", limit=4096, too_long="message is too long",
        empty="message text is empty",
    )  # fmt: skip


def _caption(p: Params) -> Formatted:
    return format_text(
        p, "caption", "caption_entities", limit=1024, too_long="message caption is too long",
        empty=None,
    )  # fmt: skip


def _text_fields(formatted: Formatted, *, caption: bool = False) -> JSONDict:
    key, entities_key = ("caption", "caption_entities") if caption else ("text", "entities")
    fields: JSONDict = {}
    if formatted.text or not caption:
        fields[key] = formatted.text
    if formatted.entities:
        fields[entities_key] = list(formatted.entities)
    return fields


def _send_context(s: BotState, p: Params, chat: JSONDict) -> tuple[int | None, int | None]:
    thread = p.integer("message_thread_id")
    s.check_thread(chat, thread)
    reply = reply_target(p, lambda mid: s.raw_message(chat["id"], mid) is not None)
    return thread, reply


# ----------------------------------------------------------------------- bot & updates


def get_me(s: BotState, p: Params) -> Any:
    return dict(s.bot_user)


def true(s: BotState, p: Params) -> Any:
    return True


async def get_updates(s: BotState, p: Params) -> Any:
    """Long polling: returns as soon as an update is queued, or [] after ``timeout``."""
    if s.webhook_url:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = p.integer("offset")
    limit = min(max(p.integer("limit") or 100, 1), 100)
    timeout = max(p.number("timeout") or 0.0, 0.0)
    if "allowed_updates" in p.data:
        allowed = p.obj("allowed_updates")
        s.allowed_updates = [str(kind) for kind in allowed] if isinstance(allowed, list) else []
    s.poll_generation += 1
    generation = s.poll_generation
    s.updates_signal.fire()  # an older long poll now ends with 409 Conflict
    if offset:
        s.confirm(offset)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if generation != s.poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        batch = s.deliverable(limit)
        if batch:
            return batch
        remaining = deadline - loop.time()
        if remaining <= 0 or s.closed:
            return []
        await s.updates_signal.wait(remaining)


def set_webhook(s: BotState, p: Params) -> Any:
    s.webhook_url = p.text("url") or ""
    if p.flag("drop_pending_updates"):
        s.drop_pending()
    return True


def delete_webhook(s: BotState, p: Params) -> Any:
    s.webhook_url = ""
    if p.flag("drop_pending_updates"):
        s.drop_pending()
    return True


def get_webhook_info(s: BotState, p: Params) -> Any:
    info: JSONDict = {
        "url": s.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(s.pending_updates),
    }
    if s.allowed_updates:
        info["allowed_updates"] = list(s.allowed_updates)
    return info


# ----------------------------------------------------------------------- messages


def send_message(s: BotState, p: Params) -> Any:
    chat = s.resolve_chat(p.data.get("chat_id"))
    formatted = _message_text(p)
    markup, buttons = parse_markup(p.obj("reply_markup"))
    thread, reply = _send_context(s, p, chat)
    sent = SentMessage(
        message_id=s.allocate_message_id(chat["id"]),
        chat_id=chat["id"],
        text=formatted.text,
        raw_text=formatted.raw,
        parse_mode=formatted.parse_mode,
        entities=formatted.entities,
        buttons=buttons,
        message_thread_id=thread,
        date=now(),
        reply_to_message_id=reply,
        reply_markup=markup,
    )
    extra = _text_fields(formatted)
    if markup is not None:
        extra["reply_markup"] = markup
    return s.store_bot_message(chat, sent, extra)


def _editable(s: BotState, p: Params) -> tuple[SentMessage, JSONDict]:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = s.resolve_chat(p.data.get("chat_id"))
    message_id = p.required_int("message_id", "message identifier is not specified")
    sent = s.sent_message(chat["id"], message_id)
    raw = s.raw_message(chat["id"], message_id)
    if sent is None or raw is None:
        if raw is not None:
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")
    return sent, raw


def _apply_edit(s: BotState, sent: SentMessage, raw: JSONDict, fields: JSONDict) -> JSONDict:
    dropped = ("entities", "caption_entities", "reply_markup")
    raw = {k: v for k, v in raw.items() if k not in dropped}
    raw.update(fields, edit_date=now())
    s.update_bot_message(sent, raw)
    return raw


def edit_message_text(s: BotState, p: Params) -> Any:
    sent, raw = _editable(s, p)
    if sent.kind != "text":
        raise bad_request("there is no text in the message to edit")
    formatted = _message_text(p)
    markup, buttons = parse_markup(p.obj("reply_markup"))  # omitted markup removes the keyboard
    new_content = (formatted.text, formatted.entities, markup)
    if new_content == (sent.text, sent.entities, sent.reply_markup):
        raise bad_request(NOT_MODIFIED)
    sent = dataclasses.replace(
        sent, text=formatted.text, raw_text=formatted.raw, parse_mode=formatted.parse_mode,
        entities=formatted.entities, buttons=buttons, reply_markup=markup, edited=True,
    )  # fmt: skip
    fields = _text_fields(formatted)
    if markup is not None:
        fields["reply_markup"] = markup
    return _apply_edit(s, sent, raw, fields)


def edit_message_reply_markup(s: BotState, p: Params) -> Any:
    sent, raw = _editable(s, p)
    markup, buttons = parse_markup(p.obj("reply_markup"))
    if markup == sent.reply_markup:
        raise bad_request(NOT_MODIFIED)
    sent = dataclasses.replace(sent, buttons=buttons, reply_markup=markup, edited=True)
    fields: JSONDict = {k: raw[k] for k in ("entities", "caption_entities") if k in raw}
    if markup is not None:
        fields["reply_markup"] = markup
    return _apply_edit(s, sent, raw, fields)


def delete_message(s: BotState, p: Params) -> Any:
    chat = s.resolve_chat(p.data.get("chat_id"), sending=False)
    message_id = p.required_int("message_id", "message identifier is not specified")
    if not s.delete_message(chat["id"], message_id):
        raise bad_request("message to delete not found")
    return True


def answer_callback_query(s: BotState, p: Params) -> Any:
    text = p.text("text")
    if text is not None and utf16_len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query_id = p.text("callback_query_id") or ""
    query = s.take_query(query_id)
    if query is None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    s.callback_answers.append(
        CallbackAnswer(
            callback_query_id=query_id,
            text=text or None,
            show_alert=p.flag("show_alert"),
            url=p.text("url"),
            cache_time=p.integer("cache_time") or 0,
            user_id=query["user_id"],
            data=query["data"],
            message_id=query["message_id"],
        )
    )
    return True


def send_document(s: BotState, p: Params) -> Any:
    chat = s.resolve_chat(p.data.get("chat_id"))
    caption = _caption(p)
    document = p.data.get("document")
    if isinstance(document, Upload):
        if not document.data:
            raise bad_request("file must be non-empty")
        filename = document.filename or "document"
        mime_type = document.content_type
        if not mime_type or mime_type == "application/octet-stream":
            mime_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = s.store_file(document.data, filename=filename, mime_type=mime_type)
    elif isinstance(document, str) and document:
        known = s.file(document)
        if known is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        stored = known
    else:
        raise bad_request("there is no document in the request")
    markup, buttons = parse_markup(p.obj("reply_markup"))
    thread, reply = _send_context(s, p, chat)
    message_id = s.allocate_message_id(chat["id"])
    record = DocumentRecord(
        chat["id"], message_id, stored.file_id, stored.filename, stored.mime_type, stored.data,
        caption.text or None,
    )  # fmt: skip
    s.documents.append(record)
    sent = SentMessage(
        message_id=message_id, chat_id=chat["id"], text=caption.text, raw_text=caption.raw,
        parse_mode=caption.parse_mode, entities=caption.entities, buttons=buttons,
        message_thread_id=thread, date=now(), reply_to_message_id=reply, document=record,
        kind="document", reply_markup=markup,
    )  # fmt: skip
    extra: JSONDict = {"document": stored.to_document()}
    extra.update(_text_fields(caption, caption=True))
    if markup is not None:
        extra["reply_markup"] = markup
    return s.store_bot_message(chat, sent, extra)


def get_file(s: BotState, p: Params) -> Any:
    stored = s.file(p.text("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > s.max_download_size:
        raise bad_request("file is too big")
    return stored.to_file()


def copy_message(s: BotState, p: Params) -> Any:
    chat = s.resolve_chat(p.data.get("chat_id"))
    source_chat = s.resolve_chat(p.data.get("from_chat_id"), sending=False)
    source_id = p.required_int("message_id", "message identifier is not specified")
    source = s.raw_message(source_chat["id"], source_id)
    if source is None:
        raise bad_request("message to copy not found")
    kind = "text" if "text" in source else next((k for k in MEDIA_KINDS if k in source), None)
    if kind is None:
        raise bad_request("message can't be copied")
    markup, buttons = parse_markup(p.obj("reply_markup"))
    thread, reply = _send_context(s, p, chat)
    if kind == "text":
        text, entities = source["text"], tuple(source.get("entities", ()))
        parse_mode = None
        extra: JSONDict = {"text": text}
        if entities:
            extra["entities"] = list(entities)
    else:
        if "caption" in p.data:
            caption = _caption(p)
        else:
            original = source.get("caption", "")
            caption = Formatted(original, tuple(source.get("caption_entities", ())), original, None)
        text, entities, parse_mode = caption.text, caption.entities, caption.parse_mode
        extra = {kind: source[kind], **_text_fields(caption, caption=True)}
    if markup is not None:
        extra["reply_markup"] = markup
    message_id = s.allocate_message_id(chat["id"])
    document = None
    if kind == "document":
        known = s.file(source["document"]["file_id"])
        if known is not None:
            document = DocumentRecord(
                chat["id"], message_id, known.file_id, known.filename, known.mime_type,
                known.data, text or None,
            )  # fmt: skip
    sent = SentMessage(
        message_id=message_id, chat_id=chat["id"], text=text, raw_text=text,
        parse_mode=parse_mode, entities=entities, buttons=buttons, message_thread_id=thread,
        date=now(), reply_to_message_id=reply, document=document, kind=kind, reply_markup=markup,
    )  # fmt: skip
    s.store_bot_message(chat, sent, extra)
    return {"message_id": message_id}


# ----------------------------------------------------------------------- chats & commands


def create_forum_topic(s: BotState, p: Params) -> Any:
    chat = s.resolve_chat(p.data.get("chat_id"))
    if chat["type"] != "supergroup" or not chat.get("is_forum"):
        raise bad_request("the chat is not a forum")
    name = p.text("name") or ""
    if not 1 <= len(name) <= 128:
        raise bad_request("TOPIC_NAME_INVALID")
    color = p.integer("icon_color") or _TOPIC_COLORS[0]
    if color not in _TOPIC_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")  # approximate wording
    emoji = p.text("icon_custom_emoji_id") or None
    topic = TopicRecord(chat["id"], s.add_thread(chat["id"]), name, color, emoji)
    s.topics.append(topic)
    result: JSONDict = {
        "message_thread_id": topic.message_thread_id,
        "name": name,
        "icon_color": color,
    }
    if emoji:
        result["icon_custom_emoji_id"] = emoji
    return result


def _scope_key(p: Params) -> tuple[str, str]:
    scope = p.obj("scope")
    kind = scope.get("type", "default") if isinstance(scope, dict) else "default"
    return str(kind), p.text("language_code") or ""


def set_my_commands(s: BotState, p: Params) -> Any:
    commands = p.obj("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    stored: list[JSONDict] = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand: BotCommand must be an Object")
        name, description = command.get("command"), command.get("description")
        if not isinstance(name, str) or not _COMMAND_NAME.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not description.strip():
            raise bad_request("command description must be non-empty")
        stored.append({"command": name, "description": description})
    if stored:
        s.commands[_scope_key(p)] = stored
    else:
        s.commands.pop(_scope_key(p), None)
    return True


def get_my_commands(s: BotState, p: Params) -> Any:
    return list(s.commands.get(_scope_key(p), []))


def delete_my_commands(s: BotState, p: Params) -> Any:
    s.commands.pop(_scope_key(p), None)
    return True


def send_chat_action(s: BotState, p: Params) -> Any:
    chat = s.resolve_chat(p.data.get("chat_id"))
    if p.text("action") not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    s.check_thread(chat, p.integer("message_thread_id"))
    return True


def get_chat(s: BotState, p: Params) -> Any:
    chat = s.resolve_chat(p.data.get("chat_id"), sending=False)
    gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
    return {
        **chat,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {**dict.fromkeys(gifts, True), "gifts_from_channels": False},
    }


SYNC_METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "logOut": true,
    "close": true,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendDocument": send_document,
    "getFile": get_file,
    "copyMessage": copy_message,
    "createForumTopic": create_forum_topic,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "sendChatAction": send_chat_action,
    "getChat": get_chat,
}
METHOD_NAMES: dict[str, str] = {name.lower(): name for name in [*SYNC_METHODS, "getUpdates"]}
