"""The consent text the patient agrees to, versioned.

A patient's answer names the version they were shown; an answer to any other version than
the current one is refused, so every stored consent points at a text that says what it
agreed to. Change the wording only by adding a new version.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConsentText:
    version: str
    da: str
    en: str

    def text(self, language: str) -> str:
        return self.da if language == "da" else self.en


TEXTS: dict[str, ConsentText] = {
    "2026-12-01": ConsentText(
        version="2026-12-01",
        da=(
            "Din læge vil gerne bruge en automatisk notatassistent i denne samtale. "
            "Den lytter til lyden fra dig og din læge og laver et udkast til lægens notat. "
            "Lyden gemmes ikke: den behandles kun, mens samtalen står på. "
            "Din læge læser og retter udkastet, før noget kommer i din journal, og udkast og "
            "udskrift slettes, når notatet er gemt i journalen, og senest efter 7 dage. "
            "Det er frivilligt. Du kan til enhver tid stoppe notatassistenten, og så slettes "
            "alt, hvad den har opfanget. Samtalen fortsætter, uanset hvad du vælger."
        ),
        en=(
            "Your doctor would like to use an automatic note-taker in this consultation. "
            "It listens to the sound from you and your doctor and drafts the doctor's note. "
            "The sound is not kept: it is processed only while the consultation lasts. "
            "Your doctor reads and corrects the draft before anything goes into your record, "
            "and the draft and transcript are deleted once the note is in your record, and "
            "after 7 days at the latest. It is voluntary. You can stop the note-taker at any "
            "time, and then everything it has picked up is deleted. The consultation goes on "
            "whatever you choose."
        ),
    ),
}
CURRENT = TEXTS["2026-12-01"]
