"""A bad line: a transparent Ethernet bridge between two interfaces that delays and loses.

This kernel has no `tc netem`, so the lab's delay and loss are made in user space: the line
sits in its own namespace between a site's router and the internet, reads every frame from
one interface with an `AF_PACKET` socket and writes it to the other after `delay_ms`,
dropping `loss` of them at random, each way. With `PACKET_VNET_HDR` a frame keeps its
offload header, so large TCP segments and partial checksums cross as the kernel made them.

    python -m tests.network.line IN OUT

prints `ready` once both sockets are open, then reads settings as JSON lines on its standard
input, e.g. `{"delay_ms": 200, "loss": 0.1}` (each line replaces the last; `{}` is a clean
line), and answers each with `ok`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import sys
from dataclasses import dataclass

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_OUTGOING = 4
FRAME_LIMIT = 65_536 + 10  # a GSO frame and its virtio_net_hdr


@dataclass
class Settings:
    delay_ms: float = 0.0
    loss: float = 0.0


def packet_socket(interface: str) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    sock.bind((interface, 0))
    sock.setblocking(False)
    return sock


def forward(source: socket.socket, target: socket.socket, settings: Settings) -> None:
    """Every frame waiting on `source`, onto `target` after the delay (or never)."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            frame, address = source.recvfrom(FRAME_LIMIT)
        except BlockingIOError:
            return
        if address[2] == PACKET_OUTGOING or random.random() < settings.loss:
            continue
        if settings.delay_ms:
            loop.call_later(settings.delay_ms / 1000, send, target, frame)
        else:
            send(target, frame)


def send(target: socket.socket, frame: bytes) -> None:
    # The interface down or its queue full: the frame is lost, as on a wire.
    with contextlib.suppress(OSError):
        target.send(frame)


async def main(inside: str, outside: str) -> None:
    settings = Settings()
    a, b = packet_socket(inside), packet_socket(outside)
    loop = asyncio.get_running_loop()
    loop.add_reader(a.fileno(), forward, a, b, settings)
    loop.add_reader(b.fileno(), forward, b, a, settings)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print("ready", flush=True)
    while line := await reader.readline():
        given = json.loads(line)
        settings.delay_ms = float(given.get("delay_ms", 0))
        settings.loss = float(given.get("loss", 0))
        print("ok", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
