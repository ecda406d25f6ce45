"""Importing aiohttp for `serve` without parsing the system's CA bundle twice.

aiohttp makes two TLS client contexts when it is imported (aiohttp.connector), and each
one reads the system's whole CA bundle (Debian: /etc/ssl/certs/ca-certificates.crt, ~140
certificates), which OpenSSL 3 parses slowly (cpython#95031): ~470 M instructions of the
2.6 G that importing and building the app costs, a sixth of `serve`'s CPU until healthy
(bench/cold_start.py). Only webhook delivery uses them, long after the start.

The same trust anchors are in the system's hashed certificate directory (/etc/ssl/certs,
kept by update-ca-certificates or c_rehash), where OpenSSL looks one up by its subject's
hash when a handshake needs it, and keeps it. So `serve` imports aiohttp with
SSL_CERT_FILE naming an empty file: its two contexts then trust the directory alone, the
same certificates, read one at a time. The environment is restored at once, so every
other context is made as usual.

Done only when SSL_CERT_FILE and SSL_CERT_DIR are unset or name the system's own bundle and
directory (an operator's other trust store stands), and the directory holds hashed names;
otherwise aiohttp is imported as it is, bundle and all."""

from __future__ import annotations

import importlib
import os
import re
import ssl
import sys
from collections.abc import Mapping

_HASHED_NAME = re.compile(r"[0-9a-f]{8}\.[0-9]+")


def _same_file(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def hashed_directory(env: Mapping[str, str]) -> str | None:
    """The system's certificate directory, if OpenSSL can look trust anchors up in it and
    the environment chose no other trust store; None otherwise."""
    defaults = ssl.get_default_verify_paths()
    chosen_file, chosen_dir = env.get("SSL_CERT_FILE"), env.get("SSL_CERT_DIR")
    if chosen_file and not _same_file(chosen_file, defaults.openssl_cafile):
        return None
    if chosen_dir and not _same_file(chosen_dir, defaults.openssl_capath):
        return None
    directory = defaults.openssl_capath
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    return directory if any(_HASHED_NAME.fullmatch(name) for name in names) else None


def import_aiohttp() -> None:
    """Import aiohttp, its default TLS contexts trusting the hashed directory (see above)."""
    if "aiohttp" in sys.modules or hashed_directory(os.environ) is None:
        importlib.import_module("aiohttp")
        return
    chosen = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = os.devnull
    try:
        importlib.import_module("aiohttp")
    finally:
        if chosen is None:
            del os.environ["SSL_CERT_FILE"]
        else:
            os.environ["SSL_CERT_FILE"] = chosen
