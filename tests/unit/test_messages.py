"""Signalling protocol v1: what parses, what is refused with which code, and the schema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.signalling import messages as m
from server.signalling.mediamessages import SessionDescription
from server.signalling.messages import ProtocolError, dump, json_schema, parse_client_message

TOKEN = "Zq3v8Yc1m0pWn4rTx7bLk2dHs9gFj6aE"


def refused(raw: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse_client_message(raw)
    return caught.value


def frame(**fields: Any) -> str:
    return json.dumps({"v": 1, **fields})


@pytest.mark.parametrize("raw", ["", "{", "not json", "{'v': 1}", "\x00"])
def test_malformed_json(raw: str) -> None:
    assert refused(raw).code == "malformed"


@pytest.mark.parametrize("raw", ["[]", "1", '"hello"', "null", '[{"v":1,"type":"hello"}]'])
def test_non_object(raw: str) -> None:
    assert refused(raw).code == "malformed"


@pytest.mark.parametrize("version", [None, 0, 2, "1"])
def test_wrong_version(version: object) -> None:
    body: dict[str, object] = {"type": "hello", "ref": "r1"}
    if version is not None:
        body["v"] = version
    error = refused(json.dumps(body))
    assert error.code == "unsupported_version"
    assert error.ref == "r1"


@pytest.mark.parametrize("kind", ["nope", "welcome", "HELLO", None, 3, [1], {"a": 1}])
def test_unknown_type(kind: object) -> None:
    error = refused(frame(type=kind, ref="r2"))
    assert error.code == "unknown_type"
    assert error.ref == "r2"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "admit"},
        {"type": "admit", "consultation_id": ""},
        {"type": "admit", "consultation_id": "../etc"},
        {"type": "hello", "link": "short"},
        {"type": "media.state", "audio": "loud", "video": True},
        {"type": "signal", "to": "p1", "description": {"type": "pranswer", "sdp": "v=0"}},
        {"type": "signal", "to": "p1", "description": {"type": "offer", "sdp": "x" * 60_001}},
        {"type": "signal", "to": "p1", "candidate": {"candidate": "c", "sdpMLineIndex": -1}},
    ],
)
def test_invalid_field(body: dict[str, object]) -> None:
    error = refused(frame(ref="r3", **body))
    assert error.code == "invalid_message"
    assert error.ref == "r3"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "leave", "extra": 1},
        {"type": "hello", "link": TOKEN, "resume": TOKEN, "role": "gp"},
        {"type": "signal", "to": "p1", "description": {"type": "offer", "sdp": "v=0", "x": 1}},
    ],
)
def test_extra_field_rejected(body: dict[str, object]) -> None:
    error = refused(frame(**body))
    assert error.code == "invalid_message"


def test_invalid_message_names_the_field() -> None:
    error = refused(frame(type="admit", consultation_id="no spaces allowed"))
    assert "consultation_id" in error.message


def test_ref_is_echoed_only_when_it_is_a_string() -> None:
    assert refused(json.dumps({"v": 9, "ref": 5})).ref is None
    assert refused(json.dumps({"v": 9, "ref": "abc"})).ref == "abc"


def test_an_oversized_ref_is_not_echoed() -> None:
    # The reply's ref is limited to 64 characters like the request's; echoing a longer one
    # would make the error reply itself invalid.
    long_ref = "r" * 65
    assert refused(json.dumps({"v": 9, "ref": long_ref})).ref is None
    assert refused(frame(type="leave", ref=long_ref)).ref is None
    error = refused(frame(type="leave", ref=long_ref))
    m.Error(code=error.code, message=error.message, ref=error.ref)


def test_hello_patient_and_gp() -> None:
    patient = parse_client_message(frame(type="hello", link=TOKEN, resume=TOKEN, ref="a"))
    assert isinstance(patient, m.Hello)
    assert (patient.link, patient.resume, patient.ref) == (TOKEN, TOKEN, "a")
    gp = parse_client_message(frame(type="hello"))
    assert isinstance(gp, m.Hello)
    assert gp.link is None and gp.resume is None


def test_valid_messages_parse_to_their_models() -> None:
    cases: list[tuple[dict[str, Any], type[m.BaseModel]]] = [
        ({"type": "admit", "consultation_id": "c1"}, m.Admit),
        ({"type": "rejoin", "consultation_id": "c1"}, m.Rejoin),
        ({"type": "media.state", "audio": False, "video": True}, m.MediaState),
        ({"type": "leave"}, m.Leave),
        ({"type": "end", "consultation_id": "c1", "continued_by_phone": True}, m.End),
        ({"type": "signal", "to": "p1", "description": {"type": "offer", "sdp": "v=0"}}, m.Signal),
        (
            {
                "type": "signal",
                "to": "p1",
                "candidate": {"candidate": "candidate:1", "sdpMid": "0", "sdpMLineIndex": 0},
            },
            m.Signal,
        ),
    ]
    for body, model in cases:
        assert isinstance(parse_client_message(frame(**body)), model)


def test_end_defaults_to_not_by_phone() -> None:
    msg = parse_client_message(frame(type="end", consultation_id="c1"))
    assert isinstance(msg, m.End)
    assert msg.continued_by_phone is False


def test_relayed_signal_serialises_from() -> None:
    out = dump(
        m.RelayedSignal(from_="p1", description=SessionDescription(type="answer", sdp="v=0\r\n"))
    )
    assert out == {
        "v": 1,
        "type": "signal",
        "from": "p1",
        "description": {"type": "answer", "sdp": "v=0\r\n"},
    }


def test_dump_leaves_out_nones() -> None:
    assert dump(m.Welcome(role="gp", connection_id="c1", state="idle")) == {
        "v": 1,
        "type": "welcome",
        "role": "gp",
        "connection_id": "c1",
        "state": "idle",
    }


def test_json_schema_contains_both_directions() -> None:
    schema = json_schema()
    assert schema["version"] == 1
    client = json.dumps(schema["client_to_server"])
    server = json.dumps(schema["server_to_client"])
    for kind in ("hello", "admit", "rejoin", "signal", "media.state", "leave", "end"):
        assert f'"{kind}"' in client
    for kind in (
        "error",
        "welcome",
        "clinic.state",
        "waiting",
        "call.joined",
        "peer.joined",
        "peer.left",
        "signal",
        "media.state",
        "left",
        "call.ended",
        "superseded",
    ):
        assert f'"{kind}"' in server
    assert '"from"' in server  # the serialised name, not the Python one
    assert '"from_"' not in server
    json.dumps(schema)  # serialisable as the CLI prints it


def test_the_fast_waiting_message_is_the_schema_message() -> None:
    assert m.waiting_message(3, 12, None) == dump(m.Waiting(position=3, eta_minutes=12))
    fast = m.waiting_message(1, 40, 1_750_000_000.0)
    assert fast == dump(m.Waiting(position=1, eta_minutes=40, appointment_at=1_750_000_000.0))
