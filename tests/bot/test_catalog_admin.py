"""End to end: catalogue updates by admins, a workbook sent to the bot, against the fake Bot API."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from telegram.ext import Application

from bot.app import build_application
from bot.channels import admin
from bot.settings import Settings
from bot.storage import audit, staff
from nlu.engine import EmbeddedParser
from services_catalog import files, repository
from services_catalog.schema import Catalog
from tests.bot.conftest import Clock, Sessions, running
from tests.fake_bot_api import FakeBotAPI, FakeUser, SentMessage

App = Application[Any, Any, Any, Any, Any, Any]
ADMIN, CASEWORKER = 2001, 2002
SERVICE = "reintegration-cash-assistance"
ORGANIZATION = "reintegration-partnership"
NEW_NAME = "Cash assistance for reintegration"



@pytest.fixture
async def staffed(catalogued: Sessions) -> Sessions:
    async with catalogued() as session, session.begin():
        now = datetime.now(UTC)
        await staff.add_staff(session=session, telegram_id=ADMIN, role="admin",
                              organization_id=ORGANIZATION, now=now)
        await staff.add_staff(session=session, telegram_id=CASEWORKER, role="caseworker",
                              organization_id=ORGANIZATION, now=now)
    return catalogued


@pytest.fixture
async def app(
    telegram_settings: Settings, staffed: Sessions, parser: EmbeddedParser, clock: Clock
) -> AsyncIterator[App]:
    application = build_application(telegram_settings, parser, clock)
    async with running(application):
        yield application


def workbook(catalog: Catalog, tmp_path: Path, **edits: str) -> bytes:
    """The export of the sample catalogue, with cells of SERVICE's row changed (header=value)."""
    path = tmp_path / "catalogue.xlsx"
    files.write_xlsx(catalog, path)
    book = load_workbook(path)
    sheet = book["services"]
    headers = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == SERVICE)
    for header, value in edits.items():
        row[headers.index(header)].value = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def button_data(messages: list[SentMessage]) -> list[str]:
    return [b[1] for m in messages for row in m.buttons for b in row if b[1]]


async def upload(api: FakeBotAPI, user: FakeUser, name: str, content: bytes) -> list[SentMessage]:
    api.send_document(user, name, content)
    return await api.next_messages(user.id)


async def entries(sessions: Sessions, action: str) -> list[audit.AuditEntry]:
    async with sessions() as session:
        return [e for e in await audit.list_entries(session=session) if e.action == action]


async def service_name(sessions: Sessions) -> str:
    async with sessions() as session:
        service = await repository.get_service(session=session, service_id=SERVICE)
    assert service is not None
    return service.name["en"]


async def test_an_admin_updates_a_service_name(
    app: App, api: FakeBotAPI, staffed: Sessions, sample_catalog: Catalog, tmp_path: Path
):
    user = api.user(id=ADMIN, first_name="Admin", language_code="en")
    report = await upload(api, user, "catalogue.xlsx",
                          workbook(sample_catalog, tmp_path, name_en=NEW_NAME))
    text = "\n".join(m.text for m in report)
    assert "0 error(s)" in text
    assert "1 changed" in text and SERVICE in text
    [apply] = button_data(report)
    assert apply.startswith(admin.APPLY) and len(apply.encode()) <= 64
    assert await service_name(staffed) != NEW_NAME  # a dry run so far
    uploads = await entries(staffed, "catalog.upload")
    assert [(e.actor.startswith("staff:"), e.allowed, e.details["changed"]) for e in uploads] \
        == [(True, True, 1)]

    api.press(user, report[-1], apply)
    result = await api.next_messages(user.id)
    assert "Catalogue updated" in result[0].text
    assert await service_name(staffed) == NEW_NAME
    [applied] = await entries(staffed, "catalog.apply")
    assert applied.allowed and applied.details["outcome"] == "imported"
    assert applied.target is not None and applied.target.startswith("catalog_revision:")
    assert "Admin" not in str(applied.details) and str(ADMIN) not in str(applied.details)
    assert not button_data([api.message(user.id, report[-1].message_id)])  # the button is gone

    api.press(user, report[-1], apply)  # a second press: the upload is used up
    again = await api.next_messages(user.id)
    assert "expired" in again[0].text
    assert not api.errors, api.errors


async def test_an_upload_with_an_error_has_no_apply_button(
    app: App, api: FakeBotAPI, staffed: Sessions, sample_catalog: Catalog, tmp_path: Path
):
    user = api.user(id=ADMIN, first_name="Admin", language_code="en")
    row = 1 + [s.id for s in sample_catalog.services].index(SERVICE) + 1
    report = await upload(api, user, "catalogue.xlsx",
                          workbook(sample_catalog, tmp_path, category="magic"))
    text = "\n".join(m.text for m in report)
    assert "1 error(s)" in text and f"catalogue.xlsx[services]:{row}:" in text
    assert "services[0].category" in text and "'legal_documentation'" in text  # escaped quotes
    assert str(admin.UPLOADS.directory) not in text  # the temporary file is not named
    assert "Nothing was imported" in text
    assert not button_data(report)
    [entry] = await entries(staffed, "catalog.upload")
    assert entry.details["errors"] == 1
    assert not api.errors, api.errors


async def test_a_case_worker_gets_the_text_only_answer(
    app: App, api: FakeBotAPI, staffed: Sessions, sample_catalog: Catalog, tmp_path: Path
):
    user = api.user(id=CASEWORKER, first_name="Worker", language_code="en")
    reply = await upload(api, user, "catalogue.xlsx",
                         workbook(sample_catalog, tmp_path, name_en=NEW_NAME))
    assert len(reply) == 1 and "only read text" in reply[0].text
    assert not any(d.startswith(admin.APPLY) for d in button_data(reply))
    assert not api.downloads
    assert await service_name(staffed) != NEW_NAME
    assert not await entries(staffed, "catalog.upload")


@pytest.mark.parametrize("user_id", [ADMIN, CASEWORKER, 2003])
async def test_a_forged_apply_gets_a_polite_answer(
    app: App, api: FakeBotAPI, staffed: Sessions, user_id: int
):
    user = api.user(id=user_id, first_name="Someone", language_code="en")
    api.send_command(user, "/menu")
    menu = await api.next_messages(user.id)
    api.press(user, menu[-1], "A:nonsense")
    reply = await api.next_messages(user.id)
    assert len(reply) == 1 and "Sorry" in reply[0].text
    assert len(api.callback_answers) == 1
    [entry] = await entries(staffed, "catalog.apply")
    if user_id == ADMIN:
        assert entry.allowed and entry.details == {"outcome": "expired"}
    else:
        assert not entry.allowed
        if user_id == CASEWORKER:
            assert entry.actor.startswith("staff:") and entry.details == {"role": "caseworker"}
        else:
            assert entry.actor == "unknown"


async def test_an_upload_expires_after_30_minutes(
    app: App, api: FakeBotAPI, staffed: Sessions, sample_catalog: Catalog, tmp_path: Path,
    clock: Clock,
):
    user = api.user(id=ADMIN, first_name="Admin", language_code="fr")
    report = await upload(api, user, "catalogue.xlsx",
                          workbook(sample_catalog, tmp_path, name_en=NEW_NAME))
    [apply] = button_data(report)
    clock.advance(minutes=31)
    api.press(user, report[-1], apply)
    reply = await api.next_messages(user.id)
    assert len(reply) == 1 and reply[0].text  # in French once translated; polite either way
    assert await service_name(staffed) != NEW_NAME
    token = apply.removeprefix(admin.APPLY)
    assert not (admin.UPLOADS.directory / f"{token}.xlsx").exists()


@pytest.mark.parametrize("name", ["catalogue.pdf", "catalogue.xlsx.exe", "notes.txt"])
async def test_a_file_that_is_not_a_workbook_is_refused(
    app: App, api: FakeBotAPI, staffed: Sessions, name: str
):
    user = api.user(id=ADMIN, first_name="Admin", language_code="en")
    reply = await upload(api, user, name, b"%PDF-1.4 not a workbook")
    assert len(reply) == 1 and ".xlsx" in reply[0].text and not button_data(reply)
    assert not api.downloads
    [entry] = await entries(staffed, "catalog.upload")
    assert entry.details == {"outcome": "not_xlsx"}


async def test_a_large_file_is_refused_before_downloading(
    app: App, api: FakeBotAPI, staffed: Sessions
):
    user = api.user(id=ADMIN, first_name="Admin", language_code="en")
    api.send_document(user, "catalogue.xlsx", b"PK", file_size=11 * 1024 * 1024)
    reply = await api.next_messages(user.id)
    assert len(reply) == 1 and "too large" in reply[0].text and "10 MB" in reply[0].text
    assert not api.downloads


async def test_a_broken_workbook_is_reported(app: App, api: FakeBotAPI, staffed: Sessions):
    user = api.user(id=ADMIN, first_name="Admin", language_code="en")
    reply = await upload(api, user, "catalogue.xlsx", b"not a zip file at all")
    text = "\n".join(m.text for m in reply)
    assert "1 error(s)" in text and "not a readable XLSX workbook" in text
    assert "catalogue.xlsx" in text and not button_data(reply)
    assert api.downloads
