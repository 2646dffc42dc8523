"""The nearest-sentence vote, on embeddings whose neighbours are known."""

from __future__ import annotations

import numpy as np
import pytest

from nlu import neighbours
from nlu.neighbours import Neighbours


def clusters(rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Three tight clusters of 8 unit vectors in 512 dimensions, one label each."""
    centres = rng.normal(size=(3, 512))
    rows = np.vstack([c + 0.05 * rng.normal(size=(8, 512)) for c in centres])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float32), [name for name in ("cost", "info", "where") for _ in range(8)]


def test_a_message_near_one_cluster_gets_that_clusters_label() -> None:
    rng = np.random.default_rng(0)
    rows, names = clusters(rng)
    fitted = Neighbours.fit(rows, {"intent": (names, np.array(["cost", "info", "where"]))})
    message = rows[9] + 0.01 * rng.normal(size=512).astype(np.float32)
    near = fitted.nearest(message)
    votes = fitted.vote(near, "intent", 3)
    assert votes.sum() == pytest.approx(1.0)
    assert int(np.argmax(votes)) == 1 and votes[1] > 0.9
    assert 9 in near[0]


def test_fewer_rows_than_k_and_a_zero_embedding_still_vote() -> None:
    rows = np.eye(4, 512, dtype=np.float32)
    fitted = Neighbours.fit(rows, {"topic": (["a", "b", "b", "c"], np.array(["a", "b", "c"]))})
    assert len(rows) < neighbours.K
    for message in (rows[1], np.zeros(512, dtype=np.float32)):
        votes = fitted.vote(fitted.nearest(message), "topic", 3)
        assert votes.shape == (3,) and votes.sum() == pytest.approx(1.0)
        assert np.all(np.isfinite(votes))


def test_projection_keeps_the_same_similarities_as_the_principal_components() -> None:
    rng = np.random.default_rng(1)
    rows = (rng.normal(size=(600, 512)) @ rng.normal(size=(512, 512))).astype(np.float32)
    fitted = Neighbours.fit(rows, {"intent": (["a"] * 600, np.array(["a"]))})
    centred = rows - rows.mean(axis=0)
    components = np.linalg.svd(centred, full_matrices=False)[2][:neighbours.DIMENSIONS].T
    projected = centred @ components
    projected /= np.linalg.norm(projected, axis=1, keepdims=True)
    message = rows[7] + rng.normal(size=512).astype(np.float32)
    query = (message - rows.mean(axis=0)) @ components
    expected = projected @ (query / np.linalg.norm(query))
    rows_near, weights = fitted.nearest(message)
    assert set(rows_near) == set(np.argsort(-expected)[:neighbours.K])
    assert np.allclose(np.log(weights) / neighbours.SHARPNESS, expected[rows_near], atol=1e-5)


def test_the_shortlist_finds_the_nearest_rows_of_a_large_set() -> None:
    rng = np.random.default_rng(2)
    rows = (rng.normal(size=(2000, 512)) @ rng.normal(size=(512, 512))).astype(np.float32)
    assert len(rows) > neighbours.SHORTLIST
    fitted = Neighbours.fit(rows, {"intent": (["a"] * 2000, np.array(["a"]))})
    for row in rng.choice(2000, 50, replace=False):
        found, weights = fitted.nearest(rows[row] + 0.01 * rng.normal(size=512).astype(np.float32))
        assert found[np.argmax(weights)] == row
