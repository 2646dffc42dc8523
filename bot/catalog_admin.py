"""Catalogue updates sent by an admin as a workbook: check, dry-run diff, then import.

No Telegram here: `bot.channels.admin` downloads the file and calls these. The workbook waits
for the admin's "Apply" in a temporary file named by a random token, for at most 30 minutes;
the token, never a path, travels in the button's callback data. Texts are HTML, translated
with the caller's active locale.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import _, format_number, ngettext
from bot.storage import audit
from bot.storage.writer import Writer
from services_catalog import files
from services_catalog.errors import InputError
from services_catalog.importer import CatalogDiff, ImportResult, import_catalog
from services_catalog.records import Issue
from services_catalog.validation import Rules, ValidationReport

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_TTL = timedelta(minutes=30)
SUFFIX = ".xlsx"
MAX_ISSUES_SHOWN = 20
MAX_ISSUE_CHARS = 300
MAX_IDS_SHOWN = 10
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)


class Uploads:
    """Uploaded workbooks in temporary files, keyed by a random token, expiring after `ttl`.

    A file's modification time is set to the (injectable) upload time, so expiry follows the
    application's clock."""

    def __init__(self, directory: Path, ttl: timedelta = UPLOAD_TTL) -> None:
        self.directory = directory
        self.ttl = ttl

    def save(self, data: bytes, now: datetime) -> str:
        """Stores the bytes; returns the token that finds them again."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        token = secrets.token_urlsafe(16)
        path = self._path(token)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        stamp = now.timestamp()
        os.utime(path, (stamp, stamp))
        return token

    def find(self, token: str, now: datetime) -> Path | None:
        """The file of an upload; None when the token is forged, unknown or expired (an
        expired file is deleted)."""
        if not _TOKEN.fullmatch(token):
            return None
        path = self._path(token)
        try:
            saved = path.stat().st_mtime
        except OSError:
            return None
        if now.timestamp() - saved > self.ttl.total_seconds():
            self.discard(token)
            return None
        return path

    def discard(self, token: str) -> None:
        if _TOKEN.fullmatch(token):
            with contextlib.suppress(OSError):
                self._path(token).unlink()

    def sweep(self, now: datetime) -> int:
        """Deletes the expired uploads; returns how many."""
        deleted = 0
        limit = now.timestamp() - self.ttl.total_seconds()
        with contextlib.suppress(OSError):
            for path in self.directory.glob(f"*{SUFFIX}"):
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < limit:
                        path.unlink()
                        deleted += 1
        return deleted

    def _path(self, token: str) -> Path:
        return self.directory / f"{token}{SUFFIX}"


def default_uploads() -> Uploads:
    return Uploads(Path(tempfile.gettempdir()) / "returnee-bot-catalog-uploads")


def acceptable_name(name: str | None) -> bool:
    return bool(name) and str(name).lower().endswith(SUFFIX)


def rules(today: date, max_age_days: int) -> Rules:
    """The rules of `returnee-bot catalog validate` and `import`."""
    return Rules(today=today, max_age_days=max_age_days)


def check(path: Path, rules: Rules, name: str) -> ValidationReport:
    """Reads and validates a workbook (blocking). Problems name `name`, not the temp file; an
    unreadable workbook is a report with one error."""
    try:
        report = files.load(path, rules)
    except InputError as error:
        message = str(error).replace(str(path), name)
        return ValidationReport((Issue("error", name, 1, 1, "", message),), None)
    issues = tuple(Issue(i.severity, i.source.replace(str(path), name), i.line, i.column,
                         i.path, i.message.replace(str(path), name)) for i in report.issues)
    return ValidationReport(issues, report.catalog)


@dataclass(frozen=True, slots=True)
class Review:
    """A checked upload: its report and, without errors, what importing it would change."""

    report: ValidationReport
    diff: CatalogDiff | None

    @property
    def applicable(self) -> bool:
        return self.diff is not None and not self.diff.empty


async def review(
    sessions: async_sessionmaker[AsyncSession], path: Path, rules: Rules, name: str
) -> Review:
    """Validates off the event loop, then diffs against the database without writing."""
    report = await asyncio.to_thread(check, path, rules, name)
    if report.catalog is None:
        return Review(report, None)
    async with sessions() as session, session.begin():
        result = await import_catalog(session, report.catalog, source="review", dry_run=True)
    return Review(report, result.diff)


@dataclass(frozen=True, slots=True)
class Applied:
    report: ValidationReport
    result: ImportResult | None  # None: the workbook no longer validates, nothing imported


async def apply(
    writer: Writer, path: Path, rules: Rules, *, actor: str, now: datetime
) -> Applied:
    """Validates again, then imports and records the audit entry in one transaction."""
    report = await asyncio.to_thread(check, path, rules, "upload.xlsx")
    if report.catalog is None:
        await record(writer, actor=actor, action="catalog.apply", allowed=True, now=now,
                     details={"outcome": "invalid", "errors": len(report.errors)})
        return Applied(report, None)
    async with writer.begin() as session:
        result = await import_catalog(session, report.catalog, source=f"telegram:{actor}")
        await audit.record(
            session=session, actor=actor, action="catalog.apply",
            target=f"catalog_revision:{result.revision_id}", allowed=True, now=now,
            details={"outcome": "imported", "warnings": len(report.warnings),
                     "content_hash": result.content_hash[:12], **_counts(result.diff)})
    return Applied(report, result)


async def record(
    writer: Writer, *, actor: str, action: str, allowed: bool, now: datetime,
    details: Mapping[str, object] | None = None,
) -> None:
    """One audit entry in its own transaction. Details hold counts and codes only."""
    async with writer.begin() as session:
        await audit.record(session=session, actor=actor, action=action, target=None,
                           allowed=allowed, details=details, now=now)


def upload_details(review: Review, size: int) -> dict[str, object]:
    details: dict[str, object] = {"outcome": "checked", "bytes": size,
                                  "errors": len(review.report.errors),
                                  "warnings": len(review.report.warnings)}
    if review.diff is not None:
        details.update(_counts(review.diff))
    return details


def _counts(diff: CatalogDiff) -> dict[str, int]:
    return {"added": len(diff.added), "changed": len(diff.changed),
            "removed": len(diff.removed)}


# ---------------------------------------------------------------- texts (HTML)

def render_review(review: Review, name: str) -> str:
    """The validation report and the dry-run diff, capped to a readable length."""
    report = review.report
    lines = [_("Catalogue check: %(name)s", name=f"<b>{_escape(name, 100)}</b>"),
             _("%(errors)s error(s), %(warnings)s warning(s).",
               errors=format_number(len(report.errors)),
               warnings=format_number(len(report.warnings)))]
    lines += _issues(report)
    if review.diff is None:
        lines += ["", _("Nothing was imported. Please fix the errors and send the file again.")]
        return "\n".join(lines)
    lines += ["", *_diff(review.diff)]
    if review.applicable:
        lines += ["", _("Press “Apply” within %(minutes)s minutes to import these changes.",
                        minutes=format_number(int(UPLOAD_TTL.total_seconds() // 60)))]
    return "\n".join(lines)


def render_applied(applied: Applied) -> str:
    if applied.result is None:
        lines = [_bold(_("The catalogue was not updated.")),
                 _("%(errors)s error(s), %(warnings)s warning(s).",
                   errors=format_number(len(applied.report.errors)),
                   warnings=format_number(len(applied.report.warnings))),
                 *_issues(applied.report)]
        return "\n".join(lines)
    result = applied.result
    return "\n".join([
        _bold(_("Catalogue updated.")) + " "
        + _("Revision %(revision)s.", revision=html.escape(str(result.revision_id))),
        "", *_diff(result.diff)])


def _issues(report: ValidationReport) -> list[str]:
    shown: Sequence[Issue] = [*report.errors, *report.warnings][:MAX_ISSUES_SHOWN]
    lines = [f"• <code>{_escape(str(issue), MAX_ISSUE_CHARS)}</code>" for issue in shown]
    hidden = len(report.issues) - len(shown)
    if hidden > 0:
        lines.append(ngettext("… and %(count)s more issue.", "… and %(count)s more issues.",
                              hidden))
    return lines


def _diff(diff: CatalogDiff) -> list[str]:
    if diff.empty:
        return [_("No changes: the catalogue already matches this file.")]
    lines = [
        _("Services: %(added)s added, %(changed)s changed, %(removed)s removed.",
          added=format_number(len(diff.added)), changed=format_number(len(diff.changed)),
          removed=format_number(len(diff.removed))),
        _("Organisations: %(added)s added, %(changed)s changed. Regions: %(regions_added)s "
          "added, %(regions_changed)s changed.",
          added=format_number(len(diff.organizations_added)),
          changed=format_number(len(diff.organizations_changed)),
          regions_added=format_number(len(diff.regions_added)),
          regions_changed=format_number(len(diff.regions_changed))),
    ]
    groups = (
        (_("Added:"), list(diff.added)),
        (_("Changed:"), [f"{c.id} ({', '.join(c.fields)})" for c in diff.changed]),
        (_("Removed (become inactive):"), list(diff.removed)),
    )
    for label, items in groups:
        if items:
            shown = ", ".join(_escape(item, 120) for item in items[:MAX_IDS_SHOWN])
            more = "…" if len(items) > MAX_IDS_SHOWN else ""
            lines.append(f"{label} <code>{shown}</code>{more}")
    return lines


def _bold(text: str) -> str:
    return f"<b>{text}</b>"


def _escape(text: str, limit: int) -> str:
    return html.escape(text if len(text) <= limit else text[: limit - 1] + "…")
