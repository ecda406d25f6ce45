"""The retention table covers every key family, and docs/retention.md is generated from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import main
from server.retention.clinics import ENDED_BY_TTL, PLANNED, REMOVED_FROM_SHARED
from server.retention.doc import retention_markdown
from server.retention.table import TABLE, Personal, Scope, by_family
from server.store import keys

DOC = Path(__file__).resolve().parents[2] / "docs" / "retention.md"


def key_families() -> set[str]:
    """Every key, key function and channel name keys.py defines."""
    return {
        name
        for name, value in vars(keys).items()
        if not name.startswith("_")
        and name != "PREFIX"
        and (callable(value) or isinstance(value, str))
    }


def test_every_key_family_has_a_retention_row() -> None:
    missing = sorted(key_families() - set(by_family()))
    assert not missing, (
        f"key families in server/store/keys.py with no row in server/retention/table.py: "
        f"{', '.join(missing)}; add a Record saying what each holds, why, how long and what ends "
        f"it, then run `almenvideo retention doc > docs/retention.md`"
    )


def test_every_row_names_a_key_family_that_exists() -> None:
    stale = sorted(set(by_family()) - key_families())
    assert not stale, f"retention rows for key families keys.py no longer has: {stale}"


def test_no_family_has_two_rows() -> None:
    assert len(by_family()) == len(TABLE)


def test_patient_data_is_never_kept_past_a_clinic() -> None:
    """What the law keeps after a clinic is deleted holds no patient data."""
    kept = [r.family for r in TABLE if r.scope is Scope.KEPT and r.personal is Personal.HEALTH]
    assert kept == []


def test_the_committed_retention_doc_is_generated_from_the_table() -> None:
    assert DOC.read_text() == retention_markdown(), (
        "docs/retention.md is stale: run `almenvideo retention doc > docs/retention.md`"
    )


def test_the_doc_lists_every_family() -> None:
    text = retention_markdown()
    for family in key_families():
        assert f"| `{family}` |" in text


def test_the_cli_prints_the_doc(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention", "doc"]) == 0
    assert capsys.readouterr().out == DOC.read_text()


def test_a_clinics_deletion_covers_every_row_of_scope_clinic() -> None:
    """A row says the clinic's deletion ends it: the deletion must know the family."""
    clinic_rows = {r.family for r in TABLE if r.scope is Scope.CLINIC}
    handled = PLANNED | REMOVED_FROM_SHARED | ENDED_BY_TTL
    assert not clinic_rows - handled, (
        f"scope-clinic families server/retention/clinics.py does not delete: "
        f"{sorted(clinic_rows - handled)}"
    )
    assert not handled - clinic_rows, (
        f"deleted but not scope clinic: {sorted(handled - clinic_rows)}"
    )
