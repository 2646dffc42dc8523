"""A linear SVM as plain numpy arrays, for fast single-message prediction, with
probabilities calibrated jointly with the nearest training sentences' vote.

sklearn's per-call input checks cost several milliseconds a message, more than the
arithmetic. The classes' probabilities are a softmax of the decision values and the vote,
each scaled by one factor shared by the task's classes (see `nlu.training.SCALES`).
Equivalence with sklearn's decision values is checked in tests/nlu/test_features.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CalibratedLinear:
    classes: np.ndarray  # (C,)
    sparse_weights: np.ndarray  # (F, C) for the TF-IDF block
    dense_weights: np.ndarray  # (D, C) for the sentence embedding
    intercepts: np.ndarray  # (C,)
    slope: float  # of the decision values
    vote_weight: float  # of the nearest sentences' vote

    @classmethod
    def from_svm(cls, fitted: Any, sparse_size: int,
                 scales: tuple[float, float]) -> CalibratedLinear:
        """From a fitted one-vs-rest `LinearSVC` on [TF-IDF | embedding] columns."""
        weights = np.asarray(fitted.coef_, dtype=np.float32).T
        intercepts = np.asarray(fitted.intercept_, dtype=np.float64)
        if weights.shape[1] == 1:  # two classes: sklearn keeps the second's side only
            weights = np.hstack([-weights, weights])
            intercepts = np.hstack([-intercepts, intercepts])
        return cls(np.asarray(fitted.classes_), np.ascontiguousarray(weights[:sparse_size]),
                   np.ascontiguousarray(weights[sparse_size:]), intercepts, *scales)

    def decision(self, sparse: tuple[np.ndarray, np.ndarray], dense: np.ndarray) -> np.ndarray:
        """Decision values for one message: its TF-IDF row and its embedding."""
        indices, values = sparse
        scores: np.ndarray = (values @ self.sparse_weights[indices] + dense @ self.dense_weights
                              + self.intercepts)
        return scores

    def probabilities(self, sparse: tuple[np.ndarray, np.ndarray], dense: np.ndarray,
                      votes: np.ndarray | None = None) -> np.ndarray:
        """Probabilities for one message: its TF-IDF row, its embedding (empty for a model
        of n-grams alone) and the nearest sentences' vote, if any."""
        scores = self.slope * self.decision(sparse, dense)
        if votes is not None:
            scores += self.vote_weight * votes
        exponentials = np.exp(scores - scores.max())  # no overflow: the largest term is 1
        probabilities: np.ndarray = exponentials / exponentials.sum()
        return probabilities
