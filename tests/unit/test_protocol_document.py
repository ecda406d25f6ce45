"""The committed protocol document is generated from the schemas the server validates with."""

import json
from pathlib import Path

from server.signalling.messages import json_schema

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "signalling.schema.json"


def test_committed_protocol_document_matches_the_code() -> None:
    committed = json.loads(DOCUMENT.read_text())
    assert committed == json_schema(), "run: almenvideo schema > docs/signalling.schema.json"
