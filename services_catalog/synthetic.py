"""Synthetic catalogues in the file format, for tests and benchmarks. Not demo content."""

from __future__ import annotations

from typing import Any

from services_catalog.schema import CATEGORIES


def text(label: str) -> dict[str, str]:
    return {"en": f"{label}", "fr": f"{label} (fr)", "ar": f"{label} (ar)"}


def hours(
    days: list[str] | None = None, opens: str = "08:00", closes: str = "16:00"
) -> dict[str, Any]:
    return {"byday": days or ["mo", "tu", "we", "th", "fr"], "opens_at": opens, "closes_at": closes}


def region(ident: str, districts: int = 2) -> dict[str, Any]:
    return {"id": ident, "name": text(f"Region {ident}"),
            "districts": [{"id": f"{ident}-D{n}", "name": text(f"District {ident}-{n}")}
                          for n in range(1, districts + 1)]}


def organization(ident: str = "org-1") -> dict[str, Any]:
    return {"id": ident, "name": text(f"Organization {ident}"), "type": "ngo",
            "email": f"{ident}@example.org", "phone": "+000 100 0000"}


def service(
    ident: str,
    *,
    category: str = "health",
    region_id: str = "R1",
    organization_id: str = "org-1",
    **overrides: Any,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": ident,
        "organization": organization_id,
        "category": category,
        "name": text(f"Service {ident}"),
        "summary": text(f"Summary of {ident}"),
        "description": text(f"Description of {ident}"),
        "eligibility": {"description": text("Everyone"), "audience": "everyone"},
        "documents": [{"name": text("Identity card"), "notes": text("Any valid copy")}],
        "steps": [text("Go to the office"), text("Fill in the form")],
        "fees": {"free": True},
        "processing_time": text("1 day"),
        "languages": ["fr", "wo"],
        "locations": [{"address": text(f"1 Example street, {region_id}"), "region": region_id,
                       "district": f"{region_id}-D1", "opening_hours": [hours()],
                       "phone": "+000 200 0000"}],
        "focal_point": {"role": text("Focal point"), "availability": [hours()],
                        "response_time_hours": 48},
        "accepts_referrals": True,
        "last_verified": "2026-10-01",
        "verified_by": "Test team",
        "keywords": {"en": [f"kw {ident}"], "fr": [f"mot {ident}"], "ar": [f"كلمة {ident}"]},
    }
    document.update(overrides)
    return document


def catalog(services: int, regions: int = 5, organizations: int = 10) -> dict[str, Any]:
    """A valid catalogue with `services` services spread over categories and regions."""
    region_ids = [f"R{n}" for n in range(1, regions + 1)]
    org_ids = [f"org-{n}" for n in range(1, organizations + 1)]
    return {
        "version": 1,
        "regions": [region(r) for r in region_ids],
        "organizations": [organization(o) for o in org_ids],
        "services": [
            service(f"svc-{n:05d}", category=CATEGORIES[n % len(CATEGORIES)],
                    region_id=region_ids[n % regions], organization_id=org_ids[n % organizations])
            for n in range(services)
        ],
    }
