"""The fake Telegram world: chats, messages, the update queue and simulated users."""

from __future__ import annotations

import asyncio
import itertools
import mimetypes
import re
import time
from collections.abc import Callable
from typing import Any

from .html import utf16_len
from .records import (
    ApiError,
    CallbackAnswer,
    DocumentRecord,
    FakeUser,
    JSONDict,
    RequestRecord,
    SentMessage,
    StoredFile,
    TopicRecord,
    bad_request,
)

# TDLib's bot command pattern: /command[@bot_username] not glued to a word, '/', '<' or '>'.
_COMMAND = re.compile(r"(?<![\w/<>])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/<>@])")
# Update types delivered when allowed_updates is empty (Telegram's default).
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MEDIA_KINDS = ("sticker", "voice", "photo", "document", "location", "contact")
# getFile refuses files bigger than this ("Bad Request: file is too big").
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")


def now() -> int:
    """Telegram dates are integer Unix seconds."""
    return int(time.time())


def command_entities(text: str) -> list[JSONDict]:
    """bot_command entities Telegram's servers would detect in a user's text."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
        for m in _COMMAND.finditer(text)
    ]


class Signal:
    """Broadcast wake-up: every waiter of the current generation is released by ``fire``."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        """Wait for the next ``fire``; False on timeout."""
        event = self._event
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        return True


class BotState:
    """Everything the fake server knows, plus the API tests use to play Telegram users."""

    def __init__(self, token: str, *, bot_username: str, bot_first_name: str) -> None:
        bot_id, sep, secret = token.partition(":")
        if not (bot_id.isdigit() and sep and secret):
            raise ValueError(f"a bot token looks like '123456:secret', got {token!r}")
        self.token = token
        self.bot_user: JSONDict = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": True,  # the fake delivers every group message
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.requests: list[RequestRecord] = []
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.documents: list[DocumentRecord] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.topics: list[TopicRecord] = []
        self.webhook_url = ""
        self.allowed_updates: list[str] = []
        self.poll_generation = 0
        self.closed = False
        self._chats: dict[int, JSONDict] = {}
        self._last_message_id: dict[int, int] = {}
        self._raw: dict[tuple[int, int], JSONDict] = {}
        self._sent: dict[int, dict[int, SentMessage]] = {}
        self._last_from_user: dict[tuple[int, int], int] = {}
        self._updates: list[JSONDict] = []
        self._last_update_id = 0
        self._confirmed = 0
        self._queries: dict[str, JSONDict] = {}
        self._query_ids = itertools.count(4_242_000_000_000_000_001)
        self._files: dict[str, StoredFile] = {}
        self._file_paths: dict[str, StoredFile] = {}
        self._file_ids = itertools.count(1)
        self.max_download_size = MAX_DOWNLOAD_SIZE
        self.downloads: list[str] = []  # file_paths served by the download endpoint
        self._blocked: set[int] = set()
        self._threads: dict[int, set[int]] = {}
        self._marks: dict[int, int] = {}
        self.updates_signal = Signal()
        self._consumed_signal = Signal()
        self._chat_signals: dict[int, Signal] = {}

    # ----------------------------------------------------------------- simulated users

    def user(
        self,
        id: int,
        first_name: str = "User",
        language_code: str | None = None,
        username: str | None = None,
        *,
        started: bool = False,
    ) -> FakeUser:
        """A simulated user. Its private chat exists once it wrote to the bot (or ``started``)."""
        user = FakeUser(id, first_name, language_code, username)
        if started:
            self._chats[id] = user.chat_dict()
        return user

    def create_chat(
        self,
        chat_id: int,
        type: str = "supergroup",
        *,
        is_forum: bool = False,
        title: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """Declare a group, supergroup or channel (merged into an existing declaration)."""
        if type not in ("group", "supergroup", "channel"):
            raise ValueError("private chats come from api.user(...); type must be a group kind")
        chat = self._chats.setdefault(chat_id, {"id": chat_id, "type": type})
        chat["title"] = title or chat.get("title") or f"Chat {chat_id}"
        if username:
            chat["username"] = username
        if is_forum:
            if type != "supergroup":
                raise ValueError("only supergroups can be forums")
            chat["is_forum"] = True
        return chat

    def send_text(
        self, user: FakeUser, text: str, *, entities: list[JSONDict] | None = None
    ) -> int:
        """A private text message from ``user``; commands get bot_command entities."""
        message = self._incoming(user, self._private_chat(user), text=text, entities=entities)
        return self._enqueue({"message": message})

    def send_command(self, user: FakeUser, command: str) -> int:
        """A private ``/command [args]`` message, with its bot_command entity."""
        if not command_entities(command) or not command.startswith("/"):
            raise ValueError(f"not a bot command: {command!r}")
        return self.send_text(user, command)

    def press(self, user: FakeUser, message: SentMessage, data: str) -> int:
        """``user`` presses an inline button of a bot message; ``data`` is not checked."""
        raw = self._raw.get((message.chat_id, message.message_id))
        if raw is None:
            raise ValueError(f"unknown message {message.message_id} in chat {message.chat_id}")
        query_id = str(next(self._query_ids))
        self._queries[query_id] = {
            "user_id": user.id,
            "data": data,
            "message_id": message.message_id,
        }
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": raw,
            "chat_instance": str(abs(message.chat_id) * 2_654_435_761 % 10**19),
            "data": data,
        }
        return self._enqueue({"callback_query": query})

    def send_other(self, user: FakeUser, kind: str) -> int:
        """A private non-text message: one of ``MEDIA_KINDS`` with a realistic payload."""
        if kind not in MEDIA_KINDS:
            raise ValueError(f"kind must be one of {MEDIA_KINDS}")
        payload = self._media_payload(user, kind)
        message = self._incoming(user, self._private_chat(user), extra={kind: payload})
        return self._enqueue({"message": message})

    def send_document(
        self,
        user: FakeUser,
        filename: str,
        content: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        message_thread_id: int | None = None,
        file_size: int | None = None,
    ) -> int:
        """``user`` sends a document, privately or (``chat_id``) in a group; the bot can
        getFile and download it.

        ``mime_type`` defaults to a guess from ``filename``. ``file_size`` overrides the
        reported size (e.g. 25 MB to hit getFile's limit) without allocating it.
        """
        if not content:
            raise ValueError("Telegram does not deliver empty files")
        if mime_type is None:
            mime_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if chat_id is None or chat_id == user.id:
            chat = self._private_chat(user)
        elif chat_id > 0:
            raise ValueError(f"chat {chat_id} is another user's private chat")
        else:
            chat = self._chats.get(chat_id) or self.create_chat(chat_id)
        if message_thread_id is not None:
            self._threads.setdefault(chat["id"], set()).add(message_thread_id)
        stored = self.store_file(
            bytes(content), filename=filename, mime_type=mime_type, size=file_size
        )
        extra: JSONDict = {"document": stored.to_document()}
        if caption:
            extra["caption"] = caption
            entities = command_entities(caption)
            if entities:
                extra["caption_entities"] = entities
        message = self._incoming(user, chat, thread=message_thread_id, extra=extra)
        return self._enqueue({"message": message})

    def send_edited_text(self, user: FakeUser, text: str, *, message_id: int | None = None) -> int:
        """An ``edited_message`` for the user's last (or given) private message."""
        key = (user.id, message_id or self._last_from_user.get((user.id, user.id), 0))
        if key not in self._raw:
            raise ValueError(f"user {user.id} has no message {key[1]} to edit")
        message = {k: v for k, v in self._raw[key].items() if k != "entities"}
        message.update(text=text, edit_date=now())
        entities = command_entities(text)
        if entities:
            message["entities"] = entities
        self._raw[key] = message
        return self._enqueue({"edited_message": message})

    def send_channel_post(self, chat_id: int, text: str, *, title: str | None = None) -> int:
        """A ``channel_post`` update (no ``from``; ``sender_chat`` is the channel)."""
        chat = self.create_chat(chat_id, "channel", title=title)
        message_id = self._next_message_id(chat_id)
        message: JSONDict = {
            "message_id": message_id,
            "sender_chat": chat,
            "chat": chat,
            "date": now(),
            "text": text,
        }
        self._raw[(chat_id, message_id)] = message
        return self._enqueue({"channel_post": message})

    def send_group_text(
        self,
        chat_id: int,
        user: FakeUser,
        text: str,
        *,
        supergroup: bool = True,
        is_forum: bool = False,
        message_thread_id: int | None = None,
        reply_to: SentMessage | None = None,
        title: str | None = None,
    ) -> int:
        """A text message from ``user`` in a group (declared on first use)."""
        chat = self.create_chat(
            chat_id, "supergroup" if supergroup else "group", is_forum=is_forum, title=title
        )
        thread = message_thread_id
        if thread is None and reply_to is not None:
            thread = reply_to.message_thread_id
        if thread is not None:
            self._threads.setdefault(chat_id, set()).add(thread)
        message = self._incoming(user, chat, text=text, thread=thread, reply_to=reply_to)
        return self._enqueue({"message": message})

    def send_update(self, update: JSONDict) -> int:
        """Queue an arbitrary raw update; chats and messages in it become known."""
        update = dict(update)
        for value in update.values():
            if isinstance(value, dict):
                self._learn(value)
        if "update_id" not in update:
            return self._enqueue(update)
        self._last_update_id = max(self._last_update_id, int(update["update_id"]))
        self._updates.append(update)
        self.updates_signal.fire()
        return int(update["update_id"])

    def block(self, target: FakeUser | int) -> None:
        """Sending to this chat now fails with 403 (the user blocked the bot / bot was kicked)."""
        self._blocked.add(target.id if isinstance(target, FakeUser) else target)

    def unblock(self, target: FakeUser | int) -> None:
        self._blocked.discard(target.id if isinstance(target, FakeUser) else target)

    # ----------------------------------------------------------------- inspection

    def messages(self, chat: int | FakeUser) -> list[SentMessage]:
        """The bot's messages in a chat, oldest first, with edits applied."""
        return list(self._sent.get(_chat_id(chat), {}).values())

    def message(self, chat: int | FakeUser, message_id: int) -> SentMessage:
        return self._sent[_chat_id(chat)][message_id]

    @property
    def errors(self) -> list[RequestRecord]:
        """Requests that did not succeed: rejected, injected faults, resets, abandoned calls.

        A long poll the client abandons (PTB cancels its getUpdates when stopping) is normal
        and not listed.
        """
        return [
            r
            for r in self.requests
            if not r.ok and not (r.status == 499 and r.method == "getUpdates")
        ]

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Queued updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    def calls(self, method: str) -> list[RequestRecord]:
        """Recorded requests of one method (case-insensitive)."""
        return [r for r in self.requests if r.method.lower() == method.lower()]

    async def wait_for_messages(
        self, chat: int | FakeUser, count: int, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the chat holds at least ``count`` bot messages; return them all."""
        chat_id = _chat_id(chat)
        await self._wait_until(
            self._chat_signal(chat_id),
            lambda: len(self._sent.get(chat_id, {})) >= count,
            timeout,
            lambda: f"chat {chat_id}: wanted {count} bot messages, have "
            f"{[m.text for m in self.messages(chat_id)]}",
        )
        return self.messages(chat_id)

    async def wait_for(
        self,
        chat: int | FakeUser,
        predicate: Callable[[list[SentMessage]], bool],
        timeout: float = 5.0,
    ) -> list[SentMessage]:
        """Wait until ``predicate(messages)`` holds for the chat's bot messages (e.g. an edit)."""
        chat_id = _chat_id(chat)
        await self._wait_until(
            self._chat_signal(chat_id),
            lambda: predicate(self.messages(chat_id)),
            timeout,
            lambda: f"chat {chat_id}: condition not met; messages {self.messages(chat_id)}",
        )
        return self.messages(chat_id)

    async def next_messages(
        self, chat: int | FakeUser, timeout: float = 5.0, settle: float = 0.05
    ) -> list[SentMessage]:
        """Bot messages sent to the chat since the previous call, once the bot went quiet.

        Waits for at least one new message, then until the chat has no activity (sends or
        edits) for ``settle`` seconds. Returned messages reflect edits made meanwhile.
        """
        chat_id = _chat_id(chat)
        mark = self._marks.get(chat_id, 0)
        signal = self._chat_signal(chat_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self._wait_until(
            signal,
            lambda: len(self._sent.get(chat_id, {})) > mark,
            timeout,
            lambda: f"chat {chat_id}: no new bot message within {timeout}s",
        )
        while loop.time() < deadline and await signal.wait(settle):
            pass
        new = self.messages(chat_id)[mark:]
        self._marks[chat_id] = mark + len(new)
        return new

    async def wait_until_consumed(self, update_id: int, timeout: float = 5.0) -> None:
        """Wait until getUpdates confirmed ``update_id`` (its offset moved past it)."""
        await self._wait_until(
            self._consumed_signal,
            lambda: self._confirmed >= update_id,
            timeout,
            lambda: f"update {update_id} not consumed; confirmed up to {self._confirmed}",
        )

    async def _wait_until(
        self,
        signal: Signal,
        ready: Callable[[], bool],
        timeout: float,
        describe: Callable[[], str],
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not ready():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(describe())
            await signal.wait(remaining)

    # ----------------------------------------------------------------- bot side (methods.py)

    def resolve_chat(self, value: Any, *, sending: bool = True) -> JSONDict:
        """The chat a ``chat_id`` parameter names; 400 if unknown, 403 if blocked."""
        chat: JSONDict | None = None
        if isinstance(value, str) and value.startswith("@"):
            chat = next((c for c in self._chats.values() if c.get("username") == value[1:]), None)
        else:
            try:
                chat = self._chats.get(int(value))
            except (TypeError, ValueError):
                chat = None
        if chat is None:
            if value in (None, ""):
                raise bad_request("chat_id is empty")
            raise bad_request("chat not found")
        if sending and chat["id"] in self._blocked:
            raise ApiError(403, _forbidden(chat["type"]))
        return chat

    def check_thread(self, chat: JSONDict, thread: int | None) -> None:
        known = self._threads.get(chat["id"], set())
        if thread is not None and chat.get("is_forum") and thread != 1 and thread not in known:
            raise bad_request("message thread not found")

    def add_thread(self, chat_id: int) -> int:
        thread = self._next_message_id(chat_id)
        self._threads.setdefault(chat_id, set()).add(thread)
        return thread

    def raw_message(self, chat_id: int, message_id: int) -> JSONDict | None:
        return self._raw.get((chat_id, message_id))

    def sent_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        return self._sent.get(chat_id, {}).get(message_id)

    def allocate_message_id(self, chat_id: int) -> int:
        return self._next_message_id(chat_id)

    def store_bot_message(self, chat: JSONDict, sent: SentMessage, extra: JSONDict) -> JSONDict:
        """Record a new bot message (id from ``allocate_message_id``); return its raw dict."""
        message_id = sent.message_id
        raw: JSONDict = {
            "message_id": message_id,
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": chat,
            "date": sent.date,
        }
        if sent.message_thread_id is not None:
            raw["message_thread_id"] = sent.message_thread_id
            if chat.get("is_forum"):
                raw["is_topic_message"] = True
        if sent.reply_to_message_id is not None:
            replied = self._raw.get((chat["id"], sent.reply_to_message_id))
            if replied is not None:
                raw["reply_to_message"] = {
                    k: v for k, v in replied.items() if k != "reply_to_message"
                }
        raw.update(extra)
        self._raw[(chat["id"], message_id)] = raw
        self._sent.setdefault(chat["id"], {})[message_id] = sent
        self._chat_signal(chat["id"]).fire()
        return raw

    def update_bot_message(self, sent: SentMessage, raw: JSONDict) -> None:
        self._raw[(sent.chat_id, sent.message_id)] = raw
        self._sent[sent.chat_id][sent.message_id] = sent
        self._chat_signal(sent.chat_id).fire()

    def delete_message(self, chat_id: int, message_id: int) -> bool:
        if self._raw.pop((chat_id, message_id), None) is None:
            return False
        sent = self._sent.get(chat_id, {})
        if message_id in sent:
            if list(sent).index(message_id) < self._marks.get(chat_id, 0):
                self._marks[chat_id] -= 1  # keep next_messages() pointing at the same message
            del sent[message_id]
        self._chat_signal(chat_id).fire()
        return True

    def store_file(
        self,
        data: bytes,
        *,
        filename: str,
        mime_type: str,
        folder: str = "documents",
        file_id: str | None = None,
        size: int | None = None,
    ) -> StoredFile:
        """Keep a file for getFile and the download endpoint; ``size`` defaults to len(data)."""
        n = next(self._file_ids)
        suffix = _SUFFIX.fullmatch(_suffix(filename))
        stored = StoredFile(
            file_id=file_id or f"BQACAgIAAxkBAAI{n:06d}fake",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"{folder}/file_{n}{suffix[0].lower() if suffix else ''}",
            filename=filename,
            mime_type=mime_type,
            data=data,
            size=len(data) if size is None else size,
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def file(self, file_id: str) -> StoredFile | None:
        """A stored file by file_id (bot uploads and simulated users' media)."""
        return self._files.get(file_id)

    def file_at(self, file_path: str) -> StoredFile | None:
        """A stored file by the file_path getFile returned."""
        return self._file_paths.get(file_path)

    def take_query(self, query_id: str) -> JSONDict | None:
        return self._queries.pop(query_id, None)

    def confirm(self, offset: int) -> None:
        """Apply a getUpdates ``offset``: forget every update before it."""
        if offset < 0:
            keep = self._updates[offset:]
            dropped = self._updates[: len(self._updates) - len(keep)]
        else:
            keep = [u for u in self._updates if u["update_id"] >= offset]
            dropped = [u for u in self._updates if u["update_id"] < offset]
        if not dropped:
            return
        self._updates = keep
        self._confirmed = max(self._confirmed, max(u["update_id"] for u in dropped))
        self._consumed_signal.fire()

    def drop_pending(self) -> None:
        if self._updates:
            self.confirm(self._updates[-1]["update_id"] + 1)

    def deliverable(self, limit: int) -> list[JSONDict]:
        """Up to ``limit`` queued updates of an allowed type (others are discarded)."""
        allowed = set(self.allowed_updates)
        if allowed or any(_kind(u) in _OPT_IN_UPDATES for u in self._updates):
            self._updates = [u for u in self._updates if _allowed(_kind(u), allowed)]
        return self._updates[:limit]

    def close(self) -> None:
        self.closed = True
        self.updates_signal.fire()

    # ----------------------------------------------------------------- internals

    def _chat_signal(self, chat_id: int) -> Signal:
        signal = self._chat_signals.get(chat_id)
        if signal is None:
            signal = self._chat_signals[chat_id] = Signal()
        return signal

    def _next_message_id(self, chat_id: int) -> int:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def _private_chat(self, user: FakeUser) -> JSONDict:
        chat = self._chats.get(user.id)
        if chat is None:
            chat = self._chats[user.id] = user.chat_dict()
        return chat

    def _enqueue(self, update: JSONDict) -> int:
        self._last_update_id += 1
        self._updates.append({"update_id": self._last_update_id, **update})
        self.updates_signal.fire()
        return self._last_update_id

    def _incoming(
        self,
        user: FakeUser,
        chat: JSONDict,
        *,
        text: str | None = None,
        entities: list[JSONDict] | None = None,
        thread: int | None = None,
        reply_to: SentMessage | None = None,
        extra: JSONDict | None = None,
    ) -> JSONDict:
        message_id = self._next_message_id(chat["id"])
        message: JSONDict = {
            "message_id": message_id,
            "from": user.to_dict(),
            "chat": chat,
            "date": now(),
        }
        if thread is not None:
            message["message_thread_id"] = thread
            if chat.get("is_forum"):
                message["is_topic_message"] = True
        if reply_to is not None:
            replied = self._raw.get((reply_to.chat_id, reply_to.message_id))
            if replied is not None:
                message["reply_to_message"] = {
                    k: v for k, v in replied.items() if k != "reply_to_message"
                }
        if text is not None:
            message["text"] = text
            found = command_entities(text) if entities is None else entities
            if found:
                message["entities"] = found
        message.update(extra or {})
        self._raw[(chat["id"], message_id)] = message
        self._last_from_user[(chat["id"], user.id)] = message_id
        return message

    def _media_payload(self, user: FakeUser, kind: str) -> Any:
        """A realistic payload; its files are stored, so getFile and downloads work."""
        prefix = f"AgACAgIAAxkBAAI{next(self._file_ids):06d}{kind}"

        def ids(
            magic: bytes, size: int, name: str, mime: str, folder: str, file_id: str = prefix
        ) -> JSONDict:
            data = magic + bytes(max(size - len(magic), 0))
            stored = self.store_file(
                data, filename=name, mime_type=mime, folder=folder, file_id=file_id
            )
            return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}

        if kind == "photo":
            return [
                {**ids(b"\xff\xd8\xff\xe0", w * 40, "photo.jpg", "image/jpeg", "photos",
                       f"{prefix}_{w}"),
                 "width": w, "height": w * 3 // 4, "file_size": w * 40}
                for w in (90, 320, 800)
            ]  # fmt: skip
        if kind == "sticker":
            return {**ids(b"RIFF", 23_456, "sticker.webp", "image/webp", "stickers"),
                    "type": "regular", "width": 512, "height": 512, "is_animated": False,
                    "is_video": False, "emoji": "👍", "set_name": "FakeStickers",
                    "file_size": 23_456}  # fmt: skip
        if kind == "voice":
            return {**ids(b"OggS", 9_876, "voice.oga", "audio/ogg", "voice"), "duration": 3,
                    "mime_type": "audio/ogg", "file_size": 9_876}  # fmt: skip
        if kind == "document":
            data = b"%PDF-1.4\n% fake document\n"
            stored = self.store_file(
                data, filename="document.pdf", mime_type="application/pdf", file_id=prefix
            )
            return stored.to_document()
        if kind == "location":
            return {"latitude": 14.6937, "longitude": -17.44406}
        return {"phone_number": "+221770000000", "first_name": user.first_name, "user_id": user.id}

    def _learn(self, obj: JSONDict) -> None:
        """Remember chats, messages and callback queries found in a raw update."""
        sender = obj.get("from")
        chat = obj.get("chat")
        if isinstance(chat, dict) and "id" in chat:
            self._chats.setdefault(chat["id"], chat)
            if "message_id" in obj:
                self._raw.setdefault((chat["id"], obj["message_id"]), obj)
                last = self._last_message_id.get(chat["id"], 0)
                self._last_message_id[chat["id"]] = max(last, obj["message_id"])
        if "chat_instance" in obj and "id" in obj and isinstance(sender, dict):
            message = obj.get("message") or {}
            self._queries[str(obj["id"])] = {
                "user_id": sender["id"],
                "data": obj.get("data"),
                "message_id": message.get("message_id"),
            }


def _suffix(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:] if dot > 0 else ""


def _chat_id(chat: int | FakeUser) -> int:
    return chat.id if isinstance(chat, FakeUser) else chat


def _kind(update: JSONDict) -> str:
    return next((k for k in update if k != "update_id"), "")


def _allowed(kind: str, allowed: set[str]) -> bool:
    return kind in allowed if allowed else kind not in _OPT_IN_UPDATES


def _forbidden(chat_type: str) -> str:
    if chat_type == "private":
        return "Forbidden: bot was blocked by the user"
    if chat_type == "channel":
        return "Forbidden: bot is not a member of the channel chat"
    return f"Forbidden: bot was kicked from the {chat_type} chat"
