"""Every document that states how long a silent patient keeps their place states the
setting's default (issue 16 defect 7: the README once said 60 s in one place, 30 s in
another)."""

from __future__ import annotations

import re
from pathlib import Path

from server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# "the presence grace, 30 s", "keeps their place for 30 s", "`ALMENVIDEO_PRESENCE_GRACE` | `30`"
STATED = re.compile(
    r"(?:grace|ALMENVIDEO_PRESENCE_GRACE|keeps? (?:their|the|your) place)"
    r"[^.|]{0,60}?[`(,| ]+(\d+)(?: s\b|`)"
)


def test_the_grace_is_stated_as_the_settings_default_everywhere() -> None:
    default = Settings().presence_grace_seconds
    stated = [
        (path.name, int(number))
        for path in DOCUMENTS
        for number in STATED.findall(" ".join(path.read_text().split()))
    ]
    assert ("README.md", default) in stated
    assert [s for s in stated if s[1] != default] == []
