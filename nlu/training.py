"""Training the embedded engine (scikit-learn is needed here only, not for parsing)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC

from nlu.data import TrainingData
from nlu.embeddings import Embedder
from nlu.features import SparseFeatures
from nlu.language import LanguageModel
from nlu.linear import CalibratedLinear
from nlu.model import Model
from nlu.neighbours import Neighbours
from nlu.normalize import normalize
from nlu.types import NO_TOPIC

# Per task, the scales of the SVM's decision values and of the nearest sentences' vote in a
# softmax over the classes: fitted by multinomial logistic regression on 5-fold out-of-fold
# decision values and votes (18,850 examples). One SVM on all the data beat
# CalibratedClassifierCV's three on two thirds each by 0.5 points of intent and 0.4 of topic
# accuracy in cross-validation. The softmax beat a fixed 0.6/0.4 average of Platt-scaled
# probabilities and the vote: intent en/fr/ar +0.0/+0.1/+0.5 points, topic +0.2 and, for
# the same emergency recall, false alarms 10.9 -> 7.9 %. Refit them when the data grows
# much: the thresholds in `nlu.engine` read these probabilities.
SCALES = {"intent": (3.426, 1.836), "topic": (3.073, 1.91)}
# The n-gram models of the first stage (see `nlu.engine`): the scale of their decision values
# in the softmax, fitted in the same way.
NGRAM_SLOPES = {"intent": 4.656, "topic": 4.284}


def _classifier(task: str) -> LinearSVC:
    # C and tol chosen by cross-validation: tol 1e-2 fits in a quarter less time than 1e-3,
    # with the same cross-validated results.
    # Intents are weighted by class: our data's class sizes are writing effort, not traffic
    # (same accuracy in cross-validation, +1 point of recall averaged over intents).
    weight = "balanced" if task == "intent" else None
    return LinearSVC(C=1.0, tol=1e-2, class_weight=weight)


def _vectorizers() -> list[TfidfVectorizer]:
    return [
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                        token_pattern=r"\w+", min_df=2),  # 15 MB less RSS, the same accuracy (CV)
    ]


def train(data: TrainingData, embedder: Embedder, fingerprint: str = "") -> Model:
    """Intent, topic and language models, both stages, from the training data."""
    texts = [normalize(e.text) for e in data.examples]
    labels = {"intent": [e.intent for e in data.examples],
              "topic": [e.topic or NO_TOPIC for e in data.examples]}
    with ThreadPoolExecutor(2) as pool:  # numpy and liblinear release the GIL: one core each

        def fit(matrix: csr_matrix) -> dict[str, Future[LinearSVC]]:
            return {task: pool.submit(_classifier(task).fit, matrix, labels[task])
                    for task in labels}

        embedding = pool.submit(embedder.encode, [e.text for e in data.examples])
        vectorizers = _vectorizers()
        ngrams = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()  # meanwhile
        language = train_language(ngrams, [e.language for e in data.examples])
        # The first stage's models fit beside the embedding or, when that is done already
        # (its vectors were stored), after the full models, which take three times as long.
        first = None if embedding.done() else fit(ngrams)
        full = fit(hstack([ngrams, csr_matrix(embedding.result())]).tocsr())
        first = first or fit(ngrams)
        intent, topic = full["intent"].result(), full["topic"].result()
    sparse = SparseFeatures.of(vectorizers)
    neighbours = Neighbours.fit(embedding.result(), {
        "intent": (labels["intent"], intent.classes_), "topic": (labels["topic"], topic.classes_)})
    ngram_models = {task: CalibratedLinear.from_svm(fitted.result(), sparse.size,
                                                    (NGRAM_SLOPES[task], 0.0))
                    for task, fitted in first.items()}
    return Model(
        features=sparse,
        intent=CalibratedLinear.from_svm(intent, sparse.size, SCALES["intent"]),
        topic=CalibratedLinear.from_svm(topic, sparse.size, SCALES["topic"]),
        ngram_intent=ngram_models["intent"],
        ngram_topic=ngram_models["topic"],
        neighbours=neighbours,
        language=language,
        fingerprint=fingerprint,
        synonyms=dict(data.synonyms),
    )


def train_language(ngrams: csr_matrix, languages: Sequence[str]) -> LanguageModel:
    """Naive Bayes over the n-gram rows of Latin-script text (en vs fr). The classifiers'
    n-grams beat a model of its own on character 1-4-grams in cross-validation (3+ words
    0.9988 against 0.997, shorter 0.851 against 0.836) and take no time of their own."""
    latin = [row for row, language in enumerate(languages) if language != "ar"]
    model = MultinomialNB(alpha=0.1).fit(ngrams[latin], [languages[row] for row in latin])
    return LanguageModel(tuple(str(c) for c in model.classes_), model.class_log_prior_,
                         model.feature_log_prob_.T.copy())
