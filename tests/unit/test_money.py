from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.pilots.money import (
    MAX_ORE,
    BadAmount,
    format_kroner,
    parse_kroner,
    plain,
    typed_kroner,
)


@given(st.integers(-MAX_ORE, MAX_ORE), st.sampled_from(("da", "en")))
def test_kroner_read_back_to_the_same_ore(ore: int, lang: str) -> None:
    assert parse_kroner(format_kroner(ore, lang), lang) == ore


@given(st.integers(-MAX_ORE, MAX_ORE), st.sampled_from(("da", "en")))
def test_a_typed_amount_reads_back_to_the_same_ore(ore: int, lang: str) -> None:
    typed = typed_kroner(ore, lang)
    assert "kr" not in typed and "DKK" not in typed
    assert parse_kroner(typed, lang) == ore


@given(st.integers(-MAX_ORE, MAX_ORE))
def test_the_csv_form_is_exact(ore: int) -> None:
    kroner, _, decimals = plain(ore).partition(".")
    assert len(decimals) == 2
    assert int(kroner.lstrip("-") + decimals) * (-1 if ore < 0 else 1) == ore


@pytest.mark.parametrize(
    ("text", "lang", "ore"),
    [
        ("1.234,56", "da", 123456),
        ("1234,5", "da", 123450),
        ("0,10", "da", 10),
        ("600.000 kr", "da", 60000000),
        ("-12,00", "da", -1200),
        ("1,234.56", "en", 123456),
        ("DKK 1234.5", "en", 123450),
    ],
)
def test_what_people_type_is_read_exactly(text: str, lang: str, ore: int) -> None:
    assert parse_kroner(text, lang) == ore


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("1.2", "da"),
        ("1.234,567", "da"),
        ("12,34", "en"),
        ("1,2,3", "da"),
        ("abc", "en"),
        ("", "da"),
    ],
)
def test_ambiguous_or_malformed_amounts_are_refused(text: str, lang: str) -> None:
    with pytest.raises(BadAmount):
        parse_kroner(text, lang)
