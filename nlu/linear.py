"""A linear SVM with calibrated probabilities, as plain numpy arrays, for fast
single-message prediction.

sklearn's per-call input checks cost several milliseconds a message, more than the
arithmetic. A class's probability is a sigmoid of its decision value (Platt scaling, one
slope and offset shared by the task's classes: see `nlu.training.SIGMOIDS`), normalised over
the classes. Equivalence with sklearn's decision values is checked in
tests/nlu/test_features.py.
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
    slope: float
    offset: float

    @classmethod
    def from_svm(cls, fitted: Any, sparse_size: int,
                 sigmoid: tuple[float, float]) -> CalibratedLinear:
        """From a fitted one-vs-rest `LinearSVC` on [TF-IDF | embedding] columns."""
        weights = np.asarray(fitted.coef_, dtype=np.float32).T
        intercepts = np.asarray(fitted.intercept_, dtype=np.float64)
        if weights.shape[1] == 1:  # two classes: sklearn keeps the second's side only
            weights = np.hstack([-weights, weights])
            intercepts = np.hstack([-intercepts, intercepts])
        return cls(np.asarray(fitted.classes_), np.ascontiguousarray(weights[:sparse_size]),
                   np.ascontiguousarray(weights[sparse_size:]), intercepts, *sigmoid)

    def decision(self, sparse: tuple[np.ndarray, np.ndarray], dense: np.ndarray) -> np.ndarray:
        """Decision values for one message: its TF-IDF row and its embedding."""
        indices, values = sparse
        scores: np.ndarray = (values @ self.sparse_weights[indices] + dense @ self.dense_weights
                              + self.intercepts)
        return scores

    def predict_proba(self, sparse: tuple[np.ndarray, np.ndarray],
                      dense: np.ndarray) -> np.ndarray:
        """Probabilities for one message: its TF-IDF row and its embedding."""
        with np.errstate(over="ignore"):  # a huge margin gives a probability of 0, not an error
            proba: np.ndarray = 1.0 / (1.0 + np.exp(-(self.slope * self.decision(sparse, dense)
                                                      + self.offset)))
        total = proba.sum()
        return proba / total if total > 0 else np.full(len(proba), 1.0 / len(proba))
