"""Run the fake standalone: ``python -m tests.fake_bot_api --port N --token T``.

Prints the base URL (for ``ApplicationBuilder().base_url``) on stdout, then serves the Bot
API and the control API (see ``control.py``) until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from .server import FakeBotAPI


async def serve(port: int, token: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with FakeBotAPI(token, port=port, control_api=True) as api:
        print(api.base_url, flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_bot_api", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.token))


if __name__ == "__main__":
    main()
