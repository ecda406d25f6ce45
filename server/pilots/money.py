"""Money as integer øre, everywhere: parsed from what people type, shown as they read it.

No float ever holds an amount. Parsing works on the digits themselves, so "0,10" is 10 øre
exactly, and an amount with more than two decimals is refused rather than rounded.
"""

from __future__ import annotations

import re

ORE_PER_KRONE = 100
MAX_ORE = 10**13  # 100 billion kroner: far above any budget, far below any overflow

_AMOUNT = re.compile(r"^(-)?(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?$")
_EN_AMOUNT = re.compile(r"^(-)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")


class BadAmount(ValueError):
    """Not an amount of kroner with at most two decimals."""


def parse_kroner(text: str, lang: str = "da") -> int:
    """'1.234,56', '1234,5', '1234' (Danish) or '1,234.56', '1234.5' (English) -> øre.

    Each language has its own decimal mark; grouped thousands need three digits a group.
    Whatever is malformed, or has more than two decimals, is refused."""
    raw = text.strip().removesuffix("kr").removesuffix("DKK").removeprefix("DKK").strip()
    raw = raw.replace(" ", "").replace("\u00a0", "")
    match = (_EN_AMOUNT if lang == "en" else _AMOUNT).match(raw)
    if match is None:
        raise BadAmount(f"not an amount: {text!r}")
    sign, whole, decimals = match.groups()
    ore = int(whole.replace(".", "").replace(",", "")) * ORE_PER_KRONE
    ore += int((decimals or "0").ljust(2, "0"))
    if ore > MAX_ORE:
        raise BadAmount(f"too large: {text!r}")
    return -ore if sign else ore


def format_kroner(ore: int, lang: str = "da") -> str:
    """4200050 -> '42.000,50 kr' (da) or 'DKK 42,000.50' (en); a negative amount is 'DKK -0.10'."""
    sign = "-" if ore < 0 else ""
    kroner, rest = divmod(abs(ore), ORE_PER_KRONE)
    grouped = f"{kroner:,}"
    if lang == "da":
        return f"{sign}{grouped.replace(',', '.')},{rest:02d} kr"
    return f"DKK {sign}{grouped}.{rest:02d}"


def typed_kroner(ore: int, lang: str = "da") -> str:
    """An amount as it is typed into a form (no currency), so it parses back as it is."""
    return format_kroner(ore, lang).removesuffix(" kr").replace("DKK ", "")


def plain(ore: int) -> str:
    """For CSV: '42000.50', '-0.10' (a dot, no grouping, always two decimals)."""
    sign = "-" if ore < 0 else ""
    kroner, rest = divmod(abs(ore), ORE_PER_KRONE)
    return f"{sign}{kroner}.{rest:02d}"
