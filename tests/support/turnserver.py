"""A real coturn (Debian's `turnserver`) for tests, started like redis-server is.

It checks TURN REST credentials with `use-auth-secret` and a secret of its own, listens for
UDP and TCP on one port and for TLS on another (a certificate made now with openssl, for a
host name), relays from a small port range, and has no CLI. Nothing here reaches outside the
address it is given.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from tests.support.redisserver import free_port

STUN_BINDING_REQUEST = b"\x00\x01\x00\x00\x21\x12\xa4\x42"


def turnserver_binary() -> str:
    path = shutil.which("turnserver")
    if not path:
        raise RuntimeError("coturn is missing: run scripts/setup --test, which installs it")
    return path


def self_signed_certificate(directory: Path, hostname: str) -> tuple[Path, Path]:
    """A certificate for `hostname` that is its own CA, so a test can trust exactly it."""
    cert, key = directory / "turn-cert.pem", directory / "turn-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", f"/CN={hostname}",
         "-addext", f"subjectAltName=DNS:{hostname}",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class TurnServer:
    def __init__(
        self,
        directory: Path,
        listen_ip: str = "127.0.0.1",
        hostname: str = "localhost",
        port: int | None = None,
        tls_port: int | None = None,
        relay_ports: tuple[int, int] | None = None,
        prefix: Sequence[str] = (),
    ) -> None:
        """`prefix` runs it elsewhere, e.g. `ip netns exec NS`; the caller then checks that
        it is ready, from where it can be reached (see `wait_ready`)."""
        self.directory = directory
        self.listen_ip = listen_ip
        self.hostname = hostname
        self.port = port or free_port()
        self.tls_port = tls_port or free_port()
        low = 50000 + secrets.randbelow(100) * 100
        self.relay_ports = relay_ports or (low, low + 99)
        self.prefix = list(prefix)
        self.secret = secrets.token_hex(16)
        self.realm = "almenvideo.test"
        self.certificate, self.key = self_signed_certificate(directory, hostname)
        self.log = directory / "turnserver.log"
        self._process: subprocess.Popen[bytes] | None = None

    def urls(self) -> tuple[str, str, str]:
        """TURN over UDP, over TCP, and over TLS (by host name: a certificate names a host)."""
        return (
            f"turn:{self.listen_ip}:{self.port}?transport=udp",
            f"turn:{self.listen_ip}:{self.port}?transport=tcp",
            f"turns:{self.hostname}:{self.tls_port}?transport=tcp",
        )

    def argv(self) -> list[str]:
        return [
            *self.prefix, turnserver_binary(), "-n",
            f"--listening-ip={self.listen_ip}", f"--relay-ip={self.listen_ip}",
            f"--listening-port={self.port}", f"--tls-listening-port={self.tls_port}",
            f"--min-port={self.relay_ports[0]}", f"--max-port={self.relay_ports[1]}",
            "--use-auth-secret", f"--static-auth-secret={self.secret}",
            f"--realm={self.realm}",
            f"--cert={self.certificate}", f"--pkey={self.key}",
            "--no-tlsv1", "--no-tlsv1_1", "--no-dtls", "--no-cli", "--no-rfc5780",
            # the lab's peers and this machine's loopback are the only peers there are
            "--allow-loopback-peers", "--no-multicast-peers",
            f"--userdb={self.directory / 'turndb'}",
            f"--pidfile={self.directory / 'turnserver.pid'}",
            "--log-file=stdout", "--simple-log", "--verbose",
        ]  # fmt: skip

    def start(self) -> None:
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT)
        if not self.prefix:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Answers a STUN binding request over UDP, and accepts TCP and TLS connections."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                break
            if stun_answers(self.listen_ip, self.port) and all(
                tcp_accepts(self.listen_ip, port) for port in (self.port, self.tls_port)
            ):
                return
            time.sleep(0.1)
        raise RuntimeError(f"coturn did not start; see {self.log}:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


def stun_answers(host: str, port: int) -> bool:
    request = STUN_BINDING_REQUEST + secrets.token_bytes(12)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        try:
            sock.sendto(request, (host, port))
            answer = sock.recv(2048)
        except OSError:
            return False
    return answer[:2] == b"\x01\x01" and answer[8:20] == request[8:20]


def tcp_accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False
