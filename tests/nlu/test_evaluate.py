"""The evaluation's metrics, on hand-made predictions whose scores are known."""

from __future__ import annotations

from nlu.data import Example, TrainingData
from nlu.evaluate import cross_validate, score
from nlu.types import ParseResult


def example(text: str, intent: str, language: str = "en", topic: str | None = None) -> Example:
    return Example(text, intent, topic, language)


def result(intent: str, language: str = "en", topic: str | None = None,
           urgent: bool = False) -> ParseResult:
    return ParseResult("", language, intent, 0.9, urgent=urgent, topic=topic)


def test_emergency_recall_counts_contacts_sent_and_false_alarms_are_reported() -> None:
    examples = [example("a", "emergency"), example("b", "emergency"),
                example("c", "ask_info"), example("d", "ask_cost"),
                example("e", "greet"), example("f", "out_of_scope")]
    results = [result("emergency", urgent=True), result("ask_info", urgent=True),
               result("ask_info", urgent=True), result("ask_cost"),
               result("greet"), result("ask_location")]
    report = score(examples, results)
    assert report["emergency_recall"] == 1.0  # both got the contacts
    assert report["emergency_intent_recall"] == 0.5  # one was named a question
    assert report["false_alarm_rate"] == 0.25  # 1 of 4 others got the contacts
    assert report["out_of_scope_rejection"] == 0.0
    assert report["intent_accuracy"] == round(4 / 6, 4)


def test_accuracy_by_language_topics_confusion_and_misclassified() -> None:
    examples = [example("where", "ask_location", "en", "health"),
                example("ou", "ask_location", "fr", "health"),
                example("combien", "ask_cost", "fr", "education"),
                example("وين", "ask_location", "ar", "health")]
    results = [result("ask_location", "en", "health"), result("ask_cost", "fr", "health"),
               result("ask_cost", "fr", "transport"), result("ask_location", "ar", "health")]
    report = score(examples, results)
    assert report["intent_accuracy_by_language"] == {"en": 1.0, "fr": 0.5, "ar": 1.0}
    assert report["topic_accuracy"] == 0.75
    confusion = report["confusion"]
    row = confusion["matrix"][confusion["labels"].index("ask_location")]
    assert row[confusion["labels"].index("ask_cost")] == 1
    assert [m["text"] for m in report["misclassified"]] == ["ou", "combien"]
    assert report["intents"]["ask_location"]["recall"] == round(2 / 3, 4)


class FirstWord:
    """A parser that labels a text with the intent its first word had in training."""

    def __init__(self, data: TrainingData) -> None:
        self.seen = {e.text.split()[0]: e.intent for e in data.examples}

    def parse(self, text: str, hint_language: str | None = None) -> ParseResult:
        return result(self.seen.get(text.split()[0], "out_of_scope"))


def test_cross_validation_parses_every_example_once_with_a_model_that_never_saw_it() -> None:
    examples = tuple(example(f"{word} {i}", intent)
                     for word, intent in (("hi", "greet"), ("bye", "goodbye"))
                     for i in range(5))
    trained_on: list[set[str]] = []

    def make(subset: TrainingData) -> FirstWord:
        trained_on.append({e.text for e in subset.examples})
        return FirstWord(subset)

    report = cross_validate(TrainingData(examples), make, folds=5)
    assert report["examples"] == 10 and report["intent_accuracy"] == 1.0
    assert len(trained_on) == 5 and all(len(seen) == 8 for seen in trained_on)
    assert set.union(*({e.text for e in examples} - seen for seen in trained_on)) == {
        e.text for e in examples}
