"""Patients and GPs as plain WebSocket clients of real server processes: what a browser's
signalling does, without the browser, for many clients or for faults.

`populate` books patients who have already accepted the terms (a link and a resume token
each); `PatientSocket` waits in the queue and, like the page, reconnects with its resume
token whenever its socket drops; `GpView` keeps the list a GP's console shows.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from server.auth.tokens import new_token
from server.consultations.links import issue_link
from server.store.clinics import create_clinic
from server.store.connection import Redis
from server.store.consultations import Kind, create_consultation
from server.store.participants import issue_resume_token, patient_seat
from server.store.users import create_user

RECONNECT_SECONDS = 1.0


@dataclass
class Booked:
    consultation_id: str
    link: str
    resume: str


@dataclass
class Clinic:
    id: str
    gp_username: str
    gp_password: str
    patients: list[Booked]


async def populate(redis: Redis, index: int, patients: int) -> Clinic:
    """A clinic, one GP and `patients` booked a minute apart, an hour from now."""
    clinic = await create_clinic(redis, f"Test Klinik {index}", f"9{index:05d}")
    password = new_token()
    gp = await create_user(redis, f"gp-{index}", password, f"Dr. {index}", "gp", clinic.id)
    start = time.time() + 3600
    booked = []
    for n in range(patients):
        c = await create_consultation(
            redis, clinic.id, Kind.SCHEDULED, scheduled_start=start + n * 60
        )
        link, c = await issue_link(redis, c)
        seat = await patient_seat(redis, c.id, f"Patient {n}")
        resume = await issue_resume_token(redis, seat, f"Patient {n}", "test")
        booked.append(Booked(c.id, link, resume))
    return Clinic(clinic.id, gp.username, password, booked)


@dataclass
class PatientSocket:
    """A waiting patient's page: its last place, whether it was sent away, reconnects. Like a
    load balancer that drops an instance which does not answer, a connection that fails
    moves on to the next of `also` (the other instances)."""

    booked: Booked
    url: str
    also: list[str] = field(default_factory=list)
    position: int | None = None
    removed: bool = False
    connects: int = 0
    waiting: asyncio.Event = field(default_factory=asyncio.Event)
    _ws: aiohttp.ClientWebSocketResponse | None = None

    async def run(self, session: aiohttp.ClientSession) -> None:
        while not self.removed:
            try:
                self._ws = await session.ws_connect(f"{self.url}/ws", heartbeat=None)
                self.connects += 1
                hello = {"v": 1, "type": "hello"}
                await self._ws.send_json(
                    {**hello, "link": self.booked.link, "resume": self.booked.resume}
                )
                async for message in self._ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        self._read(json.loads(message.data))
            except aiohttp.ClientConnectorError:
                if self.also:
                    self.also.append(self.url)
                    self.url = self.also.pop(0)
            except (aiohttp.ClientError, OSError):
                pass
            self.position = None
            self.waiting.clear()
            await asyncio.sleep(RECONNECT_SECONDS)

    def _read(self, message: dict[str, Any]) -> None:
        if message["type"] == "waiting":
            self.position = message["position"]
            self.waiting.set()
        elif message["type"] == "removed":
            self.removed = True

    async def leave(self) -> None:
        """The patient presses "leave": out of the queue at once."""
        self.removed = True
        if self._ws is not None:
            await self._ws.send_json({"v": 1, "type": "leave"})

    def vanish(self) -> None:
        """The patient is gone without a word: when the socket drops, nothing reconnects."""
        self.removed = True

    async def close(self) -> None:
        """The patient closes the tab: gone for good."""
        self.removed = True
        if self._ws is not None:
            await self._ws.close()


@dataclass
class GpView:
    """The waiting list a GP's console shows, kept from its socket's messages."""

    waiting: set[str] = field(default_factory=set)
    connected: dict[str, bool] = field(default_factory=dict)  # as the cards show it
    snapshots: int = 0
    online: bool = False  # its socket is open and has had its clinic

    async def run(self, session: aiohttp.ClientSession, url: str, clinic: Clinic) -> None:
        form = {"username": clinic.gp_username, "password": clinic.gp_password}
        async with session.post(f"{url}/login", data=form, allow_redirects=False) as response:
            cookie = response.cookies["av_session"].value  # Secure: a jar keeps it back on http
        headers = {"Cookie": f"av_session={cookie}"}
        async with session.ws_connect(f"{url}/ws", heartbeat=None, headers=headers) as ws:
            await ws.send_json({"v": 1, "type": "hello"})
            try:
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        self._read(json.loads(message.data))
            finally:
                self.online = False

    async def keep(self, session: aiohttp.ClientSession, urls: list[str], clinic: Clinic) -> None:
        """A console left open: when its socket drops it reconnects (and gets its clinic
        anew), moving on to the next instance when one does not answer."""
        urls = list(urls)
        while True:
            try:
                await self.run(session, urls[0], clinic)
            except aiohttp.ClientConnectorError:
                urls.append(urls.pop(0))
            except (aiohttp.ClientError, OSError, KeyError, ValueError):
                pass  # KeyError: a login answered without its cookie (Redis was away)
            await asyncio.sleep(RECONNECT_SECONDS)

    def _read(self, message: dict[str, Any]) -> None:
        match message["type"]:
            case "clinic.state":
                self.waiting = {entry["consultation_id"] for entry in message["waiting"]}
                self.connected = {e["consultation_id"]: e["connected"] for e in message["waiting"]}
                self.snapshots += 1
                self.online = True
            case "queue.entry":
                entry = message["entry"]
                self.waiting.add(entry["consultation_id"])
                self.connected[entry["consultation_id"]] = entry["connected"]
            case "queue.removed":
                self.waiting.discard(message["consultation_id"])
                self.connected.pop(message["consultation_id"], None)
