"""Catalogue benchmark: 10,000 services x 3 languages; validate+import, query latency, memory.

Run with `make bench`. Writes benchmarks/results/catalog.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import resource
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import percentile
from bot import database
from services_catalog import files, repository, synthetic, yaml_format
from services_catalog.db import create_engine, session_factory
from services_catalog.importer import import_catalog
from services_catalog.schema import CATEGORIES
from services_catalog.validation import Rules

SERVICES = int(os.environ.get("BENCH_SERVICES", "10000"))
REGIONS = 14
QUERIES = 2000
RESULTS = Path(__file__).resolve().parent / "results" / "catalog.json"
FILLER = ("This service helps returnees and their families with practical support, "
          "information about their rights and orientation towards other providers. ") * 2


def _document() -> dict[str, Any]:
    document = synthetic.catalog(SERVICES, regions=REGIONS, organizations=50)
    for service in document["services"]:
        service["description"] = {lang: f"{FILLER} [{lang}]" for lang in ("en", "fr", "ar")}
    return document


async def _import_and_query(url: str, path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    report = files.load(path, Rules(today=date.today()))
    validated = time.perf_counter()
    assert report.catalog is not None, str(report)[:2000]
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        result = await import_catalog(session, report.catalog, source=str(path))
    imported = time.perf_counter()
    async with sessions() as session, session.begin():
        again = await import_catalog(session, report.catalog, source=str(path))
    reimported = time.perf_counter()
    assert len(result.diff.added) == SERVICES and again.diff.empty

    rng = random.Random(7)
    latencies: list[float] = []
    sizes: list[int] = []
    for _ in range(QUERIES):
        category = rng.choice(CATEGORIES)
        region = f"R{rng.randint(1, REGIONS)}"
        begin = time.perf_counter()
        async with sessions() as session:
            found = await repository.list_services(session=session, category=category,
                                                   region=region, limit=50)
        latencies.append((time.perf_counter() - begin) * 1000)
        sizes.append(len(found))
    await engine.dispose()
    return {
        "validate_s": round(validated - started, 3),
        "import_s": round(imported - validated, 3),
        "validate_plus_import_s": round(imported - started, 3),
        "reimport_unchanged_s": round(reimported - imported, 3),
        "query_category_region": {
            "queries": QUERIES,
            "p50_ms": percentile(latencies, 0.50),
            "p99_ms": percentile(latencies, 0.99),
            "max_ms": round(max(latencies), 3),
            "mean_results": round(statistics.mean(sizes), 1),
        },
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.yml"
        path.write_text(yaml_format.dumps_document(_document()), encoding="utf-8")
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{folder}/bench.db"
        database.upgrade(url)
        measured = asyncio.run(_import_and_query(url, path))
        file_mb = round(path.stat().st_size / 1e6, 1)
    peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report = {
        "benchmark": "catalog",
        "services": SERVICES,
        "languages": 3,
        "regions": REGIONS,
        "yaml_file_mb": file_mb,
        "database": url.split(":", 1)[0],
        **measured,
        "peak_rss_mb": peak_mb,
        "targets": {"validate_plus_import_s": 10, "query_p99_ms": 5},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "date": date.today().isoformat(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
