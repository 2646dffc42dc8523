"""RasaParser against a real local HTTP server that answers like `rasa run --enable-api`."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from nlu.rasa_backend import RasaParser
from nlu.types import Entity, Parser, ParseResult, ServiceMatch

MESSAGE = "je cherche un médecin à Kolda, c'est Awa Diop"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    delay: float = 0.0


@dataclass
class FakeRasa:
    """What the server answers next, and the requests it received."""

    url: str = ""
    reply: Reply = field(default_factory=Reply)
    requests: list[tuple[str, Any]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def answer(self, body: object, status: int = 200, delay: float = 0.0) -> None:
        self.reply = Reply(status, json.dumps(body).encode(), delay)


def _handler(fake: FakeRasa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            fake.requests.append((self.path, json.loads(self.rfile.read(length))))
            reply = fake.reply
            if reply.delay and fake.stop.wait(reply.delay):
                return
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

    return Handler


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield fake
    fake.stop.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class FakeParser:
    """The embedded parser's stand-in: a fixed result for any text."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.urgent = False

    def parse(self, text: str, hint_language: str | None = None) -> ParseResult:
        self.calls.append((text, hint_language))
        return ParseResult(
            text=text, language="fr", intent="ask_info", confidence=0.4, topic="health",
            topic_confidence=0.8, service_id="svc-health-1", service_score=0.7,
            alternatives=(ServiceMatch("svc-health-2", 0.5),),
            intent_ranking=(("ask_info", 0.4),), backend="embedded", urgent=self.urgent,
        )


@pytest.fixture
def fallback() -> FakeParser:
    return FakeParser()


@pytest.fixture
def parser(rasa: FakeRasa, fallback: FakeParser) -> Iterator[RasaParser]:
    rasa_parser = RasaParser(rasa.url, fallback, timeout=0.2)
    yield rasa_parser
    rasa_parser.close()


def _rasa_body(text: str, intent: str, confidence: float) -> dict[str, Any]:
    start, person = text.index("Kolda"), text.index("Awa Diop")
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [
            {"name": intent, "confidence": confidence},
            {"name": "ask_location", "confidence": 0.1},
            {"name": "some_old_intent", "confidence": 0.05},
        ],
        "entities": [
            {"entity": "region", "value": "Kolda", "start": start, "end": start + 5,
             "confidence_entity": 0.99, "extractor": "DIETClassifier"},
            {"entity": "PERSON", "value": "Awa Diop", "start": person, "end": person + 8,
             "confidence_entity": 0.9, "extractor": "SpacyEntityExtractor"},
        ],
    }


def test_maps_intent_ranking_and_region_entities(
        rasa: FakeRasa, parser: RasaParser, fallback: FakeParser) -> None:
    rasa.answer(_rasa_body(MESSAGE, "ask_location", 0.87))

    result = parser.parse(MESSAGE, hint_language="fr")

    assert rasa.requests == [("/model/parse", {"text": MESSAGE})]
    assert fallback.calls == [(MESSAGE, "fr")]
    assert (result.intent, result.confidence, result.backend) == ("ask_location", 0.87, "rasa")
    assert result.intent_ranking == (("ask_location", 0.87), ("out_of_scope", 0.05))
    start = MESSAGE.index("Kolda")
    assert result.entities == (Entity("region", "Kolda", "Kolda", start, start + 5),)
    expected = fallback.parse(MESSAGE)
    assert (result.text, result.language, result.topic, result.topic_confidence) == (
        expected.text, expected.language, expected.topic, expected.topic_confidence)
    assert (result.service_id, result.service_score, result.alternatives) == (
        expected.service_id, expected.service_score, expected.alternatives)


@pytest.mark.parametrize(("lexicon", "rasa_intent"), [(True, "ask_info"), (False, "emergency")])
def test_either_engine_can_raise_the_alarm(
        rasa: FakeRasa, parser: RasaParser, fallback: FakeParser, lexicon: bool,
        rasa_intent: str) -> None:
    fallback.urgent = lexicon
    rasa.answer(_rasa_body(MESSAGE, rasa_intent, 0.9))

    result = parser.parse(MESSAGE)

    assert (result.intent, result.urgent) == (rasa_intent, True)


def test_synonym_value_is_kept_with_the_surface_text(rasa: FakeRasa, parser: RasaParser) -> None:
    body = _rasa_body(MESSAGE, "ask_info", 0.9)
    body["entities"][0]["value"] = "Kolda (région)"
    rasa.answer(body)

    (region,) = parser.parse(MESSAGE).entities

    assert (region.value, region.text) == ("Kolda (région)", "Kolda")


@pytest.mark.parametrize("name", ["nlu_fallback", "not_an_intent_of_ours", None])
def test_fallback_and_unknown_intents_become_out_of_scope(
        rasa: FakeRasa, parser: RasaParser, name: str | None) -> None:
    rasa.answer({"text": MESSAGE, "intent": {"name": name, "confidence": 0.3},
                 "intent_ranking": [{"name": name, "confidence": 0.3},
                                    {"name": "greet", "confidence": 0.2}],
                 "entities": []})

    result = parser.parse(MESSAGE)

    assert (result.intent, result.confidence, result.backend) == ("out_of_scope", 0.3, "rasa")
    assert result.intent_ranking == (("out_of_scope", 0.3), ("greet", 0.2))
    assert result.entities == ()


def _assert_fell_back(result: ParseResult, fallback: FakeParser,
                      caplog: pytest.LogCaptureFixture) -> None:
    assert result == fallback.parse(MESSAGE)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Awa" not in caplog.text and "médecin" not in caplog.text
    assert MESSAGE not in warnings[0].getMessage()


def test_server_error_falls_back(rasa: FakeRasa, parser: RasaParser, fallback: FakeParser,
                                 caplog: pytest.LogCaptureFixture) -> None:
    rasa.answer({"error": "boom", "text": MESSAGE}, status=500)
    caplog.set_level(logging.WARNING, logger="nlu.rasa_backend")

    result = parser.parse(MESSAGE)

    _assert_fell_back(result, fallback, caplog)
    assert "500" in caplog.text


def test_timeout_falls_back(rasa: FakeRasa, parser: RasaParser, fallback: FakeParser,
                            caplog: pytest.LogCaptureFixture) -> None:
    rasa.answer(_rasa_body(MESSAGE, "ask_info", 0.9), delay=2.0)
    caplog.set_level(logging.WARNING, logger="nlu.rasa_backend")

    result = parser.parse(MESSAGE)

    _assert_fell_back(result, fallback, caplog)
    assert "timeout" in caplog.text


def test_connection_refused_falls_back(fallback: FakeParser,
                                       caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    caplog.set_level(logging.WARNING, logger="nlu.rasa_backend")
    parser = RasaParser(f"http://127.0.0.1:{port}", fallback, timeout=0.2)
    try:
        result = parser.parse(MESSAGE)
    finally:
        parser.close()

    _assert_fell_back(result, fallback, caplog)


@pytest.mark.parametrize("body", [
    b"{not json",
    b"[1, 2, 3]",
    b'{"text": "x", "intent": {"name": "greet"}}',
    b'{"text": "x", "intent": {"name": "greet", "confidence": 0.9}, "entities": "Kolda"}',
    b'{"text": "x", "intent": {"name": "greet", "confidence": 0.9},'
    b' "entities": [{"entity": "region", "value": "Kolda"}]}',
])
def test_malformed_body_falls_back(rasa: FakeRasa, parser: RasaParser, fallback: FakeParser,
                                   caplog: pytest.LogCaptureFixture, body: bytes) -> None:
    rasa.reply = Reply(200, body)
    caplog.set_level(logging.WARNING, logger="nlu.rasa_backend")

    result = parser.parse(MESSAGE)

    _assert_fell_back(result, fallback, caplog)


def test_satisfies_the_parser_protocol(parser: RasaParser) -> None:
    as_protocol: Parser = parser
    assert as_protocol is parser
