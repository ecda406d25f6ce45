from __future__ import annotations

from server.phone import phone_ok, tel_uri


def test_phone_numbers_as_typed() -> None:
    assert phone_ok("+45 86 15 00 00")
    assert phone_ok("86150000")
    assert not phone_ok("(+45) 8615-0000")  # a plus comes first or not at all
    assert not phone_ok("1234567")
    assert not phone_ok("ring til os")


def test_tel_uri_keeps_only_the_plus_and_the_digits() -> None:
    assert tel_uri("+45 86 15 00 00") == "tel:+4586150000"
    assert tel_uri("86-15-00-00") == "tel:86150000"
