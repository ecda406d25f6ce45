"""Finding clinics by name, address or ydernummer, the way people type them.

Matching ignores case and accents, and takes the Danish letters and their usual stand-ins
alike: "Aabyhoj", "Abyhøj" and "Åbyhøj" find the same clinic. Every word of the query must
occur in the clinic's name, address or ydernummer. Results show no back-door number: that is
only on a clinic's own (audited) page.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from server.store.clinics import Clinic

LIMIT = 25
MAX_QUERY = 100

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
# After the letters above are spelt out, each pair is folded once more, so that "aa", "å"
# and a plain "a" meet.
_PAIRS = (("aa", "a"), ("ae", "a"), ("oe", "o"))


@dataclass(frozen=True)
class Found:
    clinics: list[Clinic]  # at most the limit, best first
    total: int  # how many matched in all


def fold(text: str) -> str:
    """Text reduced for matching: lower case, no accents, Danish letters folded."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_DANISH))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    for pair, single in _PAIRS:
        text = text.replace(pair, single)
    return " ".join(text.split())


def search(clinics: Iterable[Clinic], query: str, limit: int = LIMIT) -> Found:
    """Clinics matching every word of `query`: an exact ydernummer first, then names that
    start with the query, then by name. An empty query finds nothing."""
    query = query.strip()[:MAX_QUERY]
    words = fold(query).split()
    if not words:
        return Found([], 0)
    matches = [
        clinic
        for clinic in clinics
        if all(w in fold(f"{clinic.name} {clinic.address} {clinic.ydernummer}") for w in words)
    ]
    folded = " ".join(words)
    matches.sort(
        key=lambda c: (
            c.ydernummer != query,
            not fold(c.name).startswith(folded),
            fold(c.name),
            c.ydernummer,
        )
    )
    return Found(matches[:limit], len(matches))
