"""Pure pieces of the dialogue: button data, state, message splitting, rendering."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.split import LIMIT, split_html, utf16_length
from bot.dialogue import callbacks as cb
from bot.dialogue.core import clean
from bot.dialogue.render import Renderer, documents, emergency_line, escape, hours, location
from bot.dialogue.state import State
from bot.i18n import Translator
from services_catalog.multilingual import FallbackChain
from services_catalog.schema import OpeningHours, Service

ENCODED = [cb.menu(), cb.languages(), cb.no(), cb.language("fr"),
           cb.category("health"), cb.category("health", 3), cb.region("KLD-KOLDA"),
           cb.region(None), cb.regions("family"), cb.service("a" * 60),
           cb.aspect("documents", "b" * 60), cb.handoff(), cb.handoff("x"), cb.urgent(),
           cb.consent("store_profile", True), cb.withdraw("share_with_caseworker")]


def test_every_encoded_button_fits_and_decodes():
    for data in ENCODED:
        assert len(data.encode()) <= cb.MAX_BYTES
        assert cb.decode(data) is not None, data


def test_decode_reads_back_ids():
    action = cb.decode(cb.aspect("location", "national-id-card"))
    assert action is not None
    assert (action.kind, action.extra, action.value) == ("aspect", "w", "national-id-card")
    page = cb.decode(cb.category("family", 2))
    assert page is not None and (page.value, page.page) == ("family", 2)


@given(st.text())
def test_decode_never_raises_on_forged_data(data: str):
    action = cb.decode(data)
    assert action is None or len(data.encode()) <= cb.MAX_BYTES


@given(st.text(max_size=40))
def test_foreign_text_is_never_taken_for_a_service(text: str):
    action = cb.decode(text)
    if action is not None and action.kind in ("service", "aspect"):
        assert all(c.isalnum() or c == "-" for c in action.value)


def test_state_round_trips_and_tolerates_garbage():
    state = State(language="ar", region="KLD", consents={"store_profile": 1}, misunderstandings=1)
    assert State.from_json(state.to_json()) == state
    assert State.from_json("nonsense") == State()
    assert State.from_json({"language": 3, "consents": {"x": "1"}, "misunderstandings": -2}) \
        == State()


@given(st.dictionaries(st.text(max_size=10), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3), max_leaves=8)))
def test_any_stored_json_gives_a_state(data):
    assert isinstance(State.from_json(data), State)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=6000))
def test_split_chunks_fit_and_keep_every_visible_character(text: str):
    message = escape(text)
    chunks = split_html(message)
    assert all(0 < utf16_length(chunk) <= LIMIT for chunk in chunks)
    assert "".join("".join(chunks).split()) == "".join(message.split())


def test_split_at_line_boundaries_with_emoji_at_the_edge():
    line = "<b>" + "😀" * 1000 + "</b>"  # 2007 UTF-16 units
    chunks = split_html("\n".join([line] * 5))
    assert [utf16_length(c) for c in chunks] == [4015, 4015, 2007]
    assert all(c.count("<b>") == c.count("</b>") for c in chunks)


def test_an_overlong_line_loses_its_markup_but_no_text():
    chunks = split_html("<i>" + "word " * 2000 + "</i>")
    assert len(chunks) == 3 and "<i>" not in "".join(chunks)
    assert " ".join(chunks).split() == ["word"] * 2000


def test_clean_drops_controls_but_keeps_scripts():
    assert clean("\x00hé\u200bllo\x07 مرحبا\n") == "hé\u200bllo مرحبا"
    assert clean("\ud800x") == "x"
    assert clean("a" * 5000) == "a" * 4096


def test_arabic_wraps_phone_numbers_in_isolates(translator: Translator, sample_catalog):
    service = next(s for s in sample_catalog.services if s.id == "birth-certificate-extract")
    with translator.use("ar"):
        arabic = location(service, {}, Renderer(FallbackChain()))
    with translator.use("fr"):
        french = location(service, {}, Renderer(FallbackChain()))
    assert "\u2066+000 33 100 0003\u2069" in arabic
    assert "+000 33 100 0003" in french and "\u2066" not in french


def test_hours_group_consecutive_days(translator: Translator):
    schedule = [OpeningHours(byday=("mo", "tu", "we", "fr"), opens_at="08:00",
                             closes_at="16:00")]
    with translator.use("en"):
        assert hours(schedule) == "Mon–Wed, Fri 8:00\u202fAM–4:00\u202fPM"


def test_documents_escape_catalogue_html(translator: Translator, sample_catalog):
    service = next(s for s in sample_catalog.services if s.documents)
    data = service.model_dump()
    data["documents"][0]["name"] = {"en": "<script>&"}
    forged = Service.model_validate(data)
    with translator.use("en"):
        html = documents(forged, {}, Renderer(FallbackChain()))
    assert "&lt;script&gt;&amp;" in html and "<script>" not in html


def test_the_emergency_line_lists_every_phone_or_the_nearest_help(translator: Translator,
                                                                  sample_catalog):
    urgent = [s for s in sample_catalog.services if s.emergency]
    with translator.use("fr"):
        line = emergency_line(urgent, Renderer(FallbackChain()))
        empty = emergency_line([], Renderer(FallbackChain()))
    assert len(urgent) >= 2 and "\n" not in line
    assert all((s.focal_point.phone or next(p.phone for p in s.locations if p.phone)) in line
               for s in urgent)
    assert "hôpital" in empty
