"""Which billing code (ydelse) applies when a video consultation ends: one a GP can defend.

- **No code** unless the patient and the GP had media between them (a decoded remote frame,
  or audio without video, as either browser's `call.report` says): a call in which the
  patient never connected was no consultation by video.
- **0126** when at least three parties were connected at the same time (the peak), and
  the patient had media; **0125** otherwise.
- **0201** when the GP ends it as *continued by phone* and the call's telemetry supports
  that video failed: the patient never got media, or a browser reported a failure or had
  to restart ICE. A mark the telemetry contradicts (media flowed, nothing failed) is not
  taken: the video rule applies.
"""

from __future__ import annotations

VIDEO = "0125"  # video consultation
VIDEO_CONFERENCE = "0126"  # video conference with at least three parties
PHONE = "0201"  # video failed; the consultation continued by phone
NO_CODE = ""  # the patient never had media: nothing to bill as video


def billing_code(
    parties: int,
    patient_media: bool,
    continued_by_phone: bool = False,
    video_trouble: bool = False,
) -> str:
    if continued_by_phone and (video_trouble or not patient_media):
        return PHONE
    if not patient_media:
        return NO_CODE
    return VIDEO_CONFERENCE if parties >= 3 else VIDEO
