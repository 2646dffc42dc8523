"""Where a referral goes: the organisation, its team chat, and its SOP timing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.dialogue.catalogue import Catalogue
from services_catalog.schema import DAYS, OpeningHours, Service

UNROUTED = "unrouted"  # no service and no organisation: the default team takes it


@dataclass(frozen=True, slots=True)
class Route:
    organization_id: str
    team_chat_id: int | None
    response_hours: int
    availability: tuple[OpeningHours, ...]
    topic: str | None  # the service's category


class Router:
    def __init__(
        self, catalogue: Catalogue, team_chats: Mapping[str, int], default_chat: int | None,
        default_hours: int,
    ) -> None:
        self.catalogue, self.team_chats = catalogue, team_chats
        self.default_chat, self.default_hours = default_chat, default_hours

    async def route(
        self, service_id: str | None, topic: str | None, region: str | None
    ) -> Route:
        """The named service's organisation if it takes referrals, else one that does for
        the topic in the region, else the default team."""
        service = await self.catalogue.service(service_id) if service_id else None
        if service is not None and not service.accepts_referrals:
            topic, service = topic or service.category, None
        if service is None and topic:
            candidates = await self.catalogue.services(category=topic, region=region)
            service = next((s for s in await self.catalogue.active([c.id for c in candidates])
                            if s.accepts_referrals), None)
        if service is None:
            return Route(UNROUTED, self.default_chat, self.default_hours, (), topic)
        return _route(service, self.team_chats.get(service.organization, self.default_chat))


def _route(service: Service, chat: int | None) -> Route:
    focal = service.focal_point
    return Route(service.organization, chat, focal.response_time_hours, focal.availability,
                 service.category)


def next_opening(
    schedule: tuple[OpeningHours, ...], now: datetime, zone: ZoneInfo
) -> datetime | None:
    """None when `now` is within the schedule (or there is none); else the next opening."""
    if not schedule:
        return None
    local = now.astimezone(zone)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        weekday = DAYS[day.weekday()]
        for row in sorted(schedule, key=lambda r: r.opens_at):
            if weekday not in row.byday:
                continue
            opens = datetime.combine(day, row.opens_at, zone)
            closes = datetime.combine(day, row.closes_at, zone)
            if offset == 0 and opens <= local < closes:
                return None
            if opens > local:
                return opens
    return None

