"""Catalogue answers as Telegram HTML in the current locale. Pure: no I/O.

Every catalogue string is escaped; every answer ends with the service's verification date.
When a text is missing in the user's language, a fallback is used and the answer says so.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import time

from babel.dates import format_time

from bot.dialogue.labels import CATEGORIES, VULNERABILITIES
from bot.i18n import _, current, day_names, format_date, format_money, ltr, ngettext
from services_catalog.multilingual import FallbackChain
from services_catalog.schema import DAYS, Location, OpeningHours, Organization, Service


def escape(text: str) -> str:
    return html.escape(text, quote=False)


class Renderer:
    """Resolves catalogue texts for one language, remembering whether it had to fall back."""

    def __init__(self, chain: FallbackChain) -> None:
        self.chain = chain
        self.fell_back = False

    def text(self, value: Mapping[str, str] | None) -> str:
        resolved = self.chain.resolve(value, current().code)
        if resolved is None:
            return ""
        self.fell_back |= resolved.is_fallback
        # a fallback text is in another script: isolate it inside right-to-left text
        return ltr(escape(resolved.text)) if resolved.is_fallback else escape(resolved.text)

    def name(self, service: Service) -> str:
        return self.text(service.name)

    def footer(self, service: Service) -> str:
        lines = [_("Last verified on %(date)s.", date=format_date(service.last_verified))]
        if self.fell_back:
            lines.append(_("Some details are not available in your language yet."))
        return "\n".join(f"<i>{line}</i>" for line in lines)  # tags never span lines


def category_label(category: str) -> str:
    icon, label = CATEGORIES[category]
    return f"{icon} {_(label)}"


def card(service: Service, organization: Organization | None, r: Renderer) -> str:
    lines = [f"<b>{r.name(service)}</b>"]
    if organization is not None:
        lines.append(r.text(organization.name))
    lines += ["", r.text(service.summary)]
    if service.processing_time:
        lines.append(_("Time needed: %(time)s", time=r.text(service.processing_time)))
    return _joined(lines, r, service)


def documents(service: Service, sources: Mapping[str, Service], r: Renderer) -> str:
    """The checklist, with where to get each missing document."""
    title = _("Documents for %(service)s", service=f"<b>{r.name(service)}</b>")
    if not service.documents:
        return _joined([title, "", _("No documents are needed.")], r, service)
    lines = [title, ngettext("You need %(count)s document:", "You need %(count)s documents:",
                             len(service.documents)), ""]
    for document in service.documents:
        lines.append(f"☐ {r.text(document.name)}")
        if document.notes:
            lines.append(f"    <i>{r.text(document.notes)}</i>")
        source = sources.get(document.obtained_from or "")
        if source is not None:
            lines.append("    " + _("Don't have it? Get it from: %(service)s",
                                    service=r.name(source)))
    return _joined(lines, r, service)


def eligibility(service: Service, r: Renderer) -> str:
    rule = service.eligibility
    lines = [_("Who can get %(service)s", service=f"<b>{r.name(service)}</b>"), "",
             r.text(rule.description)]
    if rule.audience == "returnees":
        lines.append("• " + _("For people who have returned home."))
    if rule.minimum_age is not None and rule.maximum_age is not None:
        lines.append("• " + _("Age %(low)s to %(high)s.", low=rule.minimum_age,
                              high=rule.maximum_age))
    elif rule.minimum_age is not None:
        lines.append("• " + _("Age %(low)s or older.", low=rule.minimum_age))
    elif rule.maximum_age is not None:
        lines.append("• " + _("Age %(high)s or younger.", high=rule.maximum_age))
    if rule.vulnerabilities:
        groups = ", ".join(_(VULNERABILITIES[v]) for v in rule.vulnerabilities)
        lines.append("• " + _("Priority for: %(groups)s.", groups=groups))
    return _joined(lines, r, service)


def procedure(service: Service, r: Renderer) -> str:
    lines = [_("How to apply for %(service)s", service=f"<b>{r.name(service)}</b>"), ""]
    lines += [f"{number}. {r.text(step)}" for number, step in enumerate(service.steps, 1)]
    return _joined(lines, r, service)


def location(service: Service, area_names: Mapping[str, Mapping[str, str]], r: Renderer) -> str:
    """Places with opening hours and phone, then the focal point and response time."""
    lines = [_("Where and when: %(service)s", service=f"<b>{r.name(service)}</b>"), ""]
    if service.national:
        lines.append(_("Available everywhere in the country."))
    for place in service.locations:
        lines += _place(place, area_names, r)
    focal = service.focal_point
    lines += ["", _("Contact person: %(role)s", role=r.text(focal.role))]
    lines.append(_("Available: %(hours)s", hours=hours(focal.availability)))
    if focal.phone:
        lines.append("☎ " + ltr(escape(focal.phone)))
    lines.append(ngettext("Expected answer within %(count)s hour.",
                          "Expected answer within %(count)s hours.", focal.response_time_hours))
    return _joined(lines, r, service)


def _place(place: Location, area_names: Mapping[str, Mapping[str, str]], r: Renderer) -> list[str]:
    area = area_names.get(place.district or place.region) or area_names.get(place.region)
    title = r.text(place.name) if place.name else r.text(area)
    lines = [f"📍 <b>{title}</b>", r.text(place.address)]
    if place.name and area:
        lines.append(r.text(area))
    if place.opening_hours:
        lines.append("🕘 " + hours(place.opening_hours))
    if place.phone:
        lines.append("☎ " + ltr(escape(place.phone)))
    return lines


def cost(service: Service, r: Renderer) -> str:
    fees = service.fees
    lines = [_("Cost of %(service)s", service=f"<b>{r.name(service)}</b>"), ""]
    if fees.free or fees.amount is None or fees.currency is None:
        lines.append(_("Free of charge."))
    else:
        lines.append(_("Cost: %(amount)s", amount=format_money(fees.amount, fees.currency)))
    if fees.notes:
        lines.append(r.text(fees.notes))
    return _joined(lines, r, service)


def contact(service: Service, organization: Organization | None, r: Renderer) -> str:
    """The service's public contact: focal point, hours, phone, expected response time."""
    focal = service.focal_point
    who = r.text(focal.role)
    if organization is not None:
        who = f"{who}, {r.text(organization.name)}"
    title = _("To talk to a person about %(service)s, contact:",
              service=f"<b>{r.name(service)}</b>")
    lines = [title, "", f"🙋 {who}", _("Available: %(hours)s", hours=hours(focal.availability))]
    phones = [focal.phone] if focal.phone else [p.phone for p in service.locations if p.phone]
    lines += ["☎ " + ltr(escape(phone)) for phone in phones[:2]]
    email = focal.email or (organization.email if organization else None)
    if email:
        lines.append("✉ " + ltr(escape(email)))
    lines.append(ngettext("Expected answer within %(count)s hour.",
                          "Expected answer within %(count)s hours.", focal.response_time_hours))
    return _joined(lines, r, service)


def emergency_contacts(services: Sequence[Service], r: Renderer) -> str:
    lines = ["🆘 <b>" + _("If you are in danger, call now:") + "</b>", ""]
    for service in services:
        lines.append(f"☎ <b>{ltr(escape(_phone(service)))}</b> · {r.name(service)}")
        lines.append("    " + hours(service.focal_point.availability))
    if not services:
        lines.append(_("Go to the nearest hospital or police station."))
    return "\n".join(lines)


def emergency_line(services: Sequence[Service], r: Renderer) -> str:
    """The contacts in one line, for a message that may be urgent but asks something else."""
    if not services:
        return "🆘 " + _("In danger now? Go to the nearest hospital or police station.")
    phones = ", ".join(f"<b>{ltr(escape(_phone(service)))}</b> ({r.name(service)})"
                       for service in services)
    return "🆘 " + _("In danger now? Call %(phones)s.", phones=phones)


def _phone(service: Service) -> str:
    return service.focal_point.phone or next(
        (place.phone for place in service.locations if place.phone), "")


def hours(schedule: Iterable[OpeningHours]) -> str:
    """'Mon–Fri 08:00–17:00; Sat 09:00–12:00' in the current locale."""
    names = day_names()
    parts = []
    for row in schedule:
        days = ", ".join(_day_range(row.byday, names))
        parts.append(f"{days} {_clock(row.opens_at)}–{_clock(row.closes_at)}")
    return "; ".join(parts)


def _day_range(byday: Sequence[str], names: Mapping[int, str]) -> list[str]:
    indexes = sorted(DAYS.index(day) for day in byday)
    runs: list[list[int]] = []
    for index in indexes:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return [names[run[0]] if len(run) == 1 else f"{names[run[0]]}–{names[run[-1]]}"
            for run in runs]


def _clock(value: time) -> str:
    return format_time(value, "short", locale=current().code)


def _joined(lines: list[str], r: Renderer, service: Service) -> str:
    return "\n".join([*lines, "", r.footer(service)])
