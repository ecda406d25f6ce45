"""An absence is one action whichever channel asks: added and removed on the clinic's
settings page by a GP, or through the API by the clinic's LPS vendor, it is audited and
announced alike; only the actor and the channel differ."""

from __future__ import annotations

from server.store.absences import list_absences
from server.store.audit import read_audit
from server.store.connection import Redis
from server.store.events import read_events
from tests.integration.helpers import Client, browser, login, make_gp, origin
from tests.integration.test_clinic_settings import absence_form
from tests.integration.test_directory import absence_body, bearer, make_listed_clinic, vendor_for


async def test_the_page_and_the_api_record_an_absence_alike(client: Client, redis: Redis) -> None:
    clinic = await make_listed_clinic(redis)
    gp = await make_gp(redis, clinic)
    vendor, key = await vendor_for(redis, clinic)

    async with browser(client) as session:
        await login(session, gp.username)
        headers = {"Origin": origin(client)}
        added = await session.post(
            "/clinic/absences", data=absence_form(), headers=headers, allow_redirects=False
        )
        assert added.headers["Location"] == "/clinic/settings?done=added"
        [by_page] = await list_absences(redis, clinic.id)
        removed = await session.post(
            f"/clinic/absences/{by_page.id}/remove", headers=headers, allow_redirects=False
        )
        assert removed.headers["Location"] == "/clinic/settings?done=removed"

    path = f"/api/v1/clinics/{clinic.ydernummer}/absences"
    created = await (await client.post(path, json=absence_body(), headers=bearer(key))).json()
    assert (await client.delete(f"{path}/{created['id']}", headers=bearer(key))).status == 204

    page_ids = {"clinic_id": clinic.id, "absence_id": by_page.id}
    api_ids = {"clinic_id": clinic.id, "absence_id": created["id"]}
    audited = [
        (e.action, e.actor, e.data)
        for e in await read_audit(redis)
        if e.action.startswith("absence.")
    ]
    assert audited == [
        ("absence.added", f"user:{gp.id}", page_ids | {"channel": "web"}),
        ("absence.removed", f"user:{gp.id}", page_ids | {"channel": "web"}),
        ("absence.added", f"vendor:{vendor.id}", api_ids | {"channel": "api"}),
        ("absence.removed", f"vendor:{vendor.id}", api_ids | {"channel": "api"}),
    ]
    events = [(kind, data) for _, kind, data in await read_events(redis)]
    assert events == [
        ("absence.added", page_ids | {"by": gp.id}),
        ("absence.removed", page_ids | {"by": gp.id}),
        ("absence.added", api_ids | {"vendor": vendor.id}),
        ("absence.removed", api_ids | {"vendor": vendor.id}),
    ]
