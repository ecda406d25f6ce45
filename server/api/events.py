"""The polling fallback for webhooks: the same payloads, for the vendor's clinics.

    GET /api/v1/events?after=<cursor>&limit=100   -> {"events": [...], "next": "<cursor>"}

Start without `after` (or with `0-0`) for everything the stream still holds, then pass the
`next` of each answer. An empty `events` with the same `next` means nothing new yet.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from server.api.auth import require_vendor
from server.api.spec import ApiRoutes
from server.api.validation import valid_query
from server.appkeys import REDIS
from server.webhooks.polling import CURSOR_PATTERN, START, cursor_ok, events_after

routes = ApiRoutes(tag="events")


class EventData(BaseModel):
    consultation_id: str | None
    clinic: str = Field(description="the clinic's ydernummer")
    reason: str | None = Field(None, description="patient.left: left, vanished, removed, …")
    duration_seconds: int | None = Field(None, description="call.ended")
    participants: int | None = Field(None, description="call.ended: most parties at once")
    billing_code: str | None = Field(
        None, description="call.ended: 0125, 0126 or 0201; empty when no code applies"
    )


class EventOut(BaseModel):
    """One event, exactly as the webhook delivering it carries it."""

    id: str = Field(description="the event id: the polling cursor and the webhook-id")
    type: str
    timestamp: str = Field(description="when it happened, ISO 8601 UTC")
    data: EventData


class EventsPage(BaseModel):
    events: list[EventOut]
    next: str = Field(description="pass as `after` to continue")


class EventsQuery(BaseModel):
    # The pattern is the whole rule (two unsigned 64-bit numbers), stated for the document;
    # the validator applies the same pattern with a message a person can act on.
    after: Annotated[
        str,
        Field(
            description="a cursor: an earlier answer's `next`, or 0-0 for the oldest",
            json_schema_extra={"pattern": CURSOR_PATTERN},
        ),
    ] = START
    limit: Annotated[int, Field(ge=1, le=1000)] = 100

    @field_validator("after")
    @classmethod
    def _cursor(cls, after: str) -> str:
        if not cursor_ok(after):
            raise PydanticCustomError("cursor", "a cursor from a previous answer's `next`")
        return after


@routes.get(
    "/api/v1/events",
    summary="Events for the vendor's clinics after a cursor, oldest first (webhook fallback)",
    query=EventsQuery,
    responses={200: EventsPage},
    errors=(422,),
)
async def list_events(request: web.Request) -> web.Response:
    vendor = await require_vendor(request)
    query = valid_query(request, EventsQuery)
    events, cursor = await events_after(
        request.app[REDIS], vendor.clinic_ids, query.after, query.limit
    )
    return web.json_response({"events": events, "next": cursor})
