"""The name a patient types: short, printable, and never a CPR number."""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 60
_CPR = re.compile(r"\d{6}\s*-?\s*\d{4}")


class NameProblem(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def clean_display_name(raw: object) -> str:
    if not isinstance(raw, str):
        raise NameProblem("invalid_name")
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise NameProblem("name_required")
    if len(name) > MAX_LENGTH:
        raise NameProblem("name_too_long")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise NameProblem("invalid_name")
    if _CPR.search(name):
        raise NameProblem("name_looks_like_cpr")
    return name
