#!/usr/bin/env python3
"""A far link for bench/run.sh: a TCP proxy that holds every chunk, in both
directions, for half the round-trip time before passing it on, in order.

    delay_proxy.py --listen 127.0.0.1:0 --to 127.0.0.1:PORT --rtt-ms 150

Bytes are not looked at (TLS passes through). Each direction of each
connection has its own queue, so a chunk never overtakes an earlier one, and
a slow reader delays only its own connection. The end of a stream (EOF) is
passed on after the same delay. Prints "ready PORT" on standard output once
it listens (port 0 picks a free one). Runs until killed.
"""

import argparse
import asyncio
import sys

READ = 256 * 1024


async def pump(reader, writer, delay):
    """Reads chunks from reader and writes each to writer `delay` s later."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                try:
                    if writer.can_write_eof():
                        writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(data)
            try:
                await writer.drain()
            except OSError:
                return

    sender = asyncio.create_task(deliver())
    try:
        while True:
            try:
                data = await reader.read(READ)
            except OSError:
                data = b""
            queue.put_nowait((loop.time() + delay, data or None))
            if not data:
                break
        await sender
    finally:
        sender.cancel()


async def handle(client_reader, client_writer, target, delay):
    try:
        server_reader, server_writer = await asyncio.open_connection(*target)
    except OSError:
        client_writer.close()
        return
    for writer in (client_writer, server_writer):
        sock = writer.get_extra_info("socket")
        if sock is not None:
            import socket

            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        await asyncio.gather(
            pump(client_reader, server_writer, delay),
            pump(server_reader, client_writer, delay),
        )
    finally:
        for writer in (client_writer, server_writer):
            writer.close()


def address(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=address, required=True)
    parser.add_argument("--to", type=address, required=True)
    parser.add_argument("--rtt-ms", type=float, required=True)
    args = parser.parse_args()
    delay = args.rtt_ms / 2000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, args.to, delay), *args.listen, backlog=1024
    )
    port = server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
