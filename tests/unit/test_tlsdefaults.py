"""`serve` imports aiohttp with its default TLS contexts trusting the system's hashed
certificate directory instead of parsing the CA bundle (server/tlsdefaults.py): those
contexts must still verify, and an operator's own trust store must stand."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.tlsdefaults import hashed_directory
from tests.support.turnserver import self_signed_certificate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A TLS server on localhost with a self-signed certificate; its port and the cert."""
    cert, key = self_signed_certificate(tmp_path, "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"ok")
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port, cert
    listener.close()
    thread.join(timeout=5)


def _hashed_copy(cert: Path, directory: Path) -> None:
    name = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(cert)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    shutil.copy(cert, directory / f"{name}.0")


def _connect_with_default_context(
    port: int, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    code = (
        "import socket, ssl, sys\n"
        "context = ssl.create_default_context()\n"
        f"with socket.create_connection(('127.0.0.1', {port})) as raw:\n"
        "    with context.wrap_socket(raw, server_hostname='localhost') as tls:\n"
        "        sys.stdout.write(tls.recv(2).decode())\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )


def test_with_the_bundle_hidden_a_context_trusts_what_the_directory_holds(
    tls_server: tuple[int, Path], tmp_path: Path
) -> None:
    port, cert = tls_server
    trusted, empty = tmp_path / "trusted", tmp_path / "empty"
    trusted.mkdir()
    empty.mkdir()
    _hashed_copy(cert, trusted)
    env = {**os.environ, "SSL_CERT_FILE": os.devnull}

    verified = _connect_with_default_context(port, env | {"SSL_CERT_DIR": str(trusted)})
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout == "ok"

    refused = _connect_with_default_context(port, env | {"SSL_CERT_DIR": str(empty)})
    assert refused.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr


def test_an_operators_own_trust_store_stands(tmp_path: Path) -> None:
    assert hashed_directory({"SSL_CERT_FILE": str(tmp_path / "corporate.pem")}) is None
    assert hashed_directory({"SSL_CERT_DIR": str(tmp_path)}) is None


def test_naming_the_systems_own_bundle_and_directory_is_no_other_choice() -> None:
    defaults = ssl.get_default_verify_paths()
    named = {"SSL_CERT_FILE": defaults.openssl_cafile, "SSL_CERT_DIR": defaults.openssl_capath}
    assert hashed_directory(named) == hashed_directory({})


def test_serve_imports_aiohttp_with_verifying_contexts_and_the_environment_restored() -> None:
    code = (
        "import json, os, ssl\n"
        "before = os.environ.get('SSL_CERT_FILE')\n"
        "from server.tlsdefaults import hashed_directory, import_aiohttp\n"
        "lazy = hashed_directory(os.environ) is not None\n"
        "import_aiohttp()\n"
        "from aiohttp import connector\n"
        "verified = connector._SSL_CONTEXT_VERIFIED\n"
        "print(json.dumps({'lazy': lazy, 'same_env': os.environ.get('SSL_CERT_FILE') == before,\n"
        "    'required': verified.verify_mode == ssl.CERT_REQUIRED and verified.check_hostname,\n"
        "    'aiohttp_cas': verified.cert_store_stats()['x509_ca'],\n"
        "    'other_cas': ssl.create_default_context().cert_store_stats()['x509_ca']}))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    )
    result = json.loads(found.stdout)
    assert result["same_env"] and result["required"]
    if result["lazy"]:  # a system with a hashed directory, as Debian's
        assert result["aiohttp_cas"] == 0, "aiohttp's contexts parsed the bundle after all"
        assert result["other_cas"] > 0, "other contexts must still load the bundle"
