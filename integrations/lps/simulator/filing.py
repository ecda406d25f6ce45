"""Filing a consultation's approved note in the (simulated) patient record, then telling
almenvideo, which deletes its copy. In that order: acknowledged means filed, and a failed
acknowledgement is simply sent again by the next attempt."""

from __future__ import annotations

import time
from dataclasses import replace

from integrations.lps.simulator.api import AlmenvideoApi
from integrations.lps.simulator.record import FiledNote, Record


class NotApproved(Exception):
    """The note is still a draft: the LPS may show it, never file it."""


async def file_note(api: AlmenvideoApi, record: Record, consultation_id: str) -> FiledNote:
    """Raises `ApiError` (no note; or deleted, once acknowledged) or `NotApproved`."""
    note = await api.note(consultation_id)
    if note["status"] != "approved":
        raise NotApproved("the GP has not approved the note yet")
    filed = FiledNote(consultation_id, note["text"], note["approved_at"], time.time(), False)
    record.notes[consultation_id] = filed
    await api.ack_note(consultation_id)
    record.notes[consultation_id] = replace(filed, acknowledged=True)
    return record.notes[consultation_id]
