"""A consultation as an Appointment: valid R4, status, times, people and the virtual service."""

from __future__ import annotations

import json

import pytest

from server.fhir import systems
from server.fhir.appointment import STATUS, appointment
from server.store.consultations import Kind
from tests.support.fhir import validated
from tests.unit.fhirdata import CPR_HASH, GP, T0, consultation

CONSOLE = "https://almenvideo.example/console"


@pytest.mark.parametrize(("status", "fhir_status"), sorted(STATUS.items()))
def test_every_consultation_status_is_a_valid_appointment(status: str, fhir_status: str) -> None:
    resource = validated(appointment(consultation(status=status), GP, CONSOLE))

    assert resource.status == fhir_status


def test_the_booked_time_and_the_people() -> None:
    resource = validated(appointment(consultation(), GP, CONSOLE))

    assert resource.start.timestamp() == T0 + 3600
    assert resource.end.timestamp() == T0 + 3600 + 15 * 60
    assert resource.minutesDuration == 15
    patient, gp = (p.actor for p in resource.participant)
    assert (patient.type, patient.identifier.value) == ("Patient", "pt-77")
    assert patient.identifier.system == f"{systems.OURS}/NamingSystem/vendor/vendor-1/patient"
    assert (gp.type, gp.identifier.value, gp.display) == (
        "Practitioner",
        "lise.holm",
        GP.display_name,
    )
    assert resource.identifier[0].value == "lps-booking-9"
    assert resource.serviceType[0].coding[0].code == "video"
    assert resource.appointmentType.coding[0].code == "ROUTINE"


def test_the_virtual_service_names_the_room_and_the_clinicians_way_in() -> None:
    resource = validated(appointment(consultation(), GP, CONSOLE))

    (service,) = [e for e in resource.extension if e.url == systems.VIRTUAL_SERVICE]
    parts = {e.url: e for e in service.extension}
    assert parts["channelType"].valueCoding.code == "video"
    assert parts["address"].valueUrl == CONSOLE
    assert parts["sessionKey"].valueString == "0123456789abcdef"


def test_a_drop_in_starts_when_the_patient_came_and_is_a_walk_in() -> None:
    c = consultation(kind=Kind.DROP_IN, scheduled_start=None, created_at=T0, patient_ref="")
    resource = validated(appointment(c, None, CONSOLE))

    assert resource.start.timestamp() == T0
    assert resource.appointmentType.coding[0].code == "WALKIN"
    (patient,) = (p.actor for p in resource.participant)
    assert (patient.display, patient.identifier) == ("Karen Jensen", None)


def test_no_cpr_and_no_hash_of_it_ever_leave() -> None:
    text = json.dumps(appointment(consultation(), GP, CONSOLE))

    assert CPR_HASH not in text
    assert "1.2.208.176.1.2" not in text  # DK Core's CPR namespace
