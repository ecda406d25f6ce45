"""Which billing code (ydelse) applies when a video consultation ends."""

VIDEO = "0125"  # video consultation
VIDEO_CONFERENCE = "0126"  # video conference with at least three parties
PHONE = "0201"  # video failed; the consultation continued by phone


def billing_code(parties: int, continued_by_phone: bool = False) -> str:
    if continued_by_phone:
        return PHONE
    return VIDEO_CONFERENCE if parties >= 3 else VIDEO
