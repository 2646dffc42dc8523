"""A small JSON control API over HTTP, so another process can play Telegram users.

Enabled with ``FakeBotAPI(control_api=True)`` (``python -m tests.fake_bot_api`` does so):

* ``POST /_control/send_text``     ``{"user": {"id": 1, "first_name": "Awa"}, "text": "hi"}``
* ``POST /_control/send_command``  ``{"user": {...}, "command": "/start"}``
* ``POST /_control/send_document`` ``{"user": {...}, "filename": "a.pdf", "content_base64": "...",
  "mime_type": "application/pdf", "caption": "...", "chat_id": -100123}`` (last three optional)
* ``POST /_control/press``         ``{"user": {...}, "chat_id": 1, "message_id": 2, "data": "x"}``
* ``GET  /_control/messages?chat_id=1[&min_count=2&timeout=5]``  bot messages, oldest first
* ``GET  /_control/requests``      every Bot API call received

POSTs answer ``{"update_id": N}``; errors answer ``{"error": "..."}`` with status 400 or 504.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .records import FakeUser, JSONDict, SentMessage

if TYPE_CHECKING:
    from .server import FakeBotAPI

_Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def message_dict(message: SentMessage) -> JSONDict:
    """A SentMessage as JSON (document bytes replaced by their size)."""
    data = dataclasses.asdict(message)
    if message.document is not None:
        document = data["document"]
        document["size"] = len(document.pop("data"))
    return data


def add_control_routes(app: web.Application, api: FakeBotAPI) -> None:
    def user(body: JSONDict) -> FakeUser:
        spec = body["user"]
        return api.user(
            int(spec["id"]),
            spec.get("first_name", "User"),
            spec.get("language_code"),
            spec.get("username"),
        )

    def post(action: Callable[[JSONDict], int]) -> _Route:
        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                update_id = action(await request.json())
            except (KeyError, TypeError, ValueError) as error:
                return web.json_response({"error": repr(error)}, status=400)
            return web.json_response({"update_id": update_id})

        return handler

    def press(body: JSONDict) -> int:
        message = api.message(int(body["chat_id"]), int(body["message_id"]))
        return api.press(user(body), message, str(body["data"]))

    def send_document(body: JSONDict) -> int:
        chat_id = body.get("chat_id")
        return api.send_document(
            user(body),
            str(body["filename"]),
            base64.b64decode(str(body["content_base64"]), validate=True),
            mime_type=body.get("mime_type"),
            caption=body.get("caption"),
            chat_id=None if chat_id is None else int(chat_id),
        )

    async def messages(request: web.Request) -> web.StreamResponse:
        try:
            chat_id = int(request.query["chat_id"])
            min_count = int(request.query.get("min_count", "0"))
            timeout = float(request.query.get("timeout", "5"))
        except (KeyError, ValueError) as error:
            return web.json_response({"error": repr(error)}, status=400)
        try:
            found = await api.wait_for_messages(chat_id, min_count, timeout)
        except TimeoutError as error:
            return web.json_response({"error": str(error)}, status=504)
        return web.json_response([message_dict(m) for m in found])

    async def requests(request: web.Request) -> web.StreamResponse:
        records: list[Any] = [dataclasses.asdict(r) for r in api.requests]
        return web.json_response(records, dumps=_dumps)

    app.router.add_post(
        "/_control/send_text", post(lambda body: api.send_text(user(body), str(body["text"])))
    )
    app.router.add_post(
        "/_control/send_command",
        post(lambda body: api.send_command(user(body), str(body["command"]))),
    )
    app.router.add_post("/_control/send_document", post(send_document))
    app.router.add_post("/_control/press", post(press))
    app.router.add_get("/_control/messages", messages)
    app.router.add_get("/_control/requests", requests)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=repr)
