"""The road map "Mere behandling hjemme: udbredelse af video i almen praksis": its two
programmes and their budget lines over 2024–2026, as the road map's figures state them.

- **2025**: the economic estimates per line. The cross-sector programme's 2.5 M kr
  (including 0.5 M kr carried over from 2024) is estimated per sub-line at 1.55 M kr; the
  road map keeps the other 950,000 kr as "Rest 2025", a line of its own, so each
  programme's lines add up to its budget.
- **2024**: 1.5 M kr spent ("Forbrug"), booked to cross-sector video (the road map's table
  does; its footnote says it paid for analysis and development for both programmes, about
  50/50).
- **2026**: one budget line per programme, as the road map gives no split: 2.0 M kr
  cross-sector and 3.0 M kr video in general practice (the seed's table; totals 6 M, 5 M,
  11 M kr).

Each line belongs to one year, and spending is booked to the year of its date. The ids are
stable: other parts of the system (the honoraria ledger) name lines by id.
"""

from __future__ import annotations

from server.pilots.budgets import BudgetLine, Programme
from server.pilots.money import ORE_PER_KRONE

VIDEO = Programme("video_general_practice", "Video i almen praksis", "Video in general practice")
CROSS_SECTOR = Programme("cross_sector", "Tværsektoriel video", "Cross-sector video")
PROGRAMMES = (VIDEO, CROSS_SECTOR)

_LINES: tuple[tuple[Programme, str, str, str, int], ...] = (  # all 2025
    (VIDEO, "lps_integration", "Projekt: Dyb integration af video i LPS",
     "Project: deep integration of video in the LPS", 800_000),
    (VIDEO, "waiting_room_v2", "Virtuelt Venteværelse version 2",
     "Virtual Waiting Room version 2", 150_000),
    (VIDEO, "legal_gdpr", "Juridiske og GDPR-mæssige forhold", "Legal and GDPR matters", 100_000),
    (VIDEO, "communication", "Kommunikations- og udbredelsesmæssige aktiviteter",
     "Communication and roll-out", 50_000),
    (VIDEO, "ai_notetaker", "AI-pilotprojekt: auto notar ifm. videokonsultation",
     "AI pilot: automatic note-taker for video consultations", 600_000),
    (VIDEO, "pilot_honoraria", "Pilotafprøvning og implementering, herunder honorar til læger",
     "Pilot testing and implementation, including honoraria to GPs", 50_000),
    (VIDEO, "external_advice", "Teknisk rådgivning og projektledelse (ekstern)",
     "External technical advice and project management", 250_000),
    (CROSS_SECTOR, "cross_sector_information",
     "Udstilling af nye oplysninger i Kontakt Læge app m.fl.",
     "New information shown in the Kontakt Læge app and other systems", 500_000),
    (CROSS_SECTOR, "cross_sector_legal_gdpr", "Juridiske og GDPR-mæssige forhold",
     "Legal and GDPR matters", 200_000),
    (CROSS_SECTOR, "cross_sector_operations",
     "Drifts-, forvaltnings- og sikkerhedsmæssige justeringer",
     "Operations, management and security adjustments", 150_000),
    (CROSS_SECTOR, "cross_sector_communication",
     "Kommunikations- og udbredelsesmæssige aktiviteter", "Communication and roll-out", 450_000),
    (CROSS_SECTOR, "cross_sector_external_advice",
     "Teknisk rådgivning og projektledelse (ekstern)",
     "External technical advice and project management", 250_000),
    (CROSS_SECTOR, "cross_sector_rest", "Rest 2025 (ikke disponeret)",
     "Rest 2025 (not yet allocated)", 950_000),
)  # fmt: skip

LINES_2025 = tuple(
    BudgetLine(line_id, programme.id, name_da, name_en, kroner * ORE_PER_KRONE, position, 2025)
    for position, (programme, line_id, name_da, name_en, kroner) in enumerate(_LINES)
)
_OTHER_YEARS: tuple[tuple[Programme, str, str, str, int, int], ...] = (
    (CROSS_SECTOR, "cross_sector_2024",
     "Forbrug 2024: analyse og teknisk udvikling (begge programmer, ca. 50/50)",
     "Spent 2024: analysis and technical development (both programmes, about 50/50)",
     1_500_000, 2024),
    (CROSS_SECTOR, "cross_sector_2026", "Budget 2026 (endnu ikke fordelt på linjer)",
     "Budget 2026 (not yet split into lines)", 2_000_000, 2026),
    (VIDEO, "video_general_practice_2026", "Budget 2026 (endnu ikke fordelt på linjer)",
     "Budget 2026 (not yet split into lines)", 3_000_000, 2026),
)  # fmt: skip
LINES = LINES_2025 + tuple(
    BudgetLine(line_id, programme.id, name_da, name_en, kroner * ORE_PER_KRONE, position, year)
    for position, (programme, line_id, name_da, name_en, kroner, year) in enumerate(
        _OTHER_YEARS, start=len(LINES_2025)
    )
)
YEARS = (2024, 2025, 2026)
