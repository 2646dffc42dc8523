"""`returnee-bot`: the one command, with grouped subcommands."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from bot import app, database, logs, nlu_setup
from bot.settings import Settings
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
    logs.configure(settings.log_level)
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
@click.pass_context
def nlu_evaluate(ctx: click.Context, report_path: Path | None, folds: int) -> None:
    """Score the engine on the held-out set and by cross-validation."""
    settings = _settings(ctx)
    index = _catalog_index(settings)
    embedder = Embedder()
    parser = nlu_setup.embedded_parser(settings, index, embedder)
    report: dict[str, Any] = {
        "model": parser.model.fingerprint,
        "held_out": evaluate.held_out(parser, load_tests(nlu_setup.NLU_TESTS)),
    }
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


def main() -> None:
    try:
        cli(standalone_mode=True)
    except InputError as error:
        click.echo(str(error), err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
