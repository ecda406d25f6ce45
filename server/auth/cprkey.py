"""The key of the CPR hash, kept outside Redis.

A booking may carry the patient's CPR number so the LPS's patient can be matched; only
HMAC-SHA256 of it under this key is kept. There are only ~3.65·10⁸ valid CPR numbers, so a
hash is only as safe as its key: with the key, a stolen Redis dump (an AOF, a backup, a
replica) gives every number back in minutes. The key therefore never enters Redis. It is a
file: production mounts it from its secret store (`ALMENVIDEO_CPR_KEY_FILE`); without that
setting, development and the demo use `<data dir>/cpr.key`, made on first start (0600).

Every stored hash starts with the key's id (`<id>:<hmac>`), so hashes made under another key
(another instance's, an old one) are recognisable, never silently compared.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from server.settings import Settings, SettingsError

log = logging.getLogger(__name__)

KEY_BYTES = 32
DEFAULT_FILE = "cpr.key"


@dataclass(frozen=True)
class CprKey:
    secret: bytes = field(repr=False)

    @property
    def id(self) -> str:
        """Names the key in every hash it made; reveals nothing of it."""
        return hmac.new(self.secret, b"almenvideo cpr key id", hashlib.sha256).hexdigest()[:8]

    def hash(self, cpr: str) -> str:
        digits = cpr.replace("-", "").encode()
        return f"{self.id}:{hmac.new(self.secret, digits, hashlib.sha256).hexdigest()}"


def load_cpr_key(settings: Settings) -> CprKey:
    """The configured key file, or the data directory's (made when missing)."""
    if settings.cpr_key_file is not None:
        return _read(settings.cpr_key_file)
    path = settings.data_dir / DEFAULT_FILE
    if _create(path):
        log.warning(
            "made a new CPR key in %s; in production set ALMENVIDEO_CPR_KEY_FILE to a key "
            "file from your secret store",
            path,
        )
    return _read(path)


def _read(path: Path) -> CprKey:
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as error:
        raise SettingsError(
            f"the CPR key file {path} cannot be read as hex ({error.__class__.__name__}); "
            f"make one with: python3 -c 'import secrets; print(secrets.token_hex(32))' > {path}"
        ) from None
    if len(secret) < KEY_BYTES:
        raise SettingsError(f"the CPR key in {path} must be at least {KEY_BYTES} bytes (hex)")
    return CprKey(secret)


def _create(path: Path) -> bool:
    """Write a new key to `path` unless one is there; atomic, so instances starting together
    from one data directory end up with the same key. True if this call made it."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(KEY_BYTES) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            draft.unlink()
    return True
