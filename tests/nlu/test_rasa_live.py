"""RasaParser against a real Rasa server: skipped unless RASA_LIVE_URL is set.

`make bench-rasa` trains Rasa on `returnee-bot nlu export-rasa`, starts
`rasa run --enable-api` and runs this file with RASA_LIVE_URL pointing at it. By hand:
`RASA_LIVE_URL=http://127.0.0.1:5005 .venv/bin/pytest tests/nlu/test_rasa_live.py`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from nlu.engine import EmbeddedParser
from nlu.rasa_backend import BACKEND, REGION, RasaParser
from nlu.types import INTENTS

URL = os.environ.get("RASA_LIVE_URL", "")

pytestmark = pytest.mark.skipif(
    not URL, reason="set RASA_LIVE_URL to a running `rasa run --enable-api` server")

IN_SCOPE = [
    "where can I see a doctor in Kolda",
    "je cherche une formation en soudure, c'est possible ?",
    "كيف أحصل على المساعدة النقدية؟",
    "hello",
    "merci beaucoup",
]
OUT_OF_SCOPE = ["give me a recipe for thieboudienne", "who will win the next election"]
EMERGENCY = ["help me please, my brother was stabbed and he is bleeding a lot"]


@pytest.fixture
def rasa(parser: EmbeddedParser) -> Iterator[RasaParser]:
    live = RasaParser(URL, parser, timeout=30.0)
    yield live
    live.close()


def test_the_server_answers_parse_requests() -> None:
    response = httpx.post(URL.rstrip("/") + "/model/parse", json={"text": "hello"},
                          timeout=30.0)
    assert response.status_code == 200
    body = response.json()
    assert body["text"] == "hello"
    assert isinstance(body["intent"]["name"], str)


@pytest.mark.parametrize("text", IN_SCOPE + OUT_OF_SCOPE + EMERGENCY)
def test_messages_are_parsed_by_rasa(rasa: RasaParser, parser: EmbeddedParser,
                                     text: str) -> None:
    result = rasa.parse(text)
    embedded = parser.parse(text)
    assert result.backend == BACKEND  # not the fallback: Rasa answered
    assert result.intent in INTENTS
    assert 0.0 <= result.confidence <= 1.0
    assert result.intent_ranking
    assert all(name in INTENTS for name, _ in result.intent_ranking)
    assert result.text == text
    assert (result.language, result.topic) == (embedded.language, embedded.topic)
    for entity in result.entities:
        assert entity.entity == REGION
        assert text[entity.start:entity.end] == entity.text


@pytest.mark.parametrize(("text", "intent"), [("hello", "greet"), ("merci beaucoup", "thank")])
def test_clear_small_talk_is_not_rejected(rasa: RasaParser, text: str, intent: str) -> None:
    result = rasa.parse(text)
    assert result.backend == BACKEND
    assert result.intent == intent


@pytest.mark.parametrize("text", OUT_OF_SCOPE)
def test_out_of_scope_messages_are_not_service_questions(rasa: RasaParser, text: str) -> None:
    result = rasa.parse(text)
    assert result.backend == BACKEND
    assert result.intent == "out_of_scope"


@pytest.mark.parametrize("text", EMERGENCY)
def test_emergencies_are_recognised(rasa: RasaParser, text: str) -> None:
    result = rasa.parse(text)
    assert result.backend == BACKEND
    assert result.intent == "emergency"
