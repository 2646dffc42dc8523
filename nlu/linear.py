"""Calibrated linear SVMs as plain numpy arrays, for fast single-message prediction.

sklearn's per-call input checks cost several milliseconds a message, more than the
arithmetic. `CalibratedLinear` reproduces `CalibratedClassifierCV(LinearSVC,
method="sigmoid").predict_proba`: per-class sigmoid of the decision value, normalised,
averaged over folds. Equivalence is checked in tests/nlu/test_features.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CalibratedLinear:
    classes: np.ndarray  # (C,)
    sparse_weights: np.ndarray  # (folds, F, C) for the TF-IDF block
    dense_weights: np.ndarray  # (folds, D, C) for the sentence embedding
    intercepts: np.ndarray  # (folds, C)
    slopes: np.ndarray  # (folds, C); NaN where a fold never saw the class
    offsets: np.ndarray  # (folds, C)

    @classmethod
    def from_sklearn(cls, fitted: Any, sparse_size: int) -> CalibratedLinear:
        classes = np.asarray(fitted.classes_)
        folds = fitted.calibrated_classifiers_
        features = folds[0].estimator.coef_.shape[1]
        weights = np.zeros((len(folds), features, len(classes)), dtype=np.float32)
        intercepts = np.zeros((len(folds), len(classes)))
        slopes = np.full((len(folds), len(classes)), np.nan)
        offsets = np.zeros((len(folds), len(classes)))
        for fold, calibrated in enumerate(folds):
            index = np.searchsorted(classes, calibrated.estimator.classes_)
            weights[fold][:, index] = calibrated.estimator.coef_.T
            intercepts[fold, index] = calibrated.estimator.intercept_
            slopes[fold, index] = [c.a_ for c in calibrated.calibrators]
            offsets[fold, index] = [c.b_ for c in calibrated.calibrators]
        return cls(classes, np.ascontiguousarray(weights[:, :sparse_size]),
                   np.ascontiguousarray(weights[:, sparse_size:]), intercepts, slopes, offsets)

    def predict_proba(
        self, sparse: tuple[np.ndarray, np.ndarray], dense: np.ndarray
    ) -> np.ndarray:
        """Probabilities for one message: its TF-IDF row and its embedding."""
        indices, values = sparse
        total = np.zeros(len(self.classes))
        for fold in range(self.sparse_weights.shape[0]):
            decision = (values @ self.sparse_weights[fold][indices]
                        + dense @ self.dense_weights[fold] + self.intercepts[fold])
            seen = ~np.isnan(self.slopes[fold])
            proba = np.zeros(len(self.classes))
            proba[seen] = 1.0 / (1.0 + np.exp(self.slopes[fold][seen] * decision[seen]
                                              + self.offsets[fold][seen]))
            denominator = proba.sum()
            total += proba / denominator if denominator else 1.0 / len(self.classes)
        averaged: np.ndarray = total / self.sparse_weights.shape[0]
        return averaged
