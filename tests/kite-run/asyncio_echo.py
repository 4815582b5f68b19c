#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The two sides of the kite-run asyncio test (tests/interop/test_kite_run.sh).

  asyncio_echo.py serve ADDR PORT      an asyncio (epoll) echo server; runs
                                       under kite-run until SIGTERM
  asyncio_echo.py clients ADDR PORT N  N concurrent connections, each
                                       sending 20 messages of its own and
                                       checking every echo; prints a summary
                                       and exits 0 when all N were echoed
"""
import asyncio
import selectors
import signal
import sys


async def echo(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(addr, port):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    server = await asyncio.start_server(echo, addr, port, backlog=256)
    sel = type(loop._selector).__name__  # which kernel interface serves the loop
    print(f"serving {addr}:{port} with {sel}", flush=True)
    async with server:
        await stop


async def one_client(addr, port, n):
    reader, writer = await asyncio.open_connection(addr, port)
    for i in range(20):
        msg = f"client {n} message {i} ".encode() * (1 + (n + i) % 50)
        writer.write(msg)
        await writer.drain()
        got = await reader.readexactly(len(msg))
        if got != msg:
            raise ValueError(f"client {n}: echo {i} differs")
    writer.close()
    await writer.wait_closed()
    return True


async def clients(addr, port, count):
    results = await asyncio.gather(*(one_client(addr, port, n) for n in range(count)),
                                   return_exceptions=True)
    ok = sum(1 for r in results if r is True)
    for r in results:
        if r is not True:
            print(f"failed: {r!r}")
            break
    print(f"{ok} of {count} clients echoed", flush=True)
    return ok == count


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        asyncio.run(serve(sys.argv[2], int(sys.argv[3])))
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "clients":
        ok = asyncio.run(asyncio.wait_for(clients(sys.argv[2], int(sys.argv[3]),
                                                  int(sys.argv[4])), 60))
        return 0 if ok else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
