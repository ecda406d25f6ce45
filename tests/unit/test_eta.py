"""The waiting patient's expected wait: the clinic's pace and the minutes it adds up to."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.clock import now
from server.store import keys
from server.store.connection import Redis
from server.waitingroom.eta import (
    DEFAULT_CONSULTATION_SECONDS,
    GP_ONLINE_SECONDS,
    RECENT,
    clinic_pace,
    eta_minutes,
    gp_seen,
    record_duration,
    seconds_per_patient,
    waiting_view,
)
from tests.unit.factories import make_clinic

AT = 1_750_000_000.0  # a fixed instant; eta_minutes never reads the clock itself


# ---- seconds_per_patient --------------------------------------------------------------------


def test_without_history_a_consultation_takes_ten_minutes() -> None:
    assert DEFAULT_CONSULTATION_SECONDS == 600
    assert seconds_per_patient([], 1) == 600


def test_pace_is_the_median_not_the_mean() -> None:
    assert seconds_per_patient([300, 600, 3000], 1) == 600
    assert seconds_per_patient([300, 600, 900, 1200], 1) == 750


def test_gps_online_share_the_queue() -> None:
    assert seconds_per_patient([300, 600, 900], 2) == 300
    assert seconds_per_patient([], 4) == 150


def test_no_gp_online_counts_as_one() -> None:
    assert seconds_per_patient([480], 0) == 480
    assert seconds_per_patient([480], -1) == 480


# ---- eta_minutes ----------------------------------------------------------------------------


def test_first_in_line_without_an_appointment_waits_zero() -> None:
    assert eta_minutes(0, 600, None, AT) == 0


def test_wait_is_patients_ahead_times_pace_rounded_up() -> None:
    assert eta_minutes(2, 600, None, AT) == 20
    assert eta_minutes(1, 90, None, AT) == 2  # 1.5 minutes is shown as 2
    assert eta_minutes(3, 61, None, AT) == 4  # 183 s
    result = eta_minutes(1, 90.5, None, AT)
    assert isinstance(result, int)


def test_a_scheduled_patient_is_not_told_to_expect_the_doctor_early() -> None:
    # Alone in the queue, but the appointment is 5 min 1 s away.
    assert eta_minutes(0, 600, AT + 301, AT) == 6
    # One ahead (10 min) but the appointment is 25 minutes away: the appointment wins.
    assert eta_minutes(1, 600, AT + 25 * 60, AT) == 25


def test_a_long_queue_outweighs_a_near_appointment() -> None:
    assert eta_minutes(3, 600, AT + 60, AT) == 30


def test_a_late_appointment_never_gives_a_negative_wait() -> None:
    assert eta_minutes(0, 600, AT - 3600, AT) == 0
    assert eta_minutes(2, 300, AT - 3600, AT) == 10


# ---- waiting_view: what the patient is told -------------------------------------------------


def test_an_early_booked_patient_is_told_their_time_not_that_they_are_next() -> None:
    # The reported defect: "you are next" beside "about 284 min".
    view = waiting_view(1, 600, AT + 284 * 60, AT)
    assert view.appointment_at == AT + 284 * 60
    assert view.eta_minutes == 284


def test_from_the_appointment_time_on_a_booked_patient_has_a_place() -> None:
    view = waiting_view(1, 600, AT - 60, AT)
    assert (view.position, view.eta_minutes, view.appointment_at) == (1, 0, None)
    view = waiting_view(3, 600, AT, AT)
    assert (view.position, view.eta_minutes, view.appointment_at) == (3, 20, None)


def test_a_drop_in_has_a_place_and_a_wait() -> None:
    assert waiting_view(1, 600, None, AT).eta_minutes == 0
    assert waiting_view(2, 600, None, AT).eta_minutes == 10


def test_behind_someone_the_wait_is_never_short_even_at_a_zero_pace() -> None:
    assert waiting_view(2, 0, None, AT).eta_minutes == 1
    assert waiting_view(4, 0, None, AT).eta_minutes == 3


@given(
    position=st.integers(1, 500),
    pace=st.floats(0, 7200),
    start=st.none() | st.floats(AT - 86_400, AT + 86_400),
)
def test_a_place_and_a_wait_never_disagree(position: int, pace: float, start: float | None) -> None:
    view = waiting_view(position, pace, start, AT)
    if view.appointment_at is None:
        # Next in line waits "short"; anyone behind has minutes to wait.
        assert (view.position == 1) == (view.eta_minutes == 0)
        assert view.eta_minutes >= view.position - 1
    else:
        # While the appointment is ahead, the wait is never shorter than the time to it.
        assert start is not None and start > AT
        assert view.eta_minutes * 60 >= start - AT


# ---- durations and the clinic's pace in Redis -----------------------------------------------


async def test_record_duration_keeps_the_twenty_newest(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    assert RECENT == 20
    for seconds in range(1, 26):
        await record_duration(redis, clinic.id, seconds * 60.0)
    stored = await redis.lrange(keys.clinic_durations(clinic.id), 0, -1)
    assert stored == [str(s * 60) for s in range(25, 5, -1)]  # newest first


async def test_record_duration_stores_whole_seconds(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    await record_duration(redis, clinic.id, 61.4)
    await record_duration(redis, clinic.id, 299.6)
    assert await redis.lrange(keys.clinic_durations(clinic.id), 0, -1) == ["300", "61"]


async def test_clinic_pace_without_history_or_gps(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    assert await clinic_pace(redis, clinic.id) == DEFAULT_CONSULTATION_SECONDS


async def test_clinic_pace_is_the_median_of_recent_calls(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    for seconds in (300, 700, 500):
        await record_duration(redis, clinic.id, seconds)
    assert await clinic_pace(redis, clinic.id) == 500


async def test_clinic_pace_forgets_calls_older_than_the_twenty_newest(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    for _ in range(30):
        await record_duration(redis, clinic.id, 3600)  # a slow morning...
    for _ in range(RECENT):
        await record_duration(redis, clinic.id, 240)  # ...then a brisk afternoon
    assert await clinic_pace(redis, clinic.id) == 240


async def test_clinic_pace_is_shared_among_gps_online(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    for seconds in (600, 600, 600):
        await record_duration(redis, clinic.id, seconds)
    await gp_seen(redis, clinic.id, "gp-a")
    assert await clinic_pace(redis, clinic.id) == 600
    await gp_seen(redis, clinic.id, "gp-b")
    assert await clinic_pace(redis, clinic.id) == 300
    await gp_seen(redis, clinic.id, "gp-a")  # seen again: still one GP
    assert await clinic_pace(redis, clinic.id) == 300


async def test_a_gp_not_seen_lately_is_not_online(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    await record_duration(redis, clinic.id, 900)
    await gp_seen(redis, clinic.id, "gp-here")
    stale = now() - GP_ONLINE_SECONDS - 60
    await redis.zadd(keys.clinic_gps_online(clinic.id), {"gp-gone": stale})
    assert await clinic_pace(redis, clinic.id) == 900
    await gp_seen(redis, clinic.id, "gp-gone")  # their console came back
    assert await clinic_pace(redis, clinic.id) == 450


async def test_gps_of_another_clinic_do_not_count(redis: Redis) -> None:
    clinic = await make_clinic(redis)
    other = await make_clinic(redis, "Lægerne i Nørreby")
    await record_duration(redis, clinic.id, 600)
    await record_duration(redis, other.id, 60)
    for gp in ("gp-1", "gp-2", "gp-3"):
        await gp_seen(redis, other.id, gp)
    assert await clinic_pace(redis, clinic.id) == 600
    assert await clinic_pace(redis, other.id) == 20
