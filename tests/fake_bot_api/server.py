"""The HTTP side of the fake Bot API: an aiohttp server on 127.0.0.1 plus fault injection."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from . import methods
from .params import Params, decode_params
from .records import ApiError, JSONDict, RequestRecord, Upload
from .state import BotState

_JSON_HEADERS = {"Content-Type": "application/json"}
_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class _Fault:
    kind: str  # "fail", "delay" or "reset"
    remaining: int
    status: int = 500
    retry_after: int | None = None
    description: str | None = None
    seconds: float = 0.0
    apply_first: bool = False


class FakeBotAPI(BotState):
    """An in-process Telegram Bot API for python-telegram-bot; use ``async with``."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "fake_test_bot",
        bot_first_name: str = "Fake Bot",
        control_api: bool = False,
    ) -> None:
        super().__init__(token, bot_username=bot_username, bot_first_name=bot_first_name)
        self.host = host
        self._port = port
        self._control_api = control_api
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._faults: dict[str, deque[_Fault]] = {}

    # ----------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        if self._runner is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` / ``Bot(token, base_url=...)``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)`` / ``Bot(..., base_file_url=...)``.

        PTB appends the token, then ``/`` and getFile's ``file_path``.
        """
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> None:
        if self.closed:
            raise RuntimeError("a stopped FakeBotAPI cannot be restarted; create a new one")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        if self._control_api:
            from .control import add_control_routes

            add_control_routes(app, self)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._download)
        app.router.add_route("*", "/{path:.*}", self._handle)
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await runner.setup()
        await web.TCPSite(runner, self.host, self._port).start()
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def stop(self) -> None:
        """End long polls and delayed responses at once, then close the server."""
        self.close()
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 2,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """The next ``count`` calls of ``method`` ("*" = any) fail without taking effect.

        429 carries ``parameters.retry_after``; other statuses (500, 502, ...) do not.
        """
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else _DESCRIPTIONS.get(status, f"Error {status}")
            )
        fault = _Fault(
            "fail", count, status, retry_after if status == 429 else None, description
        )
        self._add_fault(method, fault)

    def delay_next(
        self, method: str, seconds: float, count: int = 1, *, apply_first: bool = False
    ) -> None:
        """Answer the next ``count`` calls of ``method`` late.

        By default the request takes effect after the delay, and not at all if the client
        gave up (timed out) meanwhile. With ``apply_first`` it takes effect immediately and
        only the response is late: the "sent, but the client saw a timeout" case.
        """
        self._add_fault(method, _Fault("delay", count, seconds=seconds, apply_first=apply_first))

    def reset_next(self, method: str, count: int = 1) -> None:
        """Drop the connection of the next ``count`` calls without a response or effect."""
        self._add_fault(method, _Fault("reset", count))

    def clear_faults(self) -> None:
        self._faults.clear()

    def _add_fault(self, method: str, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("count must be at least 1")
        key = method.lower()
        if key != "*" and key not in methods.METHOD_NAMES:
            raise ValueError(f"unknown Bot API method {method!r}")
        self._faults.setdefault(key, deque()).append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining == 0:
                    queue.popleft()
                return fault
        return None

    # ----------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        path = request.match_info["path"]
        token, _, method = path.removeprefix("bot").partition("/")
        canonical = methods.METHOD_NAMES.get(method.lower(), method)
        params: JSONDict = {}
        recorded = False
        try:
            params = decode_params(await _read_params(request))
            if not path.startswith("bot") or method.lower() not in methods.METHOD_NAMES:
                raise ApiError(404, "Not Found")
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            fault = self._take_fault(canonical)
            if fault is not None and fault.kind == "reset":
                self._record(canonical, params, arrived, 0, "connection reset (fault injection)")
                recorded = True
                if request.transport is not None:
                    request.transport.abort()
                raise asyncio.CancelledError
            if fault is not None and fault.kind == "fail":
                raise ApiError(fault.status, fault.description or "", retry_after=fault.retry_after)
            if fault is not None and fault.kind == "delay" and not fault.apply_first:
                await self._pause(fault.seconds)
            result = await self._call(canonical, params)
            if fault is not None and fault.kind == "delay" and fault.apply_first:
                await self._pause(fault.seconds)
        except ApiError as error:
            self._record(canonical, params, arrived, error.status, error.description)
            return _json_response(error.payload(), error.status)
        except asyncio.CancelledError:
            if not recorded:
                self._record(canonical, params, arrived, 499, "client disconnected")
            raise
        self._record(canonical, params, arrived, 200, None)
        return _json_response({"ok": True, "result": result}, 200)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """``GET /file/bot<token>/<file_path>``: the bytes of a file getFile described."""
        stored = self.file_at(request.match_info["file_path"])
        if request.match_info["token"] != self.token:
            error = ApiError(401, "Unauthorized")
        elif stored is None:
            error = ApiError(404, "Not Found")
        else:
            self.downloads.append(stored.file_path)
            return web.Response(body=stored.data, content_type=stored.mime_type)
        return _json_response(error.payload(), error.status)

    async def _call(self, method: str, params: JSONDict) -> Any:
        p = Params(params)
        if method == "getUpdates":
            return await methods.get_updates(self, p)
        return methods.SYNC_METHODS[method](self, p)

    async def _pause(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._closing.wait()
        except TimeoutError:
            return
        raise ApiError(502, "Bad Gateway")  # the server is shutting down

    def _record(
        self, method: str, params: JSONDict, arrived: float, status: int, description: str | None
    ) -> None:
        self.requests.append(RequestRecord(method, params, arrived, status, description))


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus url-encoded, multipart or JSON body; file parts become Upload."""
    params: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON object") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: JSON object expected")
        params.update(body)
        return params
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            params[name] = Upload(value.filename, value.content_type, value.file.read())
        elif isinstance(value, bytes | bytearray):
            params[name] = bytes(value).decode("utf-8", "replace")
        else:
            params[name] = value
    return params


def _json_response(body: JSONDict, status: int) -> web.Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return web.Response(body=payload, status=status, headers=_JSON_HEADERS)
