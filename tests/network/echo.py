"""A UDP and TCP echo for proving the lab with plain processes.

    python -m tests.network.echo serve HOST PORT...      UDP and TCP on each port; prints "ready"
    python -m tests.network.echo ask udp|tcp HOST PORT...
    python -m tests.network.echo probe HOST PORT COUNT

The server answers with the address and port it saw the question come from, so a test can
tell what a NAT made of it. `ask` asks every port from one local socket (UDP) and prints one
line per port: what the server saw, or "no answer". `probe` sends COUNT numbered datagrams,
10 ms apart, which the server echoes as they are, and prints how many came back and the
median round trip in milliseconds: what a line's loss and delay do.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import sys
import time

ANSWER_WAIT_SECONDS = 2.0


class _UdpEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        answer = data if data.startswith(b"#") else f"{addr[0]}:{addr[1]}".encode()
        self.transport.sendto(answer, addr)  # type: ignore[attr-defined]


async def _tcp_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    host, port = writer.get_extra_info("peername")[:2]
    await reader.read(100)
    writer.write(f"{host}:{port}".encode())
    await writer.drain()
    writer.close()


async def serve(host: str, ports: list[int]) -> None:
    loop = asyncio.get_running_loop()
    for port in ports:
        await loop.create_datagram_endpoint(_UdpEcho, local_addr=(host, port))
        await asyncio.start_server(_tcp_echo, host, port)
    print("ready", flush=True)
    await asyncio.Event().wait()


def ask_udp(host: str, ports: list[int]) -> list[str]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(ANSWER_WAIT_SECONDS)
        answers = []
        for port in ports:
            sock.sendto(b"?", (host, port))
            try:
                answers.append(sock.recv(100).decode())
            except TimeoutError:
                answers.append("no answer")
        return answers


def ask_tcp(host: str, ports: list[int]) -> list[str]:
    answers = []
    for port in ports:
        try:
            with socket.create_connection((host, port), timeout=ANSWER_WAIT_SECONDS) as sock:
                sock.sendall(b"?")
                answers.append(sock.recv(100).decode())
        except OSError:
            answers.append("no answer")
    return answers


def probe(host: str, port: int, count: int) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sent: dict[bytes, float] = {}
        rtts: list[float] = []
        start = time.monotonic()
        deadline = start + count * 0.01 + ANSWER_WAIT_SECONDS
        while (now := time.monotonic()) < deadline:
            if len(sent) < count and now >= start + len(sent) * 0.01:
                token = f"#{len(sent)}".encode()
                sent[token] = now
                sock.sendto(token, (host, port))
            try:
                rtts.append(time.monotonic() - sent[sock.recv(100)])
            except BlockingIOError:
                time.sleep(0.001)
        median = statistics.median(rtts) * 1000 if rtts else 0.0
        return f"{len(rtts)} {median:.1f}"


def main(argv: list[str]) -> None:
    if argv[0] == "serve":
        asyncio.run(serve(argv[1], [int(p) for p in argv[2:]]))
    elif argv[0] == "probe":
        print(probe(argv[1], int(argv[2]), int(argv[3])), flush=True)
    else:
        ask = ask_udp if argv[1] == "udp" else ask_tcp
        print("\n".join(ask(argv[2], [int(p) for p in argv[3:]])), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
