"""A loopback TCP proxy that behaves like a wide-area link: latency and bandwidth caps.

Usage: ``python benchmarks/_wan_proxy.py UPSTREAM_PORT RTT_MS CONNECTION_MB_S SHARED_MB_S``

It listens on a free port of 127.0.0.1, prints that port on a line of its own, and forwards
every connection to ``127.0.0.1:UPSTREAM_PORT`` until it is terminated. Each direction of each
connection is a link of its own:

- **latency**: every piece of data arrives half the round-trip time after it was sent, and a new
  connection carries nothing for one round trip (the TCP handshake);
- **bandwidth**: a connection carries at most ``CONNECTION_MB_S`` (MB = 10**6 bytes) each way,
  and all connections together at most ``SHARED_MB_S`` each way, like one uplink shared by
  parallel streams.

Data is read from a socket only as fast as the caps allow, so the sender is slowed by TCP's own
flow control, as on a real link; at most one bandwidth-delay product waits inside the proxy.
Nothing is reordered or lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

READ_SIZE = 64 * 1024
# Bytes a link may send at once after being idle: a few milliseconds' worth at most.
BURST_SECONDS = 0.002


class Link:
    """A bandwidth cap: each ``send`` waits until the bytes before it have gone through."""

    def __init__(self, bytes_per_second: float) -> None:
        self._rate = bytes_per_second
        self._busy_until = 0.0

    async def send(self, size: int) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._busy_until = max(self._busy_until, now - BURST_SECONDS) + size / self._rate
        if self._busy_until > now:
            await asyncio.sleep(self._busy_until - now)


class Proxy:
    """Forwards connections to the upstream port through capped, delayed links."""

    def __init__(self, upstream: int, rtt: float, connection_rate: float, shared: float) -> None:
        self._upstream = upstream
        self._rtt = rtt
        self._connection_rate = connection_rate
        self._shared = {"up": Link(shared), "down": Link(shared)}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.sleep(self._rtt)  # the handshake's round trip
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._upstream)
        except OSError:
            writer.close()
            return
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._pipe(reader, up_writer, self._shared["up"]))
                group.create_task(self._pipe(up_reader, writer, self._shared["down"]))
        except* (OSError, asyncio.IncompleteReadError):
            pass  # one side went away: both are closed below
        finally:
            for side in (writer, up_writer):
                side.close()
                with contextlib.suppress(OSError):
                    await side.wait_closed()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, shared: Link
    ) -> None:
        """One direction: read at the links' pace, deliver each piece half an RTT later."""
        own = Link(self._connection_rate)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()

        delivery = asyncio.create_task(deliver())
        try:
            # Stops early if delivery failed: awaiting it then raises its error.
            while not delivery.done() and (data := await reader.read(READ_SIZE)):
                await own.send(len(data))
                await shared.send(len(data))
                queue.put_nowait((loop.time() + self._rtt / 2, data))
            queue.put_nowait((loop.time() + self._rtt / 2, b""))
            await delivery
        finally:
            delivery.cancel()


async def serve(upstream: int, rtt: float, connection_rate: float, shared: float) -> None:
    """Listen on a free loopback port, print it, and serve until cancelled."""
    proxy = Proxy(upstream, rtt, connection_rate, shared)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    upstream, rtt_ms, connection, shared = int(argv[0]), *map(float, argv[1:])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(upstream, rtt_ms / 1000, connection * 1e6, shared * 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
