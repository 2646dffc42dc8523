"""`returnee-bot`: the one command, with grouped subcommands."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from bot import app, database, logs, nlu_setup
from bot.settings import Settings
from bot.storage import audit, reports, retention
from bot.storage import staff as staff_store
from nlu import evaluate
from nlu.data import TrainingData, load_tests
from nlu.data import load as load_training_data
from nlu.embeddings import Embedder
from nlu.engine import EmbeddedParser, load_or_train
from nlu.rasa_export import export_rasa
from nlu.training import train
from services_catalog import files, hsds, repository
from services_catalog.db import create_engine, session_factory
from services_catalog.errors import InputError
from services_catalog.importer import import_catalog
from services_catalog.schema import CATEGORIES
from services_catalog.validation import Rules, ValidationReport

T = TypeVar("T")
log = logging.getLogger(__name__)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    assert settings is not None
    return settings


async def _with_session(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Reintegration services bot for returning migrants."""
    try:
        settings = Settings()
    except ValidationError as error:
        raise click.ClickException(f"invalid settings:\n{error}") from None
    logs.configure(settings.log_level, settings.log_format, logs.secrets_of(settings))
    ctx.obj = settings


# ---------------------------------------------------------------- db

@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    database.upgrade(_settings(ctx).database_url, revision)
    click.echo(f"Database at {revision}.")


@db.command("downgrade")
@click.argument("revision")
@click.pass_context
def db_downgrade(ctx: click.Context, revision: str) -> None:
    """Revert migrations down to REVISION."""
    database.downgrade(_settings(ctx).database_url, revision)
    click.echo(f"Database at {revision}.")


# ---------------------------------------------------------------- catalog

@cli.group()
def catalog() -> None:
    """Services catalogue: validate, import, export, summary."""


def _load(settings: Settings, path: Path | None, max_age_days: int | None) -> ValidationReport:
    rules = Rules(today=date.today(),
                  max_age_days=max_age_days or settings.catalog_max_age_days)
    report = files.load(path or settings.catalog_path, rules)
    for issue in report.issues:
        click.echo(str(issue), err=issue.severity == "error")
    return report


_path_argument = click.argument(
    "path", required=False, type=click.Path(path_type=Path, exists=False)
)
_max_age_option = click.option(
    "--max-age-days", type=click.IntRange(min=1), help="Warn when last_verified is older."
)


@catalog.command("validate")
@_path_argument
@_max_age_option
@click.pass_context
def catalog_validate(ctx: click.Context, path: Path | None, max_age_days: int | None) -> None:
    """Check a catalogue (YAML file or folder, XLSX, CSV folder) without importing it."""
    report = _load(_settings(ctx), path, max_age_days)
    click.echo(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if not report.ok:
        sys.exit(1)


@catalog.command("import")
@_path_argument
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@_max_age_option
@click.pass_context
def catalog_import(
    ctx: click.Context, path: Path | None, dry_run: bool, max_age_days: int | None
) -> None:
    """Validate, then import everything in one transaction (all or nothing)."""
    settings = _settings(ctx)
    report = _load(settings, path, max_age_days)
    if report.catalog is None:
        click.echo(f"{len(report.errors)} error(s): nothing imported.", err=True)
        sys.exit(1)
    parsed = report.catalog
    source = str(path or settings.catalog_path)

    async def work(session: Any) -> Any:
        async with session.begin():
            return await import_catalog(session, parsed, source=source, dry_run=dry_run)

    result = asyncio.run(_with_session(settings, work))
    click.echo(result.diff.render())
    if dry_run:
        click.echo("Dry run: nothing was written.")
    else:
        click.echo(f"Recorded catalogue revision {result.revision_id} "
                   f"({result.content_hash[:12]}).")


@catalog.command("export")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "hsds", "yaml"]),
              required=True)
@click.option("--language", type=click.Choice(["en", "fr", "ar"]), default=None,
              help="Language of HSDS texts (default: DEFAULT_LANGUAGE).")
@click.option("--include-inactive", is_flag=True, help="Also export removed services.")
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_context
def catalog_export(
    ctx: click.Context, fmt: str, language: str | None, include_inactive: bool, path: Path
) -> None:
    """Write the stored catalogue to PATH (csv and yaml write a folder)."""
    settings = _settings(ctx)

    async def work(session: Any) -> Any:
        return await repository.export_catalog(session=session, include_inactive=include_inactive)

    stored = asyncio.run(_with_session(settings, work))
    if fmt == "xlsx":
        files.write_xlsx(stored, path)
    elif fmt == "csv":
        files.write_csv_folder(stored, path)
    elif fmt == "yaml":
        files.write_yaml_folder(stored, path)
    else:
        document = hsds.export(stored, language=language or settings.default_language,
                               chain=settings.fallback_chain())
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    click.echo(f"Exported {len(stored.services)} services to {path}.")


@catalog.command("summary")
@click.pass_context
def catalog_summary(ctx: click.Context) -> None:
    """Counts of the stored catalogue by category and region."""
    _print_summary(_settings(ctx))


def _print_summary(settings: Settings) -> None:
    async def work(session: Any) -> repository.CatalogSummary:
        return await repository.summarize(session=session)

    summary = asyncio.run(_with_session(settings, work))
    revision = summary.revision
    click.echo(f"Catalogue: {summary.active} active services of {summary.services}, "
               f"{summary.organizations} organizations, {summary.regions} regions.")
    if revision:
        click.echo(f"Revision {revision.id} ({revision.content_hash[:12]}) imported "
                   f"{revision.imported_at:%Y-%m-%d %H:%M} from {revision.source}.")
    click.echo("By category: " + ", ".join(f"{k} {v}" for k, v in summary.by_category.items()))
    click.echo("By region:   " + ", ".join(f"{k} {v}" for k, v in summary.by_region.items()))


# ---------------------------------------------------------------- nlu

@cli.group()
def nlu() -> None:
    """Language understanding: train, parse, evaluate, export to Rasa."""


def _catalog_index(settings: Settings) -> nlu_setup.CatalogIndex:
    engine = create_engine(settings.database_url)

    async def work() -> nlu_setup.CatalogIndex:
        try:
            return await nlu_setup.load_catalog_index(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(work())


@nlu.command("train")
@click.pass_context
def nlu_train(ctx: click.Context) -> None:
    """Train the embedded model (or reuse the cached one for this data and code)."""
    settings = _settings(ctx)
    started = time.perf_counter()
    model = load_or_train(nlu_setup.NLU_DATA, settings.nlu_cache_dir, Embedder())
    click.echo(f"Model {model.fingerprint} ready in {time.perf_counter() - started:.1f} s "
               f"(cache: {settings.nlu_cache_dir}).")


@nlu.command("parse")
@click.pass_context
def nlu_parse(ctx: click.Context) -> None:
    """Read messages from stdin, one per line; write one JSON object per line."""
    settings = _settings(ctx)
    parser = nlu_setup.build_parser(settings, _catalog_index(settings))
    for line in io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace"):
        result = parser.parse(line.rstrip("\r\n"))
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))


@nlu.command("evaluate")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="Write the full report (JSON) here.")
@click.option("--folds", type=click.IntRange(min=0), default=5,
              help="Cross-validation folds (0 skips cross-validation).")
@click.option("--held-out/--no-held-out", default=True,
              help="Score the held-out set; skip it while tuning, which must choose by "
                   "cross-validation alone.")
@click.pass_context
def nlu_evaluate(ctx: click.Context, report_path: Path | None, folds: int,
                 held_out: bool) -> None:
    """Score the engine on the held-out set and by cross-validation."""
    if not (folds or held_out):
        raise click.UsageError("Nothing to evaluate: give --folds above 0, or --held-out.")
    settings = _settings(ctx)
    index = _catalog_index(settings)
    embedder = Embedder()
    parser = nlu_setup.embedded_parser(settings, index, embedder)
    report: dict[str, Any] = {"model": parser.model.fingerprint}
    if held_out:
        report["held_out"] = evaluate.held_out(parser, load_tests(nlu_setup.NLU_TESTS))
    if folds:
        def make(subset: TrainingData) -> EmbeddedParser:
            return nlu_setup.embedded_parser(settings, index, embedder, train(subset, embedder))
        report["cross_validation"] = evaluate.cross_validate(
            load_training_data(nlu_setup.NLU_DATA), make, folds)
    for name in ("held_out", "cross_validation"):
        if name in report:
            click.echo(f"{name}: " + json.dumps(
                {k: v for k, v in report[name].items() if not isinstance(v, (dict, list))}
                | {"intent_accuracy_by_language": report[name]["intent_accuracy_by_language"]},
                ensure_ascii=False))
    if report_path:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
        click.echo(f"Report written to {report_path}.")


@nlu.command("export-rasa")
@click.argument("folder", type=click.Path(path_type=Path))
def nlu_export_rasa(folder: Path) -> None:
    """Write a Rasa 3.x project (DIET pipeline and this data) to FOLDER."""
    written = export_rasa(load_training_data(nlu_setup.NLU_DATA), folder)
    click.echo("\n".join(str(path) for path in written))


# ---------------------------------------------------------------- run

@cli.command("run")
@click.pass_context
def run(ctx: click.Context) -> None:
    """Start the Telegram bot, or the console chat when TELEGRAM_BOT_TOKEN is not set."""
    settings = _settings(ctx)
    if settings.telegram_bot_token is None:
        click.echo("TELEGRAM_BOT_TOKEN is not set: starting the console chat "
                   "(type /quit to leave).", err=True)
        asyncio.run(app.run_console(settings, None))
    else:
        app.run_telegram(settings)


@cli.command("chat")
@click.option("--lang", type=click.Choice(["en", "fr", "ar"]), default=None,
              help="Start in this language instead of asking.")
@click.pass_context
def chat(ctx: click.Context, lang: str | None) -> None:
    """Talk to the bot in this terminal; buttons are numbered choices."""
    asyncio.run(app.run_console(_settings(ctx), lang))


# ---------------------------------------------------------------- staff

@cli.group()
def staff() -> None:
    """The staff allowlist: who may act on tickets, for which organisation."""


def _codes(value: str | None) -> tuple[str, ...]:
    """A comma-separated option as a tuple, without blanks or repeats."""
    codes = (part.strip() for part in (value or "").split(","))
    return tuple(dict.fromkeys(code for code in codes if code))


async def _check_staff_scope(
    session: Any, organization_id: str, regions: tuple[str, ...], topics: tuple[str, ...]
) -> None:
    """Raises InputError unless the organisation, regions and topics are in the catalogue."""
    if await repository.get_organization(session=session,
                                         organization_id=organization_id) is None:
        raise InputError(f"unknown organization {organization_id!r}: not in the imported "
                         "catalogue (see `returnee-bot catalog summary`)")
    known: set[str] = set()
    for region in await repository.list_regions(session=session):
        known |= {region.id, *(district.id for district in region.districts)}
    unknown_regions = [code for code in regions if code not in known]
    if unknown_regions:
        raise InputError(f"unknown region(s) {', '.join(unknown_regions)}: use region or "
                         "district codes from the catalogue")
    unknown_topics = [topic for topic in topics if topic not in CATEGORIES]
    if unknown_topics:
        raise InputError(f"unknown topic(s) {', '.join(unknown_topics)}: expected catalogue "
                         f"categories ({', '.join(CATEGORIES)})")


@staff.command("add")
@click.option("--telegram-id", type=int, required=True, help="Their numeric Telegram user id.")
@click.option("--role", required=True, help=f"One of {', '.join(staff_store.ROLES)}.")
@click.option("--org", "organization_id", required=True, help="Organisation id in the catalogue.")
@click.option("--regions", help="Comma-separated region or district codes (default: all).")
@click.option("--topics", help="Comma-separated catalogue categories (default: all).")
@click.option("--name", "display_name", help="Name shown to colleagues.")
@click.pass_context
def staff_add(
    ctx: click.Context, telegram_id: int, role: str, organization_id: str, regions: str | None,
    topics: str | None, display_name: str | None,
) -> None:
    """Allow someone to act on tickets (or update and reinstate them)."""
    if role not in staff_store.ROLES:
        raise InputError(f"unknown role {role!r}: expected one of {', '.join(staff_store.ROLES)}")
    region_codes, topic_codes = _codes(regions), _codes(topics)

    async def work(session: Any) -> staff_store.Staff:
        async with session.begin():
            await _check_staff_scope(session, organization_id, region_codes, topic_codes)
            now = datetime.now(UTC)
            member = await staff_store.add_staff(
                session=session, telegram_id=telegram_id, role=role,
                organization_id=organization_id, regions=region_codes, topics=topic_codes,
                display_name=display_name, now=now)
            await audit.record(session=session, actor="cli", action="staff.add",
                               target=f"staff:{member.id}", allowed=True,
                               details={"role": role, "organization": organization_id},
                               now=now)
            return member

    member = asyncio.run(_with_session(_settings(ctx), work))
    click.echo(f"Staff {member.id}: {member.role} at {member.organization_id}, "
               f"regions {', '.join(member.regions) or 'all'}, "
               f"topics {', '.join(member.topics) or 'all'}.")


@staff.command("revoke")
@click.option("--telegram-id", type=int, required=True, help="Their numeric Telegram user id.")
@click.pass_context
def staff_revoke(ctx: click.Context, telegram_id: int) -> None:
    """Withdraw someone's access, effective at their next action."""

    async def work(session: Any) -> int:
        async with session.begin():
            member = await staff_store.get_active_staff(session=session, telegram_id=telegram_id)
            now = datetime.now(UTC)
            if member is None or not await staff_store.revoke_staff(
                    session=session, telegram_id=telegram_id, now=now):
                raise InputError("no active staff member has this Telegram id")
            await audit.record(session=session, actor="cli", action="staff.revoke",
                               target=f"staff:{member.id}", allowed=True,
                               details={"role": member.role,
                                        "organization": member.organization_id},
                               now=now)
            return member.id

    staff_id = asyncio.run(_with_session(_settings(ctx), work))
    click.echo(f"Staff {staff_id} revoked.")


@staff.command("list")
@click.option("--org", "organization_id", help="Only this organisation.")
@click.option("--include-revoked", is_flag=True, help="Also list revoked staff.")
@click.pass_context
def staff_list(ctx: click.Context, organization_id: str | None, include_revoked: bool) -> None:
    """The staff allowlist as a table."""

    async def work(session: Any) -> list[staff_store.Staff]:
        return await staff_store.list_staff(session=session, organization_id=organization_id,
                                            include_revoked=include_revoked)

    members = asyncio.run(_with_session(_settings(ctx), work))
    if not members:
        click.echo("No staff.")
        return
    table = [("ID", "TELEGRAM ID", "ROLE", "ORGANIZATION", "REGIONS", "TOPICS", "NAME",
              "STATUS")]
    table += [(str(m.id), str(m.telegram_id), m.role, m.organization_id,
               ",".join(m.regions) or "all", ",".join(m.topics) or "all",
               m.display_name or "-", "active" if m.active else "revoked") for m in members]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                   .rstrip())


# ---------------------------------------------------------------- report

@cli.group()
def report() -> None:
    """Anonymous figures: unmet needs for advocacy, ticket handling."""


_since_option = click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]),
                             help="From this day on (YYYY-MM-DD, UTC).")


def _label(value: str | None) -> str:
    return "none" if value is None else value


@report.command("gaps")
@_since_option
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--totals", "totals_only", is_flag=True,
              help="CSV: only the totals per topic, region and reason.")
@click.pass_context
def report_gaps(
    ctx: click.Context, since: datetime | None, fmt: str, totals_only: bool
) -> None:
    """The unmet-needs register: needs per day, and totals per topic, region and reason."""
    since_day = since.date() if since else None

    async def work(session: Any) -> reports.GapReport:
        return await reports.report_gaps(session=session, since=since_day)

    gaps = asyncio.run(_with_session(_settings(ctx), work))
    if fmt == "json":
        click.echo(json.dumps({
            "since": since_day.isoformat() if since_day else None,
            "count": gaps.count,
            "entries": [{"day": e.day.isoformat(), "topic": e.topic, "region": e.region,
                         "language": e.language, "reason": e.reason, "count": e.count}
                        for e in gaps.entries],
            "totals": [{"topic": t.topic, "region": t.region, "reason": t.reason,
                        "count": t.count} for t in gaps.totals],
        }, ensure_ascii=False, indent=2))
        return
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if totals_only:
        writer.writerow(("topic", "region", "reason", "count"))
        writer.writerows((t.topic or "", t.region or "", t.reason, t.count) for t in gaps.totals)
    else:
        writer.writerow(("day", "topic", "region", "language", "reason", "count"))
        writer.writerows((e.day.isoformat(), e.topic or "", e.region or "", e.language,
                          e.reason, e.count) for e in gaps.entries)
    click.echo(out.getvalue(), nl=False)


@report.command("tickets")
@_since_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def report_tickets(ctx: click.Context, since: datetime | None, fmt: str) -> None:
    """Tickets by status, topic, region and outcome; the median time to a first response."""
    since_at = since.replace(tzinfo=UTC) if since else None

    async def work(session: Any) -> reports.TicketReport:
        return await reports.report_tickets(session=session, since=since_at)

    figures = asyncio.run(_with_session(_settings(ctx), work))
    groups: dict[str, Mapping[Any, int]] = {
        "status": figures.by_status, "topic": figures.by_topic, "region": figures.by_region,
        "outcome": figures.by_outcome}
    if fmt == "json":
        click.echo(json.dumps({
            "since": since_at.date().isoformat() if since_at else None,
            "tickets": figures.total,
            **{f"by_{name}": {_label(k): v for k, v in counts.items()}
               for name, counts in groups.items()},
            "responded": figures.responded,
            "median_first_response_minutes": figures.median_first_response_minutes,
        }, ensure_ascii=False, indent=2))
        return
    period = f" since {since_at:%Y-%m-%d}" if since_at else ""
    click.echo(f"Tickets{period}: {figures.total}")
    for name, counts in groups.items():
        click.echo(f"By {name}:".ljust(12) + (", ".join(
            f"{_label(k)} {v}" for k, v in counts.items()) or "-"))
    median = figures.median_first_response_minutes
    click.echo("Median time to first response: " + (
        f"{median:.1f} min over {figures.responded} ticket(s)" if median is not None
        else "- (no responses yet)"))


# ---------------------------------------------------------------- maintenance

@cli.group()
def maintenance() -> None:
    """Housekeeping: retention of personal data."""


@maintenance.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what would change; write nothing.")
@click.pass_context
def maintenance_retention(ctx: click.Context, dry_run: bool) -> None:
    """Delete expired users; anonymise tickets closed TICKET_RETENTION_DAYS ago."""
    settings = _settings(ctx)

    async def work(session: Any) -> retention.RetentionReport:
        async with session.begin():
            now = datetime.now(UTC)
            counts = await retention.apply_retention(
                session=session, now=now, ticket_days=settings.ticket_retention_days,
                dry_run=dry_run)
            if not dry_run:
                await audit.record(session=session, actor="cli", action="retention",
                                   target=None, allowed=True,
                                   details=dataclasses.asdict(counts), now=now)
            return counts

    counts = asyncio.run(_with_session(settings, work))
    days = settings.ticket_retention_days
    lines = (
        ("Would delete" if dry_run else "Deleted", counts.users_deleted, "expired user(s)"),
        ("Would anonymise" if dry_run else "Anonymised", counts.tickets_anonymised,
         f"ticket(s) closed more than {days} day(s) ago"),
        ("Would delete" if dry_run else "Deleted", counts.relay_messages_deleted,
         "relayed-message link(s)"),
        ("Would clear" if dry_run else "Cleared", counts.notes_cleared, "internal note(s)"),
    )
    for verb, count, what in lines:
        click.echo(f"{verb} {count} {what}.")
    click.echo("Dry run: nothing was written." if dry_run else "Recorded in the audit log.")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except InputError as error:
        click.echo(str(error), err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
