"""`safejson.loads`: any text gives a value or `BadJSON`, never another exception."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server import safejson
from server.safejson import MAX_DEPTH, BadJSON


@given(st.text() | st.binary())
def test_any_input_parses_or_is_refused(raw: str | bytes) -> None:
    with contextlib.suppress(BadJSON):
        safejson.loads(raw)


def test_what_json_loads_reads_it_reads_alike() -> None:
    text = '{"v": 1, "type": "signal", "to": "ab", "n": [1, 2.5, null, true], "æ": "ø 😀"}'
    assert safejson.loads(text) == json.loads(text)
    assert safejson.loads(text.encode()) == json.loads(text)


def test_depth_up_to_the_limit_only() -> None:
    assert safejson.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    for deep in ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "[" * 50_000 + "]" * 50_000):
        with pytest.raises(BadJSON):
            safejson.loads(deep)
    with pytest.raises(BadJSON, match="deeper"):
        safejson.loads('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1))


@pytest.mark.parametrize(
    "text", ["NaN", "[Infinity]", '"\\ud800"', '{"\\udfff": 1}', '["a\\ud83d"]', "", "{", b"\xff"]
)
def test_not_json_we_accept(text: str | bytes) -> None:
    with pytest.raises(BadJSON):
        safejson.loads(text)


def test_a_surrogate_pair_is_a_character() -> None:
    assert safejson.loads('"\\ud83d\\ude00"') == "😀"


def test_what_goes_out_reads_back_as_it_was() -> None:
    message = {"v": 1, "type": "waiting", "position": 3, "eta_minutes": 12, "name": "Søren 😀"}
    written = safejson.dumps(message)
    assert json.loads(written) == message
    assert "Søren" in written  # UTF-8, not ASCII escapes
