"""`call.report`: what a browser may say about its connection, and nothing more."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.signalling.callreports import CallReport
from server.signalling.messages import ProtocolError, parse_client_message

GOOD: dict[str, Any] = {
    "v": 1,
    "type": "call.report",
    "peer": "p-1",
    "phase": "media",
    "media": True,
    "local_candidate": "relay",
    "remote_candidate": "srflx",
    "transport": "tls",
    "ice_restarts": 2,
    "media_ms": 1200,
    "rtt_ms": 40,
    "loss_per_mille": 3,
    "inbound_kbps": 900,
    "outbound_kbps": 850,
}


def test_a_full_report_parses() -> None:
    report = parse_client_message(json.dumps(GOOD))
    assert isinstance(report, CallReport)
    assert (report.local_candidate, report.transport, report.ice_restarts) == ("relay", "tls", 2)


def test_only_the_peer_phase_and_media_are_required() -> None:
    least = {"v": 1, "type": "call.report", "peer": "p-1", "phase": "update", "media": False}
    report = parse_client_message(json.dumps(least))
    assert report.failure is None and report.rtt_ms is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("peer", "Karen Jensen"),
        ("phase", "started"),
        ("local_candidate", "Karen Jensen"),
        ("remote_candidate", "relayed"),
        ("transport", "quic"),
        ("failure", "the patient said the camera broke"),
        ("ice_restarts", -1),
        ("ice_restarts", 1_001),
        ("media_ms", 3_600_001),
        ("rtt_ms", 60_001),
        ("loss_per_mille", 1_001),
        ("inbound_kbps", 100_001),
        ("outbound_kbps", -5),
        ("media", "yes please"),
        ("note", "free text"),
    ],
)
def test_anything_outside_the_bounds_is_refused(field: str, value: object) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_client_message(json.dumps({**GOOD, field: value}))
    assert caught.value.code == "invalid_message"


def test_every_seat_role_may_send_it_in_a_call() -> None:
    from server.signalling.clinician import ClinicianRole
    from server.signalling.patient import PatientRole
    from server.signalling.professional import ProfessionalRole

    for role in (ClinicianRole, PatientRole, ProfessionalRole):
        assert CallReport in role.handlers
