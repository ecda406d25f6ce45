"""Reading the audit stream as the admin does: filtered, newest first, and as CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from server.clock import iso_utc
from server.store.audit import AuditEntry

CSV_COLUMNS = ("at", "action", "actor", "data")


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""  # a prefix: "note." matches note.read
    actor: str = ""  # exact: "user:<id>", "vendor:<id>", "cli"
    subject: str = ""  # an id anywhere in the entry's data: consultation, clinic, user...
    since: float | None = None  # unix s, inclusive
    until: float | None = None  # unix s, exclusive

    def matches(self, e: AuditEntry) -> bool:
        if self.action and not e.action.startswith(self.action):
            return False
        if self.actor and e.actor != self.actor:
            return False
        if self.since is not None and e.at < self.since:
            return False
        if self.until is not None and e.at >= self.until:
            return False
        return not self.subject or self.subject in _named(e.data)


def _named(data: dict[str, object]) -> set[str]:
    found: set[str] = set()
    for value in data.values():
        if isinstance(value, list):
            found |= {str(v) for v in value}
        else:
            found.add(str(value))
    return found


def newest_first(entries: list[AuditEntry], f: AuditFilter, limit: int) -> list[AuditEntry]:
    return [e for e in reversed(entries) if f.matches(e)][:limit]


def audit_csv(entries: list[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        data = json.dumps(e.data, ensure_ascii=False, sort_keys=True)
        writer.writerow([iso_utc(e.at), e.action, e.actor, data])
    return out.getvalue()
