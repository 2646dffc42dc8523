"""NLU benchmark: evaluation against the targets, training, load, latency and memory.

Run with `make bench`. Writes benchmarks/results/nlu.json.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import PEAK_RSS_MB, host_speed, percentile
from bot.nlu_setup import (
    NLU_DATA,
    NLU_TESTS,
    CatalogIndex,
    catalog_index_from_files,
    embedded_parser,
)
from bot.settings import PROJECT_ROOT, Settings
from nlu import evaluate
from nlu.data import load, load_tests
from nlu.embeddings import Embedder
from nlu.training import train

RESULTS = Path(__file__).resolve().parent / "results" / "nlu.json"
TARGETS = {"intent_accuracy_per_language": 0.92, "topic_accuracy": 0.90,
           "language_id_3_words": 0.98, "emergency_recall": 1.0, "out_of_scope_rejection": 0.90,
           "parse_p50_ms": 2, "parse_p99_ms": 20, "training_s": 10, "model_load_s": 1,
           "rss_mb": 200}


CATALOG = PROJECT_ROOT / "services_catalog" / "data"


def catalog_index() -> CatalogIndex:
    return catalog_index_from_files(CATALOG)


def _load_and_memory(cache: Path) -> dict[str, float]:
    """Model load time and peak RSS, in a fresh process that loads and parses: a message that
    the n-gram stage answers, and one that takes the embedding (any lexicon hit does)."""
    script = (
        "import json, resource, time\n"
        "from pathlib import Path\n"
        "from bot.nlu_setup import catalog_index_from_files, embedded_parser\n"
        "from bot.settings import Settings\n"
        "start = time.perf_counter()\n"
        f"settings = Settings(_env_file=None, nlu_cache_dir=Path({str(cache)!r}))\n"
        f"index = catalog_index_from_files(Path({str(CATALOG)!r}))\n"
        "parser = embedded_parser(settings, index)\n"
        "parser.parse('where is the clinic')\n"
        "assert parser.parse('he has a knife, where is the police').urgent\n"
        "elapsed = time.perf_counter() - start\n"
        f"rss = {PEAK_RSS_MB}\n"
        "import sys\n"
        "assert not any(m.startswith('sklearn') for m in sys.modules)\n"
        "print(json.dumps({'model_load_and_first_parse_s': round(elapsed, 3), 'rss_mb': rss}))\n"
    )
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, cwd=PROJECT_ROOT, env={**os.environ,
                                                               "OMP_NUM_THREADS": "1"})
    result: dict[str, float] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


class _CountedEmbedder(Embedder):
    """Counts the messages embedded one by one: those that the n-gram stage left."""

    messages = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.messages += len(texts) == 1
        return super().encode(texts)


def main() -> None:
    speed_before = host_speed()
    training_data = load(NLU_DATA)
    started = time.perf_counter()
    embedder = Embedder()
    model = train(training_data, embedder)
    training_s = round(time.perf_counter() - started, 2)
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder)
        settings = Settings(_env_file=None, nlu_cache_dir=cache)
        index = catalog_index()
        counted = _CountedEmbedder()
        parser = embedded_parser(settings, index, counted)  # trains into the cache once
        memory = _load_and_memory(cache)
        retrained = time.perf_counter()  # as after a data edit: the sentences are stored
        stored = Embedder()
        stored.keep_files_in(cache)
        train(training_data, stored)
        retraining_s = round(time.perf_counter() - retrained, 2)
        model_mb = round(sum(p.stat().st_size for p in cache.glob("*.joblib")) / 1e6, 1)
    test = load_tests(NLU_TESTS)
    latencies: list[float] = []
    counted.messages = 0
    for example in test.examples:
        begin = time.perf_counter()
        parser.parse(example.text)
        latencies.append((time.perf_counter() - begin) * 1000)
    by_ngrams = round(1 - counted.messages / len(latencies), 3)
    held_out = evaluate.held_out(parser, test)

    def make(subset: Any) -> Any:
        return embedded_parser(settings, index, embedder, train(subset, embedder))

    cross = evaluate.cross_validate(training_data, make, folds=5)
    summary = {k: v for k, v in held_out.items()
               if k not in ("intents", "topics", "confusion", "misclassified")}
    report = {
        "benchmark": "nlu",
        "training_examples": len(training_data.examples),
        "held_out_examples": len(test.examples),
        "held_out": summary,
        "cross_validation": {k: v for k, v in cross.items()
                             if k not in ("intents", "topics", "confusion", "misclassified")},
        "held_out_per_intent": held_out["intents"],
        "held_out_per_topic": held_out["topics"],
        "parse_ms": {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
                     "messages": len(latencies),
                     "answered_by_ngrams": by_ngrams},
        "training_s": training_s,
        "training_with_stored_sentences_s": retraining_s,
        **memory,
        "model_size_mb": model_mb,
        "fingerprint": model.fingerprint,
        "peak_rss_benchmark_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "targets": TARGETS,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "speed_at_start": speed_before, "speed_at_end": host_speed()},
        "date": date.today().isoformat(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(json.dumps({k: report[k] for k in ("held_out", "parse_ms", "training_s",
                                              "training_with_stored_sentences_s",
                                              "model_load_and_first_parse_s", "rss_mb")},
                     indent=2))


if __name__ == "__main__":
    main()
