from __future__ import annotations

from server.notetaker.consent import CURRENT, TEXTS


def test_the_current_text_is_a_stored_version_in_danish_and_english() -> None:
    assert TEXTS[CURRENT.version] is CURRENT
    assert CURRENT.text("da") != CURRENT.text("en")
    for text in (CURRENT.da, CURRENT.en):
        assert len(text) > 200  # says what is recorded, who reads it, deletion, voluntariness
    assert "frivilligt" in CURRENT.da and "voluntary" in CURRENT.en
