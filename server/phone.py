"""Phone numbers as people type them: "+45 86 15 00 00", "86150000", "86-15-00-00"."""

from __future__ import annotations

import re

_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]*$")


def phone_ok(text: str) -> bool:
    """A Danish number has 8 digits; with a country code up to 15 (E.164)."""
    digits = sum(ch.isdigit() for ch in text)
    return bool(_PHONE.match(text)) and 8 <= digits <= 15


def tel_uri(text: str) -> str:
    """A `tel:` link for a typed number: "+45 86 15 00 00" -> "tel:+4586150000"."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return f"tel:{'+' if text.lstrip().startswith('+') else ''}{digits}"
