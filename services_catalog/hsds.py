"""Export to Open Referral HSDS 3.0-shaped JSON, for interoperability. Pure.

Each service is written as an HSDS `service` object with its organization, locations
(`service_at_locations`), schedules, required documents and cost options nested, as in
HSDS 3.0's `/services/{id}` response. Multilingual texts use the `language` chosen;
the other languages are kept under `x_translations`.
"""

from __future__ import annotations

from typing import Any

from services_catalog.multilingual import FallbackChain
from services_catalog.schema import Catalog, OpeningHours, Organization, Service

HSDS_VERSION = "3.0"
_STATUS = {"active": "active", "suspended": "temporarily closed"}


def export(catalog: Catalog, *, language: str, chain: FallbackChain) -> dict[str, Any]:
    organizations = {o.id: o for o in catalog.organizations}
    regions = {r.id: r for r in catalog.regions}
    districts = {d.id: d for r in catalog.regions for d in r.districts}

    def text(value: Any) -> str | None:
        return chain.text(value, language) or None

    def schedule(hours: OpeningHours) -> dict[str, Any]:
        return {"freq": "WEEKLY", "byday": ",".join(d.upper() for d in hours.byday),
                "opens_at": f"{hours.opens_at:%H:%M}", "closes_at": f"{hours.closes_at:%H:%M}"}

    def organization(org: Organization) -> dict[str, Any]:
        return {"id": org.id, "name": text(org.name), "description": text(org.description),
                "email": org.email, "website": org.website,
                "phones": [{"number": org.phone}] if org.phone else [],
                "x_type": org.type}

    def service(s: Service) -> dict[str, Any]:
        return {
            "id": s.id,
            "organization_id": s.organization,
            "organization": organization(organizations[s.organization]),
            "name": text(s.name),
            "description": text(s.description),
            "x_summary": text(s.summary),
            "status": _STATUS[s.status],
            "eligibility_description": text(s.eligibility.description),
            "minimum_age": s.eligibility.minimum_age,
            "maximum_age": s.eligibility.maximum_age,
            "application_process": "\n".join(
                f"{n}. {text(step)}" for n, step in enumerate(s.steps, start=1)
            ),
            "fees_description": text(s.fees.notes) or ("free" if s.fees.free else None),
            "cost_options": [] if s.fees.free else [
                {"amount": float(s.fees.amount or 0), "currency": s.fees.currency,
                 "option": text(s.fees.notes)}
            ],
            "x_processing_time": text(s.processing_time),
            "languages": [{"code": code} for code in s.languages],
            "required_documents": [
                {"document": text(d.name), "x_notes": text(d.notes),
                 "x_obtained_from": d.obtained_from} for d in s.documents
            ],
            "service_areas": [{"name": "national"}] if s.national else [
                {"name": text(regions[r].name), "extent": r} for r in sorted(s.region_ids())
            ],
            "service_at_locations": [
                {"location": {
                    "name": text(loc.name),
                    "addresses": [{
                        "address_1": text(loc.address), "region": loc.region,
                        "city": text(districts[loc.district].name) if loc.district else None,
                        "x_district": loc.district, "address_type": "physical",
                    }],
                    "phones": [{"number": loc.phone}] if loc.phone else [],
                    "x_email": loc.email,
                },
                 "schedules": [schedule(h) for h in loc.opening_hours]}
                for loc in s.locations
            ],
            "contacts": [{
                "title": text(s.focal_point.role), "name": s.focal_point.name,
                "email": s.focal_point.email,
                "phones": [{"number": s.focal_point.phone}] if s.focal_point.phone else [],
                "x_response_time_hours": s.focal_point.response_time_hours,
                "x_availability": [schedule(h) for h in s.focal_point.availability],
            }],
            "assured_date": s.last_verified.isoformat(),
            "x_assurer": s.verified_by,
            "x_category": s.category,
            "x_accepts_referrals": s.accepts_referrals,
            "x_emergency": s.emergency,
            "x_translations": s.model_dump(mode="json", include={"name", "summary", "description"}),
        }

    return {"hsds_version": HSDS_VERSION, "language": language,
            "services": [service(s) for s in catalog.services]}
