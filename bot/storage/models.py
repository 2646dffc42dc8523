"""ORM tables for users, consent, staff, tickets, the audit log and the unmet-needs register.

Repositories return views; ORM rows stay in bot.storage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services_catalog.db import Base


class UserRow(Base):
    """A user known by a keyed hash of their channel id, never the id itself.

    Without `store_profile` consent the row is a short session that expires soon after
    the last message; with it, the profile expires after the retention period.
    """

    __tablename__ = "bot_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    version: Mapped[int] = mapped_column(Integer)


class ConsentEventRow(Base):
    """Append-only: each consent given or withdrawn, with the exact text's version and hash."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("bot_users.id", ondelete="SET NULL"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(40))
    given: Mapped[bool] = mapped_column(Boolean)
    text_version: Mapped[int] = mapped_column(Integer)
    text_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffRow(Base):
    """The staff allowlist, checked on every staff action; revoking takes effect at once."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    role: Mapped[str] = mapped_column(String(16))  # caseworker, supervisor, admin
    organization_id: Mapped[str] = mapped_column(String(80), index=True)
    regions: Mapped[list[str]] = mapped_column(JSON)  # empty: all
    topics: Mapped[list[str]] = mapped_column(JSON)  # empty: all
    display_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TicketRow(Base):
    """A referral: only the fields the user agreed to share, and the consent that allowed it."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("bot_users.id", ondelete="SET NULL"), index=True
    )
    consent_event_id: Mapped[int] = mapped_column(ForeignKey("consent_events.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(8))  # normal, urgent
    organization_id: Mapped[str] = mapped_column(String(80), index=True)
    team_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(Integer)
    card_message_id: Mapped[int | None] = mapped_column(Integer)
    service_id: Mapped[str | None] = mapped_column(String(80))
    topic: Mapped[str | None] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    shared: Mapped[dict[str, Any]] = mapped_column(JSON)  # the consented fields, as previewed
    chat_id: Mapped[int | None] = mapped_column(BigInteger)  # the user's chat, for the relay
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sla_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(24))
    follow_up: Mapped[bool] = mapped_column(Boolean)
    follow_up_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    follow_up_answer: Mapped[str | None] = mapped_column(String(16))


class TicketEventRow(Base):
    """Append-only: every status change and staff action on a ticket."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    actor: Mapped[str] = mapped_column(String(32))  # staff:<id>, user, system
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)  # internal notes only, never relayed
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RelayRow(Base):
    """Which copied message belongs to which ticket, so a reply to it reaches the user."""

    __tablename__ = "relay_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    team_chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Append-only log of staff actions, refusals, imports and erasures. No personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(40))  # staff:<id>, telegram:<keyed hash>, cli
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(80))
    allowed: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class UnmetNeedRow(Base):
    """The unmet-needs register: anonymised, for advocacy."""

    __tablename__ = "unmet_needs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    topic: Mapped[str | None] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))


class InboxRow(Base):
    """Every incoming update, written before it is processed and marked done after.

    The payload (which holds message text) is cleared as soon as the update is done."""

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    done: Mapped[bool] = mapped_column(Boolean, index=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
