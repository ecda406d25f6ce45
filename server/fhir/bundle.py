"""Search results as a FHIR searchset Bundle."""

from __future__ import annotations

from server.fhir.references import Resource


def searchset(resources: list[Resource], base_url: str, self_url: str) -> Resource:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {
                "fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }
