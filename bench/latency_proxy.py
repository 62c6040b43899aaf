"""A TCP proxy on 127.0.0.1 that adds network latency (a round-trip time) to a server.

Model: each direction of each connection is a FIFO *delay line* of RTT/2: a chunk
read at time ``t`` is written on at ``t + RTT/2``, in order, with no bandwidth cap.
So every HTTP request/response exchange costs at least one RTT, on a fresh connection
as well as on a kept-alive one, and pipelined or concurrent bytes are not serialised
behind each other's delays (a sleep-per-chunk proxy would wrongly turn latency into a
bandwidth limit). A new connection also pays one RTT for the TCP handshake: nothing
the client sends reaches the server before ``accept + RTT + RTT/2``. Not modelled:
TLS, packet loss, TCP slow start and window limits (loopback bandwidth stays).

Usage::

    python latency_proxy.py --rtt-ms 20 --map 41001:41000 [--map 42001:42000]
        [--max-seconds 7200]

Each ``--map LISTEN:TARGET`` listens on 127.0.0.1:LISTEN and forwards to
127.0.0.1:TARGET. The proxy stops on SIGTERM/SIGINT or after ``--max-seconds``.
Standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

HOST = "127.0.0.1"
READ_SIZE = 256 * 1024
QUEUE_CHUNKS = 64  # at most 16 MiB in flight per direction, then back-pressure

Chunk = tuple[float, bytes]


async def _delay_line(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    one_way_s: float,
    not_before: float,
) -> None:
    """Copy ``reader`` to ``writer``, each chunk ``one_way_s`` after it arrived."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Chunk] = asyncio.Queue(maxsize=QUEUE_CHUNKS)

    async def read_side() -> None:
        while True:
            data = await reader.read(READ_SIZE)
            await queue.put((max(loop.time(), not_before) + one_way_s, data))
            if not data:
                return

    async def write_side() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    await asyncio.gather(read_side(), write_side())


async def _handle(
    client_r: asyncio.StreamReader,
    client_w: asyncio.StreamWriter,
    target_port: int,
    rtt_s: float,
) -> None:
    loop = asyncio.get_running_loop()
    accepted = loop.time()
    try:
        server_r, server_w = await asyncio.open_connection(HOST, target_port)
    except OSError:
        client_w.close()
        return
    one_way = rtt_s / 2
    up = asyncio.create_task(_delay_line(client_r, server_w, one_way, accepted + rtt_s))
    down = asyncio.create_task(_delay_line(server_r, client_w, one_way, accepted))
    try:
        # Both directions end with an EOF passed on, or one fails (reset): then the
        # other is cancelled and both sockets closed.
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in (up, down):
            task.cancel()
        for w in (client_w, server_w):
            w.close()
        for task in (up, down):
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task


async def serve(maps: list[tuple[int, int]], rtt_ms: float, max_seconds: float) -> None:
    """Run the proxies until a signal arrives or ``max_seconds`` have passed."""
    rtt_s = rtt_ms / 1000.0
    servers: list[asyncio.Server] = []
    for listen_port, target_port in maps:

        async def handler(
            r: asyncio.StreamReader,
            w: asyncio.StreamWriter,
            target: int = target_port,
        ) -> None:
            await _handle(r, w, target, rtt_s)

        servers.append(await asyncio.start_server(handler, HOST, listen_port))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max_seconds)
    for server in servers:
        server.close()


def _parse_map(text: str) -> tuple[int, int]:
    listen, _, target = text.partition(":")
    return int(listen), int(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt-ms", type=float, required=True)
    parser.add_argument("--map", action="append", type=_parse_map, required=True)
    parser.add_argument("--max-seconds", type=float, default=7200.0)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.map, args.rtt_ms, args.max_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
