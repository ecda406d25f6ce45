"""The admin's audit viewer: filters by action, actor, id and day, and a CSV of the same."""

from __future__ import annotations

import csv
import io

from server.store.audit import audit
from server.store.connection import Redis
from server.store.users import create_user
from tests.integration.helpers import GP_PASSWORD, Client, book, browser, login


async def test_the_admin_filters_the_audit_and_downloads_it(client: Client, redis: Redis) -> None:
    await audit(redis, "note.read", "user:gp-1", consultation_id="c-1", clinic_id="k-1")
    await audit(redis, "note.read", "vendor:v-1", consultation_id="c-2", clinic_id="k-1")
    await audit(redis, "directory.viewed", "user:gp-1", clinic_id="k-2")
    await audit(redis, "consultation.day_read", "vendor:v-1", consultation_ids=["c-1", "c-3"])
    await create_user(redis, "root", GP_PASSWORD, "Root", "admin")
    async with browser(client) as admin:
        await login(admin, "root")
        page = await (await admin.get("/admin/audit?subject=c-1")).text()
        assert page.count('data-testid="audit-entry"') == 2
        assert "consultation.day_read" in page and "c-2" not in page
        page = await (await admin.get("/admin/audit?action=note.&actor=vendor:v-1")).text()
        assert page.count('data-testid="audit-entry"') == 1 and "c-2" in page
        page = await (await admin.get("/admin/audit?from=2001-01-01&to=2001-01-02")).text()
        assert 'data-testid="audit-none"' in page

        machine = await admin.get("/admin/audit.csv?action=note.&format=csv-en")
        rows = list(csv.DictReader(io.StringIO(await machine.text())))
        assert [(r["action"], r["actor"]) for r in rows] == [
            ("note.read", "vendor:v-1"),
            ("note.read", "user:gp-1"),
        ]
        sheet = await (await admin.get("/admin/audit.csv?action=directory")).text()
        assert sheet.startswith("\ufeffTidspunkt (UTC);Handling;Hvem;Detaljer")
        assert sheet.count("\n") == 2


async def test_only_the_admin_reads_the_audit(client: Client, redis: Redis) -> None:
    b = await book(redis)
    async with browser(client) as gp:
        await login(gp, b.gp.username)
        for path in ("/admin/audit", "/admin/audit.csv"):
            response = await gp.get(path, allow_redirects=False)
            assert response.status in (403, 303)
