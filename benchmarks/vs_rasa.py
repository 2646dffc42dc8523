"""The embedded engine against Rasa Open Source 3.6 (DIET), on the same data, in one run.

Run with `make bench-rasa` (not part of `make test`); it installs Rasa into `.venv-rasa`
first. This module exports the Rasa project to var/rasa-project, trains Rasa there, serves
it on a free port on 127.0.0.1, runs tests/nlu/test_rasa_live.py against that server,
scores both engines on the held-out set (nlu/tests) and measures parse latency, training
time, start-up time and memory. The Rasa server is always stopped at the end.

Writes benchmarks/results/vs_rasa.json and prints a Markdown table.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import joblib

from benchmarks import PEAK_RSS_MB, percentile
from benchmarks.nlu import CATALOG, catalog_index
from bot.nlu_setup import (
    NLU_DATA,
    NLU_TESTS,
    CatalogIndex,
    embedded_parser,
)
from bot.settings import PROJECT_ROOT, Settings
from nlu import evaluate
from nlu.data import TrainingData, load, load_tests
from nlu.embeddings import Embedder
from nlu.engine import EmbeddedParser, fingerprint
from nlu.rasa_backend import BACKEND, RasaParser
from nlu.rasa_export import CONFIG_FILE, NLU_FILE, export_rasa
from nlu.training import train
from nlu.types import LANGUAGES, Parser

RESULTS = Path(__file__).resolve().parent / "results" / "vs_rasa.json"
RASA_VENV = PROJECT_ROOT / os.environ.get("RASA_VENV", ".venv-rasa")
RASA = RASA_VENV / "bin" / "rasa"
RASA_PROJECT = PROJECT_ROOT / "var" / "rasa-project"
LIVE_TEST = "tests/nlu/test_rasa_live.py"
HOST = "127.0.0.1"
TRAIN_TIMEOUT_S = float(os.environ.get("BENCH_RASA_TRAIN_TIMEOUT", "7200"))
START_TIMEOUT_S = float(os.environ.get("BENCH_RASA_START_TIMEOUT", "600"))
STOP_TIMEOUT_S = 30.0
PYTEST_TIMEOUT_S = 1800.0
EMBEDDED_START_TIMEOUT_S = 600.0
HTTP_TIMEOUT_S = 30.0
FIRST_MESSAGE = "where is the clinic"
# Rasa's emergency_recall includes the embedded engine's alarm, which RasaParser keeps;
# emergency_intent_recall is each engine's own.
SUMMARY_KEYS = ("examples", "intent_accuracy", "intent_accuracy_by_language",
                "emergency_recall", "emergency_intent_recall", "out_of_scope_rejection")


class BenchmarkError(RuntimeError):
    """A step of the benchmark failed; the message says which and why."""


def _latency(samples: list[float]) -> dict[str, float]:
    return {"p50": percentile(samples, 0.50), "p99": percentile(samples, 0.99),
            "max": round(max(samples), 3), "messages": len(samples)}


def _timed(parse: Callable[[str], object], texts: list[str]) -> list[float]:
    """Milliseconds per call, one message at a time."""
    samples = []
    for text in texts:
        begin = time.perf_counter()
        parse(text)
        samples.append((time.perf_counter() - begin) * 1000)
    return samples


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {key: report[key] for key in SUMMARY_KEYS} | {
        "per_intent_f1": {label: scores["f1"] for label, scores in report["intents"].items()},
        "misclassified_intents": sum(1 for m in report["misclassified"]
                                     if m["expected"] != m["predicted"]),
    }


# ---------------------------------------------------------------- embedded engine

def _embedded_start(cache: Path) -> dict[str, float]:
    """Model load (joblib, from the cache) + first parse, and peak RSS, in a fresh process."""
    script = (
        "import time\n"
        "started = time.perf_counter()\n"
        "import json, resource\n"
        "from pathlib import Path\n"
        "from bot.nlu_setup import NLU_DATA, catalog_index_from_files, embedded_parser\n"
        "from bot.settings import Settings\n"
        "imports_s = time.perf_counter() - started\n"
        "from nlu.engine import fingerprint\n"
        "cache = Path(" + repr(str(cache)) + ")\n"
        "if not (cache / f'model-{fingerprint(NLU_DATA)}.joblib').exists():\n"
        "    raise SystemExit('no cached model for this code and data: did nlu/ change?')\n"
        "index = catalog_index_from_files(Path(" + repr(str(CATALOG)) + "))  # the bot: database\n"
        "settings = Settings(_env_file=None, nlu_cache_dir=cache)\n"
        "start = time.perf_counter()\n"
        "parser = embedded_parser(settings, index)\n"
        f"parser.parse({FIRST_MESSAGE!r})\n"
        "load_s = time.perf_counter() - start\n"
        f"rss = {PEAK_RSS_MB}\n"
        "print(json.dumps({'load_and_first_parse_s': round(load_s, 3),\n"
        "                  'imports_s': round(imports_s, 3), 'peak_rss_mb': round(rss, 1)}))\n"
    )
    try:
        output = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True,
            cwd=PROJECT_ROOT, timeout=EMBEDDED_START_TIMEOUT_S,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
    except subprocess.CalledProcessError as error:
        raise BenchmarkError(f"the embedded start-up process failed:\n{error.stderr}") from None
    result: dict[str, float] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def embedded_bench(training: TrainingData, test: TrainingData, index: CatalogIndex,
                   cache: Path) -> tuple[EmbeddedParser, dict[str, Any]]:
    """Train (timed), cache, evaluate and time the embedded engine."""
    key = fingerprint(NLU_DATA)
    started = time.perf_counter()
    embedder = Embedder()
    model = train(training, embedder, key)
    training_s = time.perf_counter() - started
    joblib.dump(model, cache / f"model-{key}.joblib")  # what load_or_train reads
    settings = Settings(_env_file=None, nlu_cache_dir=cache)
    parser = embedded_parser(settings, index, embedder, model)
    texts = [e.text for e in test.examples]
    parser.parse(FIRST_MESSAGE)  # warm-up: loads the single-message encoder
    latencies = _timed(parser.parse, texts)
    report = evaluate.held_out(parser, test)
    start = _embedded_start(cache)
    return parser, {
        "held_out": _summary(report),
        "parse_ms": _latency(latencies),
        "training_s": round(training_s, 2),
        "startup_s": start["load_and_first_parse_s"],
        "startup": start | {"what": "joblib load from the cache + catalogue matcher + first "
                                    "parse, in a fresh process; imports_s is Python imports"},
        "rss_mb": start["peak_rss_mb"],
        "rss": "peak RSS (getrusage) of a fresh process that loads the model and parses once",
    }


# ---------------------------------------------------------------- Rasa

def _rasa_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RASA_LIVE_URL", "VIRTUAL_ENV")}
    return env | {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
                  "PATH": f"{RASA_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"}


def _rasa_version() -> str:
    found = sorted(RASA_VENV.glob("lib/python*/site-packages/rasa-*.dist-info"))
    return found[0].name.removeprefix("rasa-").removesuffix(".dist-info") if found else "?"


def rasa_train(folder: Path) -> float:
    """Export the project, train it from scratch (no cache, no old models); seconds."""
    shutil.rmtree(folder, ignore_errors=True)
    export_rasa(load(NLU_DATA), folder)
    log_path = folder / "train.log"
    command = [str(RASA), "train", "nlu", "--config", CONFIG_FILE, "--nlu", NLU_FILE,
               "--out", "models"]
    with tempfile.TemporaryDirectory() as cache, log_path.open("w") as log:
        env = _rasa_env() | {"RASA_CACHE_DIRECTORY": cache}
        print(f"training Rasa: {' '.join(command)} (in {folder}; log: {log_path})", flush=True)
        started = time.perf_counter()
        try:
            subprocess.run(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                           check=True, timeout=TRAIN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise BenchmarkError(f"rasa train did not finish in {TRAIN_TIMEOUT_S:.0f} s; "
                                 f"log:\n{_tail(log_path)}") from None
        except subprocess.CalledProcessError as error:
            raise BenchmarkError(f"rasa train failed (exit {error.returncode}); "
                                 f"log:\n{_tail(log_path)}") from None
        elapsed = time.perf_counter() - started
    if not list((folder / "models").glob("*.tar.gz")):
        raise BenchmarkError(f"rasa train wrote no model; log:\n{_tail(log_path)}")
    return elapsed


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RasaServer:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    startup_s: float


def _ready(client: httpx.Client, url: str) -> bool:
    """The server answers /status (or `/` if /status needs a token)."""
    try:
        status = client.get(url + "/status")
        if status.status_code == 200:
            return True
        return status.status_code in (401, 403) and client.get(url + "/").status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def rasa_server(folder: Path) -> Iterator[RasaServer]:
    """`rasa run --enable-api` on a free local port until the block ends (always stopped)."""
    port = _free_port()
    url = f"http://{HOST}:{port}"
    log_path = folder / "server.log"
    command = [str(RASA), "run", "--enable-api", "--port", str(port), "-i", HOST,
               "-m", "models"]
    print(f"starting Rasa: {' '.join(command)} (log: {log_path})", flush=True)
    with log_path.open("w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=folder, env=_rasa_env(), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with httpx.Client(timeout=2.0) as client:
            while not _ready(client, url):
                if process.poll() is not None:
                    raise BenchmarkError(f"rasa run exited with {process.returncode}; "
                                         f"log:\n{_tail(log_path)}")
                if time.perf_counter() - started > START_TIMEOUT_S:
                    raise BenchmarkError(f"rasa run was not ready in {START_TIMEOUT_S:.0f} s; "
                                         f"log:\n{_tail(log_path)}")
                time.sleep(0.2)
        yield RasaServer(process, url, log_path, time.perf_counter() - started)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it does not exit in time."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=STOP_TIMEOUT_S)
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
    print(f"Rasa server stopped (exit {process.returncode})", flush=True)


def _status_kb(pid: int, field: str) -> int:
    """A `kB` field of /proc/PID/status (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def memory(pid: int) -> dict[str, Any]:
    """VmRSS of the process, its peak (VmHWM) and VmRSS with all its descendants, in MB."""
    others = _descendants(pid)
    return {
        "main_rss_mb": round(_status_kb(pid, "VmRSS") / 1024, 1),
        "main_peak_rss_mb": round(_status_kb(pid, "VmHWM") / 1024, 1),
        "children": len(others),
        "total_rss_mb": round(sum(_status_kb(p, "VmRSS") for p in [pid, *others]) / 1024, 1),
    }


def live_test(url: str) -> dict[str, Any]:
    """tests/nlu/test_rasa_live.py against the running server; it must not skip."""
    command = [str(PROJECT_ROOT / ".venv" / "bin" / "pytest"), LIVE_TEST, "-rs",
               "-p", "no:cacheprovider"]
    print(f"running {' '.join(command)} with RASA_LIVE_URL={url}", flush=True)
    try:
        done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True,
                              env={**os.environ, "RASA_LIVE_URL": url},
                              timeout=PYTEST_TIMEOUT_S)
        output, code = done.stdout + done.stderr, done.returncode
    except subprocess.TimeoutExpired:
        output, code = f"pytest did not finish in {PYTEST_TIMEOUT_S:.0f} s", -1
    lines = [line for line in output.strip().splitlines() if line.strip()]
    summary = lines[-1] if lines else ""
    passed = code == 0 and " passed" in summary and "skipped" not in summary
    if not passed:
        print(output, flush=True)
    return {"command": " ".join(command[1:]), "passed": passed, "exit_code": code,
            "summary": summary}


def rasa_bench(server: RasaServer, embedded: Parser, test: TrainingData) -> dict[str, Any]:
    """Evaluate Rasa through RasaParser and time its HTTP parse, one message at a time."""
    texts = [e.text for e in test.examples]
    endpoint = server.url + "/model/parse"
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        def http_parse(text: str) -> None:
            client.post(endpoint, json={"text": text}).raise_for_status()

        first = time.perf_counter()
        http_parse(FIRST_MESSAGE)
        first_parse_ms = (time.perf_counter() - first) * 1000
        latencies = _timed(http_parse, texts)
    rasa = RasaParser(server.url, embedded, timeout=HTTP_TIMEOUT_S)
    try:
        backend_latencies = _timed(rasa.parse, texts[:200])
        results = [rasa.parse(text) for text in texts]
    finally:
        rasa.close()
    report = evaluate.score(test.examples, results)
    return {
        "held_out": _summary(report),
        "fallbacks": sum(1 for r in results if r.backend != BACKEND),
        "parse_ms": _latency(latencies),
        "parse": "POST /model/parse over HTTP on 127.0.0.1, one message at a time",
        "rasa_parser_ms": _latency(backend_latencies)
        | {"what": "RasaParser.parse: embedded fallback parse + HTTP (first 200 messages)"},
        "first_parse_ms": round(first_parse_ms, 1),
    }


# ---------------------------------------------------------------- report

def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def table(embedded: dict[str, Any], rasa: dict[str, Any]) -> str:
    def row(name: str, cell: Callable[[dict[str, Any]], str]) -> str:
        return f"| {name} | {cell(embedded)} | {cell(rasa)} |"

    def accuracy(lang: str) -> Callable[[dict[str, Any]], str]:
        return lambda r: _percent(r["held_out"]["intent_accuracy_by_language"][lang])

    rows = [
        "| | embedded | Rasa 3.6 DIET |",
        "|---|---|---|",
        *(row(f"intent accuracy {lang}", accuracy(lang)) for lang in LANGUAGES),
        row("out-of-scope rejection", lambda r: _percent(r["held_out"]["out_of_scope_rejection"])),
        row("parse p50", lambda r: f"{r['parse_ms']['p50']:.1f} ms"),
        row("parse p99", lambda r: f"{r['parse_ms']['p99']:.1f} ms"),
        row("training time", lambda r: _seconds(r["training_s"])),
        row("start-up time", lambda r: _seconds(r["startup_s"])),
        row("RSS", lambda r: f"{r['rss_mb']:.0f} MB"),
    ]
    return "\n".join(rows)


def main() -> None:
    if not RASA.exists():
        raise SystemExit(f"{RASA} is missing: run `make bench-rasa` (it installs Rasa first)")
    training, test = load(NLU_DATA), load_tests(NLU_TESTS)
    index = catalog_index()
    with tempfile.TemporaryDirectory() as cache:
        print("embedded engine: training, evaluating, starting", flush=True)
        parser, embedded = embedded_bench(training, test, index, Path(cache))
    training_s = rasa_train(RASA_PROJECT)
    print(f"Rasa trained in {training_s:.0f} s", flush=True)
    with rasa_server(RASA_PROJECT) as server:
        print(f"Rasa ready at {server.url} in {server.startup_s:.1f} s", flush=True)
        startup_memory = memory(server.process.pid)
        live = live_test(server.url)
        rasa = rasa_bench(server, parser, test)
        rasa |= {
            "version": _rasa_version(),
            "training_s": round(training_s, 1),
            "startup_s": round(server.startup_s, 2),
            "startup": "from `rasa run` until GET /status answers (process start, imports, "
                       "model load)",
            "rss_after_start": startup_memory,
            "rss_after_evaluation": memory(server.process.pid),
        }
        rasa["rss_mb"] = rasa["rss_after_evaluation"]["main_rss_mb"]
        rasa["rss"] = "VmRSS of the `rasa run` process after the evaluation"
    report = {
        "benchmark": "vs_rasa",
        "training_examples": len(training.examples),
        "held_out_examples": len(test.examples),
        "embedded": embedded,
        "rasa": rasa,
        "rasa_project": os.path.relpath(RASA_PROJECT, PROJECT_ROOT),
        "rasa_config": (RASA_PROJECT / CONFIG_FILE).read_text("utf-8"),
        "live_test": live,
        "notes": "Rasa results go through nlu.rasa_backend.RasaParser (unknown intents and "
                 "nlu_fallback count as out_of_scope); language and topic come from the "
                 "embedded fallback there, so only intent metrics are compared.",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "date": date.today().isoformat(),
    }
    markdown = table(embedded, rasa)
    report["table"] = markdown
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"\nwritten {os.path.relpath(RESULTS, PROJECT_ROOT)}; live test: {live['summary']}\n")
    print(markdown)
    if not live["passed"]:
        raise SystemExit(f"{LIVE_TEST} failed against the live Rasa server")


if __name__ == "__main__":
    main()
