"""almenvideo's API v1 as the vendor calls it: one method per operation the simulator uses."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import ClientResponse, ClientSession, ClientTimeout

TIMEOUT = ClientTimeout(total=15)


class ApiError(Exception):
    """A problem answer (RFC 9457) from the API, or an unexpected status."""

    def __init__(self, status: int, code: str, detail: str, errors: list[Any] | None = None):
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors or []


class AlmenvideoApi:
    def __init__(self, session: ClientSession, base: str, key: str) -> None:
        self.session = session
        self.base = base.rstrip("/")
        self.headers = {"Authorization": f"Bearer {key}"}

    async def _call(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        async with self.session.request(
            method, self.base + path, json=json, params=params,
            headers={**self.headers, **(headers or {})}, timeout=TIMEOUT,
        ) as response:  # fmt: skip
            return await _answer(response)

    async def book(self, booking: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """POST /api/v1/consultations; a repeat with the same key answers the same booking."""
        headers = {"Idempotency-Key": idempotency_key}
        return dict(await self._call("POST", "/api/v1/consultations", booking, headers=headers))

    async def day(self, clinic: str, day: date) -> list[dict[str, Any]]:
        found = await self._call(
            "GET", "/api/v1/consultations", params={"clinic": clinic, "date": day.isoformat()}
        )
        return list(found["consultations"])

    async def consultation(self, consultation_id: str) -> dict[str, Any]:
        return dict(await self._call("GET", f"/api/v1/consultations/{consultation_id}"))

    async def new_patient_link(self, consultation_id: str) -> str:
        made = await self._call("POST", f"/api/v1/consultations/{consultation_id}/patient-link")
        return str(made["patient_url"])

    async def embed_session(self, consultation_id: str, practitioner: str) -> dict[str, Any]:
        path = f"/api/v1/consultations/{consultation_id}/embed-session"
        return dict(await self._call("POST", path, {"practitioner": practitioner}))

    async def note(self, consultation_id: str) -> dict[str, Any]:
        return dict(await self._call("GET", f"/api/v1/consultations/{consultation_id}/note"))

    async def ack_note(self, consultation_id: str) -> None:
        await self._call("POST", f"/api/v1/consultations/{consultation_id}/note/ack")

    async def register_webhook(self, url: str) -> str:
        """PUT /api/v1/webhook; answers the new signing secret."""
        return str((await self._call("PUT", "/api/v1/webhook", json={"url": url}))["secret"])


async def _answer(response: ClientResponse) -> Any:
    if response.status == 204:
        return None
    if response.ok:
        return await response.json()
    try:
        body = await response.json(content_type=None)
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    raise ApiError(
        response.status,
        str(body.get("code", "http_error")),
        str(body.get("detail", response.reason or "")),
        body.get("errors"),
    )
