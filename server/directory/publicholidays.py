"""Danish public holidays (helligdage), from the maintained `holidays` package.

Only its `public` category counts: New Year's Day, Maundy Thursday, Good Friday, Easter
Sunday and Monday, Ascension Day, Whit Sunday and Monday, Christmas Day and Boxing Day
(Great Prayer Day until 2023, when it was abolished). Christmas Eve, New Year's Eve,
Constitution Day (5 June) and 1 May are in its `optional` category: not public holidays by
law, so they do not close a clinic here; a clinic that closes on them enters an absence with
the clinic (or the out-of-hours service) that covers, which is what professionals need to know.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

CATEGORIES = ("public",)
# The calendar's own language codes for ours.
_LANGUAGES = {"da": "da", "en": "en_US"}


def public_holidays(lang: str = "da") -> Mapping[date, str]:
    """Day -> the holiday's name in `lang`; any year is filled in when first asked about.
    The package (every country's calendar) is imported on first use, not at start-up."""
    import holidays

    return holidays.country_holidays(
        "DK", categories=CATEGORIES, language=_LANGUAGES.get(lang, "da")
    )
