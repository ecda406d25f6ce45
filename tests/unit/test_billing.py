"""The billing code a GP can defend: none without the patient's media, 0126 only with
three parties at once, 0201 only when the telemetry supports that video failed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.consultations.billing import NO_CODE, PHONE, VIDEO, VIDEO_CONFERENCE, billing_code


def test_codes() -> None:
    assert (VIDEO, VIDEO_CONFERENCE, PHONE, NO_CODE) == ("0125", "0126", "0201", "")


def test_the_table() -> None:
    assert billing_code(2, patient_media=True) == "0125"
    assert billing_code(3, patient_media=True) == "0126"
    assert billing_code(5, patient_media=False) == ""  # the patient never connected
    assert billing_code(2, patient_media=False, continued_by_phone=True) == "0201"
    assert billing_code(2, True, continued_by_phone=True, video_trouble=True) == "0201"
    assert billing_code(3, True, continued_by_phone=True, video_trouble=False) == "0126"
    assert billing_code(2, True, continued_by_phone=False, video_trouble=True) == "0125"


@given(st.integers(0, 10), st.booleans(), st.booleans(), st.booleans())
def test_every_code_has_its_evidence(parties: int, media: bool, phone: bool, trouble: bool) -> None:
    code = billing_code(parties, media, phone, trouble)
    if code in (VIDEO, VIDEO_CONFERENCE):
        assert media
    if code == VIDEO_CONFERENCE:
        assert parties >= 3
    if code == PHONE:
        assert phone and (trouble or not media)
    if code == NO_CODE:
        assert not media and not phone
