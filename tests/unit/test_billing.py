from __future__ import annotations

import pytest

from server.consultations.billing import PHONE, VIDEO, VIDEO_CONFERENCE, billing_code


def test_codes() -> None:
    assert (VIDEO, VIDEO_CONFERENCE, PHONE) == ("0125", "0126", "0201")


@pytest.mark.parametrize(("parties", "code"), [(1, "0125"), (2, "0125"), (3, "0126"), (5, "0126")])
def test_code_by_number_of_parties(parties: int, code: str) -> None:
    assert billing_code(parties) == code


@pytest.mark.parametrize("parties", [1, 2, 3])
def test_continued_by_phone_is_always_0201(parties: int) -> None:
    assert billing_code(parties, continued_by_phone=True) == "0201"
