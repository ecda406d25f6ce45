"""The simulator's pages: the calendar that books, a consultation with its patient link and
note, the GP's view framed in the page, and the webhooks received."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import ClientError, web
from yarl import URL

from integrations.lps.simulator.api import ApiError
from integrations.lps.simulator.appkeys import API, CONFIG, RECORD, TEMPLATES
from integrations.lps.simulator.filing import NotApproved, file_note

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
SLOT_MINUTES = 5
# Our own pages frame nothing; the video page frames almenvideo's origin only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "frame-src {frame}"
)


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    config = request.app[CONFIG]
    html = request.app[TEMPLATES].get_template(template).render(config=config, **context)
    return web.Response(text=html, status=status, content_type="text/html")


def problem_text(error: Exception) -> str:
    if isinstance(error, ApiError):
        fields = "; ".join(f"{e['field']}: {e['message']}" for e in error.errors)
        return f"{error.detail} ({error.code}{', ' + fields if fields else ''})"
    return str(error) or type(error).__name__


def _next_slot() -> datetime:
    at = datetime.now(COPENHAGEN) + timedelta(minutes=SLOT_MINUTES)
    return at.replace(minute=at.minute - at.minute % SLOT_MINUTES, second=0, microsecond=0)


def _booking_form(values: dict[str, str] | None = None) -> dict[str, str]:
    """A fresh form carries its own Idempotency-Key and booking id, so sending it twice (a
    double click, a reload) books once."""
    slot = _next_slot()
    return {
        "patient_name": "",
        "patient_reference": f"pt-{secrets.randbelow(900000) + 100000}",
        "date": slot.date().isoformat(),
        "time": slot.strftime("%H:%M"),
        "duration": "15",
        "kind": "video",
        "idempotency_key": secrets.token_urlsafe(16),
        "external_id": f"sim-{secrets.token_hex(6)}",
        **(values or {}),
    }


def local_time(iso: str) -> str:
    """A received ISO timestamp (UTC on the wire) on the practice's clock."""
    try:
        return datetime.fromisoformat(iso).astimezone(COPENHAGEN).strftime("%d.%m.%Y %H:%M:%S")
    except ValueError:
        return iso


def clock(iso: str | None) -> str:
    return datetime.fromisoformat(iso).astimezone(COPENHAGEN).strftime("%H:%M") if iso else ""


async def calendar(request: web.Request, form: dict[str, str] | None = None) -> web.Response:
    config = request.app[CONFIG]
    day = _day(request.query.get("date"))
    error = ""
    try:
        booked = await request.app[API].day(config.clinic, day)
    except (ApiError, ClientError) as failure:
        booked, error = [], problem_text(failure)
    return render(
        request, "calendar.html", status=422 if form else 200, day=day, booked=booked,
        clock=clock, form=_booking_form(form), error=form.get("error", "") if form else error,
    )  # fmt: skip


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else datetime.now(COPENHAGEN).date()
    except ValueError:
        return datetime.now(COPENHAGEN).date()


async def calendar_page(request: web.Request) -> web.Response:
    return await calendar(request)


async def book(request: web.Request) -> web.Response:
    form = {k: str(v) for k, v in (await request.post()).items()}
    config = request.app[CONFIG]
    try:
        start = datetime.fromisoformat(f"{form['date']}T{form['time']}").replace(tzinfo=COPENHAGEN)
        booking = {
            "external_id": form["external_id"],
            "clinic": config.clinic,
            "practitioner": config.practitioner,
            "patient": {
                "reference": form["patient_reference"],
                "display_name": form["patient_name"],
            },
            "kind": form.get("kind", "video"),
            "scheduled_start": start.isoformat(),
            "duration_minutes": int(form.get("duration", "15")),
        }
        made = await request.app[API].book(booking, form["idempotency_key"])
    except (ApiError, ClientError, KeyError, ValueError) as failure:
        return await calendar(request, {**form, "error": problem_text(failure)})
    if made.get("patient_url"):  # only the first answer carries it; a replay repeats it
        request.app[RECORD].patient_links[made["id"]] = made["patient_url"]
    raise web.HTTPSeeOther(f"/consultations/{made['id']}")


async def consultation_page(request: web.Request, message: str = "") -> web.Response:
    consultation_id = request.match_info["consultation_id"]
    record = request.app[RECORD]
    try:
        consultation = await request.app[API].consultation(consultation_id)
    except (ApiError, ClientError) as failure:
        return render(request, "failure.html", status=502, error=problem_text(failure))
    return render(
        request, "consultation.html", c=consultation, clock=clock, message=message,
        patient_url=record.patient_links.get(consultation_id),
        note=record.notes.get(consultation_id),
    )  # fmt: skip


async def new_patient_link(request: web.Request) -> web.Response:
    consultation_id = request.match_info["consultation_id"]
    try:
        url = await request.app[API].new_patient_link(consultation_id)
    except (ApiError, ClientError) as failure:
        return await consultation_page(request, problem_text(failure))
    request.app[RECORD].patient_links[consultation_id] = url
    raise web.HTTPSeeOther(f"/consultations/{consultation_id}")


async def file_note_post(request: web.Request) -> web.Response:
    consultation_id = request.match_info["consultation_id"]
    try:
        await file_note(request.app[API], request.app[RECORD], consultation_id)
    except (ApiError, ClientError, NotApproved) as failure:
        return await consultation_page(request, problem_text(failure))
    raise web.HTTPSeeOther(f"/consultations/{consultation_id}")


async def video_page(request: web.Request) -> web.Response:
    """Asks for a single-use embed URL and frames it; the page's script logs what the GP's
    view tells it and sends `end-call`."""
    consultation_id = request.match_info["consultation_id"]
    config = request.app[CONFIG]
    try:
        consultation = await request.app[API].consultation(consultation_id)
        session = await request.app[API].embed_session(consultation_id, config.practitioner)
    except (ApiError, ClientError) as failure:
        return render(request, "failure.html", status=502, error=problem_text(failure))
    origin = str(URL(session["url"]).origin())
    response = render(
        request, "video.html", c=consultation, clock=clock, embed_url=session["url"],
        host_config={"origin": origin},
    )  # fmt: skip
    response.headers["Content-Security-Policy"] = CSP.format(frame=origin)
    response.headers["Cache-Control"] = "no-store"  # the URL works once
    return response


async def events_page(request: web.Request) -> web.Response:
    return render(request, "events.html", record=request.app[RECORD])
