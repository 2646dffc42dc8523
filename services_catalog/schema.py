"""The catalogue schema: typed, immutable models shared by files, database and callers.

Field names follow Open Referral HSDS 3.0 where HSDS has the concept (see
docs/catalog.md for the mapping). Every user-facing text is a `Text`: language -> text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    model_validator,
)

Category = Literal[
    "cash_assistance",
    "income_generation",
    "vocational_training",
    "housing_food",
    "legal_documentation",
    "education",
    "health",
    "transport",
    "safety",
    "psychosocial",
    "family",
]
OrganizationType = Literal[
    "national_authority",
    "local_authority",
    "ngo",
    "private_sector",
    "international_org",
    "diaspora_org",
    "migrant_association",
    "academia",
]
Vulnerability = Literal[
    "victim_of_trafficking",
    "unaccompanied_child",
    "single_parent",
    "disability",
    "chronic_illness",
    "pregnant",
    "elderly",
    "survivor_of_violence",
    "mental_health",
]
Day = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]

CATEGORIES: tuple[str, ...] = get_args(Category)
ORGANIZATION_TYPES: tuple[str, ...] = get_args(OrganizationType)
VULNERABILITIES: tuple[str, ...] = get_args(Vulnerability)
DAYS: tuple[str, ...] = get_args(Day)

_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_CODE = r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$"
_LANG = re.compile(r"^[a-z]{2,3}$")
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_PHONE = r"^\+?[0-9][0-9 ()-]{3,24}$"

Slug = Annotated[str, Field(pattern=_SLUG, max_length=80)]
ServiceId = Annotated[str, Field(pattern=_SLUG, max_length=60)]  # fits Telegram's button data
Code = Annotated[str, Field(pattern=_CODE, max_length=40)]
Email = Annotated[str, Field(pattern=_EMAIL, max_length=200)]
Phone = Annotated[str, Field(pattern=_PHONE)]
LanguageCode = Annotated[str, Field(pattern=_LANG.pattern)]


def _check_text(value: Mapping[str, str], info: ValidationInfo) -> Mapping[str, str]:
    for language, text in value.items():
        if not _LANG.match(language):
            raise ValueError(f"'{language}' is not a language code (expected e.g. en, fr, ar)")
        if not text.strip():
            raise ValueError(f"the '{language}' text is empty")
    if not value:
        raise ValueError("at least one language is required")
    required = (info.context or {}).get("required_languages", ())
    missing = [language for language in required if language not in value]
    if missing:
        raise ValueError(f"missing required language(s): {', '.join(missing)}")
    return {language: text.strip() for language, text in value.items()}


Text = Annotated[Mapping[str, str], AfterValidator(_check_text)]
"""A user-facing text in several languages: {"en": ..., "fr": ..., "ar": ...}.

Validation with context {"required_languages": (...)} also requires those languages.
"""


def _clock(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        raise ValueError(f"'{value}' is not a time of day (expected HH:MM)")
    return value


Clock = Annotated[
    time,
    BeforeValidator(_clock),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class OpeningHours(Model):
    """One HSDS schedule row: these days, from `opens_at` to `closes_at`."""

    byday: tuple[Day, ...] = Field(min_length=1)
    opens_at: Clock
    closes_at: Clock

    @model_validator(mode="after")
    def _check(self) -> OpeningHours:
        if self.opens_at >= self.closes_at:
            raise ValueError(
                f"opens_at {self.opens_at:%H:%M} must be before closes_at {self.closes_at:%H:%M}"
            )
        if len(set(self.byday)) != len(self.byday):
            raise ValueError("byday lists a day twice")
        return self


class District(Model):
    id: Code
    name: Text


class Region(Model):
    id: Code
    name: Text
    districts: tuple[District, ...] = ()


class Organization(Model):
    id: Slug
    name: Text
    type: OrganizationType
    description: Text | None = None
    email: Email | None = None
    phone: Phone | None = None
    website: str | None = None


class Eligibility(Model):
    description: Text
    audience: Literal["returnees", "everyone"] = "everyone"
    minimum_age: int | None = Field(default=None, ge=0, le=120)
    maximum_age: int | None = Field(default=None, ge=0, le=120)
    vulnerabilities: tuple[Vulnerability, ...] = ()

    @model_validator(mode="after")
    def _ages(self) -> Eligibility:
        low, high = self.minimum_age, self.maximum_age
        if low is not None and high is not None and low > high:
            raise ValueError(f"minimum_age {low} is above maximum_age {high}")
        return self


class RequiredDocument(Model):
    name: Text
    notes: Text | None = None
    obtained_from: Slug | None = None


class Fees(Model):
    free: bool
    amount: Decimal | None = Field(default=None, ge=0)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    notes: Text | None = None

    @model_validator(mode="after")
    def _amount(self) -> Fees:
        if self.free and self.amount:
            raise ValueError("a free service cannot have an amount")
        if not self.free and (self.amount is None or self.currency is None):
            raise ValueError("a paid service needs an amount and a currency")
        return self


class Location(Model):
    name: Text | None = None
    address: Text
    region: Code
    district: Code | None = None
    opening_hours: tuple[OpeningHours, ...] = ()
    phone: Phone | None = None
    email: Email | None = None


class FocalPoint(Model):
    """The SOP focal point: who answers, when, and how fast."""

    role: Text
    name: str | None = None
    availability: tuple[OpeningHours, ...] = Field(min_length=1)
    response_time_hours: int = Field(gt=0, le=24 * 60)
    phone: Phone | None = None
    email: Email | None = None


class Service(Model):
    id: ServiceId
    organization: Slug
    category: Category
    status: Literal["active", "suspended"] = "active"
    name: Text
    summary: Text
    description: Text
    eligibility: Eligibility
    documents: tuple[RequiredDocument, ...] = ()
    steps: tuple[Text, ...] = Field(min_length=1)
    fees: Fees
    processing_time: Text | None = None
    languages: tuple[LanguageCode, ...] = ()
    national: bool = False
    locations: tuple[Location, ...] = ()
    focal_point: FocalPoint
    accepts_referrals: bool = False
    emergency: bool = False
    last_verified: date
    verified_by: Annotated[str, Field(min_length=1, max_length=200)]
    keywords: Mapping[LanguageCode, tuple[str, ...]] = Field(default_factory=dict)
    synonyms: Mapping[LanguageCode, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _reachable(self) -> Service:
        if not self.national and not self.locations:
            raise ValueError("a service needs at least one location unless it is national")
        if self.emergency and not (self.focal_point.phone or any(x.phone for x in self.locations)):
            raise ValueError("an emergency service needs a phone number")
        return self

    def region_ids(self) -> frozenset[str]:
        return frozenset(location.region for location in self.locations)

    def area_ids(self) -> frozenset[str]:
        """Regions and districts of its locations."""
        districts = {x.district for x in self.locations if x.district}
        return self.region_ids() | districts


class Catalog(Model):
    """A whole validated catalogue."""

    regions: tuple[Region, ...] = ()
    organizations: tuple[Organization, ...] = ()
    services: tuple[Service, ...] = ()
