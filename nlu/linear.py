"""Calibrated linear SVMs as plain numpy arrays, for fast single-message prediction.

sklearn's per-call input checks cost several milliseconds a message, more than the
arithmetic. `CalibratedLinear` reproduces `CalibratedClassifierCV(LinearSVC,
method="sigmoid").predict_proba`: per-class sigmoid of the decision value, normalised,
averaged over folds. The folds' sparse weights sit side by side, so that one gather and
one product score them all. Equivalence is checked in tests/nlu/test_features.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CalibratedLinear:
    classes: np.ndarray  # (C,)
    sparse_weights: np.ndarray  # (F, folds * C) for the TF-IDF block, fold after fold
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
        side_by_side = weights[:, :sparse_size].transpose(1, 0, 2).reshape(sparse_size, -1)
        return cls(classes, np.ascontiguousarray(side_by_side),
                   np.ascontiguousarray(weights[:, sparse_size:]), intercepts, slopes, offsets)

    def predict_proba(
        self, sparse: tuple[np.ndarray, np.ndarray], dense: np.ndarray
    ) -> np.ndarray:
        """Probabilities for one message: its TF-IDF row and its embedding."""
        indices, values = sparse
        folds = len(self.intercepts)
        proba = (values @ self.sparse_weights[indices]).reshape(folds, -1)  # decision values
        proba += dense @ self.dense_weights
        proba += self.intercepts
        proba *= self.slopes  # then the sigmoid, in place
        proba += self.offsets
        np.exp(proba, out=proba)
        proba += 1.0
        np.divide(1.0, proba, out=proba)
        proba[np.isnan(self.slopes)] = 0.0  # classes a fold never saw
        denominators = proba.sum(axis=1, keepdims=True)
        if denominators.all():
            proba /= denominators
        else:  # a fold that gives nothing counts as uniform
            proba = np.divide(proba, denominators, out=np.full_like(proba, 1 / proba.shape[1]),
                              where=denominators != 0)
        averaged: np.ndarray = proba.sum(axis=0) / folds
        return averaged
