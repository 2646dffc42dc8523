"""Evaluation: held-out and cross-validated scores for any parser. Metrics are pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from nlu.data import Example, TrainingData
from nlu.normalize import tokens
from nlu.types import INTENTS, LANGUAGES, NO_TOPIC, Parser, ParseResult


def score(examples: Sequence[Example], results: Sequence[ParseResult]) -> dict[str, Any]:
    """Every metric of the NLU targets for these predictions."""
    gold_intent = [e.intent for e in examples]
    pred_intent = [r.intent for r in results]
    gold_topic = [e.topic or NO_TOPIC for e in examples]
    pred_topic = [r.topic or NO_TOPIC for r in results]
    report: dict[str, Any] = {"examples": len(examples)}
    report["intent_accuracy"] = _accuracy(gold_intent, pred_intent)
    report["intent_accuracy_by_language"] = {
        lang: _accuracy(*_pairs(examples, results, lang, "intent")) for lang in LANGUAGES
    }
    questions = [i for i, e in enumerate(examples) if e.topic is not None]
    report["topic_accuracy"] = _accuracy(gold_topic, pred_topic)
    report["topic_accuracy_when_named"] = _accuracy(
        [gold_topic[i] for i in questions], [pred_topic[i] for i in questions]
    )
    long_enough = [i for i, e in enumerate(examples) if len(tokens(e.text)) >= 3]
    report["language_id_accuracy_3_words"] = _accuracy(
        [examples[i].language for i in long_enough], [results[i].language for i in long_enough]
    )
    pairs = list(zip(examples, results, strict=True))
    # recall counts the emergency contacts sent (`urgent`), whatever intent was named
    report["emergency_recall"] = _rate([r.urgent for e, r in pairs if e.intent == "emergency"])
    report["emergency_intent_recall"] = _recall(gold_intent, pred_intent, "emergency")
    report["false_alarm_rate"] = _rate([r.urgent for e, r in pairs if e.intent != "emergency"])
    report["out_of_scope_rejection"] = _recall(gold_intent, pred_intent, "out_of_scope")
    report["intents"] = _per_label(gold_intent, pred_intent)
    report["topics"] = _per_label(gold_topic, pred_topic)
    labels = [i for i in INTENTS if i in set(gold_intent) | set(pred_intent)]
    report["confusion"] = {
        "labels": labels,
        "matrix": confusion_matrix(gold_intent, pred_intent, labels=labels).tolist(),
    }
    report["misclassified"] = [
        {"text": e.text, "language": e.language, "expected": e.intent, "predicted": r.intent,
         "expected_topic": e.topic, "predicted_topic": r.topic}
        for e, r in zip(examples, results, strict=True)
        if e.intent != r.intent or (e.topic or NO_TOPIC) != (r.topic or NO_TOPIC)
    ]
    return report


def _pairs(examples: Sequence[Example], results: Sequence[ParseResult],
           language: str, field: str) -> tuple[list[str], list[str]]:
    kept = [(getattr(e, field), getattr(r, field))
            for e, r in zip(examples, results, strict=True) if e.language == language]
    return [g for g, _ in kept], [p for _, p in kept]


def _accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float | None:
    if not gold:
        return None
    return round(float(np.mean([g == p for g, p in zip(gold, predicted, strict=True)])), 4)


def _recall(gold: Sequence[str], predicted: Sequence[str], label: str) -> float | None:
    hits = [p == label for g, p in zip(gold, predicted, strict=True) if g == label]
    return round(float(np.mean(hits)), 4) if hits else None


def _rate(flags: Sequence[bool]) -> float | None:
    return round(float(np.mean(flags)), 4) if flags else None


def _per_label(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, float]]:
    labels = sorted(set(gold) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    return {label: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                    "f1": round(float(f), 4), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)}


def held_out(parse: Parser, test: TrainingData) -> dict[str, Any]:
    results = [parse.parse(e.text) for e in test.examples]
    return score(test.examples, results)


def cross_validate(
    data: TrainingData, make_parser: Callable[[TrainingData], Parser], folds: int = 5
) -> dict[str, Any]:
    """Train on k-1 folds, parse the last; stratified by intent, without language hints."""
    examples = list(data.examples)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    predicted: list[ParseResult | None] = [None] * len(examples)
    for train_index, test_index in splitter.split(examples, [e.intent for e in examples]):
        subset = TrainingData(tuple(examples[i] for i in train_index), data.synonyms,
                              data.lookups, data.regexes)
        parser = make_parser(subset)
        for i in test_index:
            predicted[i] = parser.parse(examples[i].text)
    return score(examples, [p for p in predicted if p is not None])
