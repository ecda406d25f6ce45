from __future__ import annotations

import pytest

from server.waitingroom.names import MAX_LENGTH, NameProblem, clean_display_name


def problem(raw: object) -> str:
    with pytest.raises(NameProblem) as caught:
        clean_display_name(raw)
    return caught.value.code


def test_whitespace_is_trimmed_and_collapsed() -> None:
    assert clean_display_name("  Karen \t  Jensen \n") == "Karen Jensen"


def test_danish_letters_are_kept() -> None:
    assert clean_display_name("Søren Æbelø Åberg") == "Søren Æbelø Åberg"


def test_decomposed_letters_are_normalised_to_nfc() -> None:
    assert clean_display_name("A\u030ase") == "\u00c5se"


@pytest.mark.parametrize("raw", ["", "   ", "\n\t"])
def test_empty_name_is_required(raw: str) -> None:
    assert problem(raw) == "name_required"


def test_too_long() -> None:
    assert clean_display_name("x" * MAX_LENGTH) == "x" * MAX_LENGTH
    assert problem("x" * (MAX_LENGTH + 1)) == "name_too_long"


def test_length_counts_after_collapsing_whitespace() -> None:
    assert clean_display_name("a" + " " * 200 + "b") == "a b"


@pytest.mark.parametrize("raw", ["Karen\x00Jensen", "Karen\x07", "Karen\u200bJensen", "\x1b[31mX"])
def test_control_and_format_characters_are_rejected(raw: str) -> None:
    assert problem(raw) == "invalid_name"


@pytest.mark.parametrize("raw", [None, 42, ["Karen"], {"name": "Karen"}])
def test_non_strings_are_rejected(raw: object) -> None:
    assert problem(raw) == "invalid_name"


@pytest.mark.parametrize(
    "raw",
    [
        "010190-1234",
        "0101901234",
        "010190 - 1234",
        "Karen 010190-1234",
        "Karen Jensen 0101901234 x",
        "０１０１９０-１２３４",  # fullwidth digits
    ],
)
def test_cpr_looking_text_is_rejected(raw: str) -> None:
    assert problem(raw) == "name_looks_like_cpr"


@pytest.mark.parametrize("raw", ["Karen 2", "Jensen 01-01-90", "12345 Karen"])
def test_a_few_digits_are_fine(raw: str) -> None:
    assert clean_display_name(raw) == raw
