"""A vendor's own webhook: where its events go, the secret they are signed with, and the
deliveries given up on.

    PUT /api/v1/webhook                 {url} -> the webhook (a new secret every time; the
                                        previous one signs too for a day, and a disabled
                                        webhook is enabled again)
    GET /api/v1/webhook                 -> {url, secret, active, disabled_at, ...}
    GET /api/v1/webhook/dead-letters    -> {dead_letters: [...]}, newest first
"""

from __future__ import annotations

import time

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from server.api.auth import require_vendor
from server.api.events import EventOut
from server.api.problems import problem
from server.api.spec import ApiRoutes
from server.api.validation import valid_body
from server.appkeys import REDIS, SETTINGS
from server.clock import iso_utc
from server.store.audit import audit
from server.store.webhooks import Webhook, get_webhook, register_webhook
from server.webhooks.destination import MAX_URL_LENGTH, WEBHOOK_URL_PATTERN, webhook_url_problem
from server.webhooks.outbox import dead_letters

routes = ApiRoutes(tag="webhooks")


class WebhookIn(BaseModel):
    # Validated with `context={"allow_local": ...}`, the development setting.
    model_config = ConfigDict(extra="forbid")

    # The pattern is the server's whole rule (server.webhooks.destination), stated here for
    # the document; the validator applies it with a message a person can act on.
    url: str = Field(
        max_length=MAX_URL_LENGTH,
        description="https:// and a DNS host name (no IP address); addresses inside our "
        "network are refused again at delivery",
        json_schema_extra={"pattern": WEBHOOK_URL_PATTERN},
    )

    @field_validator("url")
    @classmethod
    def _url(cls, url: str, info: ValidationInfo) -> str:
        allow_local = bool(info.context and info.context.get("allow_local"))
        if found := webhook_url_problem(url, allow_local):
            raise PydanticCustomError("webhook_url", found)
        return url


class WebhookOut(BaseModel):
    url: str
    secret: str = Field(description="whsec_<base64>: the HMAC key is the decoded part")
    previous_secret_signs_until: str | None = Field(
        description="after a rotation, until when deliveries carry a signature made with the "
        "previous secret too (ISO 8601 UTC); null when only `secret` signs"
    )
    active: bool = Field(description="false once the endpoint answered 410 Gone; PUT enables it")
    disabled_at: str | None = Field(description="when a 410 Gone disabled it (ISO 8601 UTC)")
    disabled_reason: str | None


def webhook_json(webhook: Webhook, now: float) -> dict[str, object]:
    overlap = webhook.still_signing(now)
    return WebhookOut(
        url=webhook.url,
        secret=webhook.secret,
        previous_secret_signs_until=iso_utc(webhook.previous_until) if overlap else None,
        active=not webhook.disabled,
        disabled_at=iso_utc(webhook.disabled_at) if webhook.disabled else None,
        disabled_reason=webhook.disabled_reason or None,
    ).model_dump(mode="json")


class DeadLetter(BaseModel):
    id: str = Field(description="the webhook-id it was sent with")
    payload: EventOut
    attempts: int
    first_attempt_at: str
    dead_at: str
    last_error: str


class DeadLetters(BaseModel):
    dead_letters: list[DeadLetter]


@routes.put(
    "/api/v1/webhook",
    summary="Register the webhook URL; answers a new signing secret",
    body=WebhookIn,
    responses={200: WebhookOut},
    errors=(422,),
)
async def put_webhook(request: web.Request) -> web.Response:
    vendor = await require_vendor(request)
    allow_local = request.app[SETTINGS].webhook_allow_local
    body = await valid_body(
        request, WebhookIn, "the webhook is not valid", context={"allow_local": allow_local}
    )
    redis = request.app[REDIS]
    webhook = await register_webhook(redis, vendor.id, body.url)
    await audit(redis, "webhook.registered", f"vendor:{vendor.id}", url=webhook.url, channel="api")
    return web.json_response(webhook_json(webhook, time.time()))


@routes.get(
    "/api/v1/webhook",
    summary="The registered webhook URL and its signing secret",
    responses={200: WebhookOut},
    errors=(404,),
)
async def get_own_webhook(request: web.Request) -> web.Response:
    vendor = await require_vendor(request)
    webhook = await get_webhook(request.app[REDIS], vendor.id)
    if webhook is None:
        raise problem(404, "no_webhook", "no webhook is registered; PUT one")
    return web.json_response(webhook_json(webhook, time.time()))


@routes.get(
    "/api/v1/webhook/dead-letters",
    summary="Deliveries given up on after a day of failures, newest first",
    responses={200: DeadLetters},
)
async def list_dead_letters(request: web.Request) -> web.Response:
    vendor = await require_vendor(request)
    found = await dead_letters(request.app[REDIS], vendor.id)
    return web.json_response({"dead_letters": found})
