from __future__ import annotations

import pytest

from integrations.notetaker.pocketsphinx_engine import PocketsphinxEngine
from server.notetaker import registry
from server.notetaker.protocol import EngineUnavailable


def test_the_three_shipped_engines_are_found_by_entry_point() -> None:
    assert {"pocketsphinx", "http", "faster-whisper"} <= set(registry.names())


def test_pocketsphinx_is_labelled_english_only_and_not_clinical() -> None:
    found = registry.availability("pocketsphinx")
    assert found.available
    assert found.info is not None
    assert found.info.languages == ("en",)
    assert not found.info.clinical_use
    assert isinstance(registry.create("pocketsphinx"), PocketsphinxEngine)


def test_faster_whisper_without_a_model_directory_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ALMENVIDEO_WHISPER_MODEL_DIR", raising=False)
    found = registry.availability("faster-whisper")
    assert not found.available
    assert found.reason
    with pytest.raises(EngineUnavailable):
        registry.create("faster-whisper")


def test_http_engine_needs_url_and_token() -> None:
    assert not registry.availability("http").available
    assert registry.availability("http", url="ws://vendor/v1/stream", token="t").available


def test_an_unknown_engine_is_unavailable() -> None:
    with pytest.raises(EngineUnavailable, match="no note-taker engine"):
        registry.create("crystal-ball")
