"""A consultation as an Encounter: class VR, status, the call's period, the billing code."""

from __future__ import annotations

import json

import pytest

from server.fhir import systems
from server.fhir.encounter import STATUS, encounter
from server.store.consultations import Status
from tests.support.fhir import validated
from tests.unit.fhirdata import CLINIC, CPR_HASH, GP, T0, consultation


@pytest.mark.parametrize(("status", "fhir_status"), sorted(STATUS.items()))
def test_every_consultation_status_is_a_valid_virtual_encounter(
    status: str, fhir_status: str
) -> None:
    resource = validated(encounter(consultation(status=status), CLINIC, GP))

    assert resource.status == fhir_status
    assert (resource.class_fhir.system, resource.class_fhir.code) == (systems.ACT_CODE, "VR")


def test_an_ended_call_has_its_period_and_billing_code() -> None:
    resource = validated(encounter(consultation(), CLINIC, GP))

    assert resource.period.start.timestamp() == T0 + 3700
    assert resource.period.end.timestamp() == T0 + 4300
    (billing,) = resource.extension
    assert billing.url == systems.BILLING_CODE
    assert (billing.valueCoding.system, billing.valueCoding.code) == (systems.YDELSESNUMMER, "0125")
    assert resource.appointment[0].reference == "Appointment/0123456789abcdef"


def test_the_clinic_is_named_by_its_ydernummer_and_the_gp_by_user_name() -> None:
    resource = validated(encounter(consultation(), CLINIC, GP))

    provider = resource.serviceProvider.identifier
    assert (provider.system, provider.value) == ("urn:oid:1.2.208.176.1.4", "123456")
    assert resource.participant[0].individual.identifier.value == "lise.holm"
    assert resource.subject.identifier.value == "pt-77"


def test_a_call_in_progress_has_only_a_start_and_a_booking_nothing() -> None:
    running = validated(encounter(consultation(status=Status.IN_CALL, ended_at=None), CLINIC, GP))
    booked = encounter(
        consultation(status=Status.BOOKED, started_at=None, ended_at=None, billing_code=""),
        CLINIC,
        None,
    )

    assert running.period.start is not None and running.period.end is None
    assert {"period", "extension", "participant"}.isdisjoint(validated(booked).model_dump())


def test_no_cpr_hash_leaves() -> None:
    assert CPR_HASH not in json.dumps(encounter(consultation(), CLINIC, GP))
