"""Finding clinics by name, address or ydernummer, however the letters are typed."""

from __future__ import annotations

from server.directory.search import LIMIT, fold, search
from server.store.clinics import Clinic

ABY = Clinic("c1", "Lægehuset Åbyhøj", "100001", address="Åbyhøjgade 12, 8230 Åbyhøj")
NORD = Clinic("c2", "Lægerne i Nørregade", "100002", address="Nørregade 1, 1165 København K")
CAFE = Clinic("c3", "Klinik Café Élan", "200001", address="Torvet 3, 8000 Aarhus C")
ALL = [NORD, CAFE, ABY]


def names(query: str) -> list[str]:
    return [c.name for c in search(ALL, query).clinics]


def test_fold_meets_the_ways_danish_letters_are_typed() -> None:
    assert fold("Åbyhøj") == fold("Aabyhoej") == fold("abyhoj") == fold("ÅBYHØJ")
    assert fold("Lægehuset") == fold("Laegehuset")
    assert fold("Café Élan") == fold("cafe elan")
    assert fold("  Nørre   gade ") == fold("norre gade")


def test_by_name_address_or_ydernummer() -> None:
    assert names("åbyhøj") == ["Lægehuset Åbyhøj"]
    assert names("aabyhoj") == ["Lægehuset Åbyhøj"]
    assert names("københavn") == ["Lægerne i Nørregade"]  # the address
    assert names("100002") == ["Lægerne i Nørregade"]
    assert names("cafe elan") == ["Klinik Café Élan"]


def test_every_word_must_match() -> None:
    assert names("nørregade 1165") == ["Lægerne i Nørregade"]
    assert names("nørregade 8000") == []


def test_an_exact_ydernummer_first_then_names_that_start_with_the_query() -> None:
    assert names("læge") == ["Lægehuset Åbyhøj", "Lægerne i Nørregade"]
    assert names("1000") == ["Lægehuset Åbyhøj", "Lægerne i Nørregade"]
    special = Clinic("c4", "Nørregades Lægehus 100002", "300003")
    found = search([special, NORD], "100002").clinics
    assert [c.id for c in found] == ["c2", "c4"]  # the exact ydernummer wins


def test_an_empty_query_finds_nothing() -> None:
    assert search(ALL, "").total == 0
    assert search(ALL, "   ").clinics == []


def test_results_are_limited_but_counted() -> None:
    many = [Clinic(f"c{n}", f"Lægehuset {n:03d}", f"{n:06d}") for n in range(LIMIT + 5)]
    found = search(many, "lægehuset")
    assert len(found.clinics) == LIMIT
    assert found.total == LIMIT + 5
    assert found.clinics[0].name == "Lægehuset 000"
