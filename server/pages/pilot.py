"""The note-taker pilot's evidence: a page, and the same figures as CSV for the analysis.

The platform admin sees the whole pilot, each GP's figures and every consultation; a GP
sees only their own consultations and figures. Both come from the same rows, so the page
and the export never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from server.appkeys import REDIS
from server.auth.web import require_user
from server.clock import local_day, now
from server.i18n import request_language
from server.jsonerror import json_error
from server.pages.csvexport import csv_export
from server.pages.render import format_time, render
from server.pilots.evidence import EvidenceRow, Summary, by_gp, summarise, whole_pilot
from server.pilots.evidencecsv import DECIMAL_COLUMNS, csv_rows, summary_csv
from server.responses import no_store
from server.store.pilotevidence import evidence_rows, held_counts
from server.store.users import User, UserRole

NONE = "–"

EXPORTS: dict[str, Callable[[list[EvidenceRow], Mapping[str, int]], str]] = {
    "consultations": lambda rows, held: csv_rows(rows),
    "gp": lambda rows, held: summary_csv(summarise(rows, by_gp, held)),
    "pilot": lambda rows, held: summary_csv(summarise(rows, whole_pilot, held)),
}

routes = web.RouteTableDef()


async def _visible_rows(request: web.Request, user: User) -> list[EvidenceRow]:
    """The rows this user may see: all for the admin, a GP's own otherwise."""
    gp_id = None if user.role == UserRole.ADMIN else user.id
    return await evidence_rows(request.app[REDIS], gp_id=gp_id)


def _decimal(value: float | None, lang: str, places: int = 1) -> str:
    if value is None:
        return NONE
    text = f"{value:.{places}f}"
    return text.replace(".", ",") if lang == "da" else text


def _percent(rate: float | None) -> str:
    return NONE if rate is None else f"{rate * 100:.0f} %"


def _count(value: int | None) -> str:
    return NONE if value is None else str(value)


def _summary_view(s: Summary, lang: str) -> dict[str, Any]:
    return {
        "gp_names": ", ".join(s.gp_names),
        "offered": s.offered,
        "consent_given": s.consent_given,
        "consent_declined": s.consent_declined,
        "consent_withdrawn": s.consent_withdrawn,
        "drafts": s.drafts,
        "approved": s.approved,
        "discarded": s.discarded,
        "audio_minutes": _decimal(s.audio_minutes, lang),
        "median_to_draft": _decimal(s.median_seconds_to_draft, lang, 0),
        "median_to_approve": _decimal(s.median_seconds_to_approve, lang, 0),
        "mean_distance": _decimal(s.mean_distance, lang),
        "mean_edit_rate": _percent(s.mean_edit_rate),
        "sections_kept": s.sections_kept,
        "sections_changed": s.sections_changed,
        "sections_added": s.sections_added,
        "sections_removed": s.sections_removed,
        "engines": ", ".join(s.engines),
        "held": _count(s.held),
        "share_offered": _percent(s.share_offered),
        "share_used": _percent(s.share_used),
        "share_refused": _percent(s.share_refused),
        "median_end_to_approved": _decimal(s.median_seconds_end_to_approved, lang, 0),
    }


def _row_view(r: EvidenceRow, lang: str) -> dict[str, Any]:
    return {
        "consultation_id": r.consultation_id,
        "gp_name": r.gp_name,
        "engine": f"{r.engine} {r.engine_version}".strip(),
        "offered": format_time(r.offered_at, lang),
        "consent": r.consent or "none",
        "consent_ever_given": r.consent_given_at is not None,
        "audio_minutes": _decimal(r.audio_minutes, lang),
        "to_draft": _decimal(r.seconds_to_draft, lang, 0),
        "to_approve": _decimal(r.seconds_to_approve, lang, 0),
        "distance": _count(r.distance),
        "edit_rate": _percent(r.edit_rate),
        "sections_kept": _count(r.sections_kept),
        "sections_changed": _count(r.sections_changed),
        "sections_added": _count(r.sections_added),
        "sections_removed": _count(r.sections_removed),
        "discarded": r.discarded,
    }


@routes.get("/pilot/notetaker")
async def notetaker_page(request: web.Request) -> web.Response:
    user = await require_user(request, UserRole.GP, UserRole.ADMIN)
    rows = await _visible_rows(request, user)
    lang = request_language(request)
    is_admin = user.role == UserRole.ADMIN
    held = await held_counts(request.app[REDIS], {r.gp_id for r in rows})
    per_gp = sorted(summarise(rows, by_gp, held), key=lambda s: s.gp_names) if is_admin else []
    response = render(
        request,
        "pilot_notetaker.html",
        user=user,
        is_admin=is_admin,
        summary=next((_summary_view(s, lang) for s in summarise(rows, whole_pilot, held)), None),
        per_gp=[_summary_view(s, lang) for s in per_gp],
        consultations=[_row_view(r, lang) for r in rows],
    )
    return no_store(response)


@routes.get("/pilot/notetaker.csv")
async def notetaker_csv(request: web.Request) -> web.Response:
    """`?view=consultations` (one line per consultation, the default), `gp` (per GP) or
    `pilot` (one line for everything this user may see)."""
    user = await require_user(request, UserRole.GP, UserRole.ADMIN)
    view = request.query.get("view", "consultations")
    export = EXPORTS.get(view)
    if export is None:
        return json_error(
            400, "bad_view", f"view must be one of {', '.join(EXPORTS)}", views=list(EXPORTS)
        )
    rows = await _visible_rows(request, user)
    held = await held_counts(request.app[REDIS], {r.gp_id for r in rows})
    filename = f"almenvideo-notetaker-{view}-{local_day(now())}.csv"
    return csv_export(request, export(rows, held), filename, DECIMAL_COLUMNS)
