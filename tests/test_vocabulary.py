"""Compact vocabularies (core.vectors.vocabulary): the list/dict behaviour gensim and the views
rely on, and the completer's prefix index built lazily over them."""

from __future__ import annotations

import os

import numpy as np
import pytest

from core.vectors.load import nearest_neighbours
from core.vectors.vocabulary import KeyIndex, Vocabulary

WORDS = ["the", "cat", "Cat", "café", "東京", "", "the", "a b", "zebra", "cat's"]


def first_index(words: list[str]) -> dict[str, int]:
    return {w: i for i, w in reversed(list(enumerate(words)))}


def test_vocabulary_reads_like_the_list_it_was_made_from() -> None:
    vocab = Vocabulary(WORDS)
    assert len(vocab) == len(WORDS) and vocab == WORDS and list(vocab) == WORDS
    assert vocab[3] == "café" and vocab[-1] == "cat's" and vocab[np.int64(4)] == "東京"
    assert vocab[2:5] == WORDS[2:5] and vocab[::3] == WORDS[::3]
    with pytest.raises(IndexError):
        vocab[len(WORDS)]


def test_key_index_is_the_dict_gensim_builds_first_occurrence_wins() -> None:
    index = KeyIndex(Vocabulary(WORDS))
    expected = first_index(WORDS)
    assert index == expected and len(index) == len(expected)
    assert index["the"] == 0 and index["Cat"] == 2 and index[""] == 5
    assert "dog" not in index and "ca" not in index and 3 not in index
    assert index.get("dog", -1) == -1 and index.get(0, -1) == -1  # gensim's get_index(int)
    with pytest.raises(KeyError):
        index["dog"]
    with pytest.raises(TypeError, match="read-only"):
        index["dog"] = 10  # type: ignore[index]


def test_key_index_answers_alike_when_asked_again_and_after_it_forgets() -> None:
    """Look-ups are remembered (the same words are asked on every update): the second answer,
    a remembered miss, and those after the memory is full and cleared all match the dict."""
    import core.vectors.vocabulary as vocabulary

    words = [f"w{i}" for i in range(50)] + ["w3"]
    expected = first_index(words)
    index = KeyIndex(Vocabulary(words))
    asked = ["w3", "nope", "w49", "", "w3", "nope", "\ud800"]
    saved = vocabulary.RECENT
    try:
        vocabulary.RECENT = 3  # forgets every third word
        for _ in range(3):
            for word in asked + words:
                assert index.get(word, -1) == expected.get(word, -1), word
                assert (word in index) == (word in expected)
    finally:
        vocabulary.RECENT = saved


def test_vocabulary_from_utf8_lines_round_trips_and_rejects_bad_files() -> None:
    blob = np.frombuffer("\n".join(WORDS).encode("utf-8"), dtype=np.uint8)
    assert Vocabulary.from_utf8_lines(blob, len(WORDS)) == WORDS
    with pytest.raises(ValueError, match="lines"):
        Vocabulary.from_utf8_lines(blob, len(WORDS) + 1)
    with pytest.raises(ValueError, match="not valid UTF-8 \\(line 1"):
        Vocabulary.from_utf8_lines(np.array([0x61, 0xFF, 0x0A, 0x62], np.uint8), 2)
    with pytest.raises(ValueError, match="not valid UTF-8 \\(line 3"):  # which line, for a fix
        Vocabulary.from_utf8_lines(np.array([0x61, 0x0A, 0x62, 0x0A, 0xC3, 0x28], np.uint8), 3)


def test_default_vectors_keep_a_compact_vocabulary(glove) -> None:
    assert isinstance(glove.index_to_key, Vocabulary)
    assert glove.index_to_key[:3] == ["the", ",", "."]
    assert glove.key_to_index["king"] == glove.index_to_key.index("king")
    row = glove.key_to_index["king"]
    assert "king" in glove and np.array_equal(glove["king"], glove.vectors[row])


def brute_force_neighbours(kv, vector, k, exclude=()):
    vectors = np.asarray(kv.vectors, dtype=np.float64)
    lengths = np.linalg.norm(vectors, axis=1)
    cosines = vectors @ vector / np.where(lengths == 0, 1, lengths) / np.linalg.norm(vector)
    order = [i for i in np.argsort(-cosines, kind="stable") if kv.index_to_key[i] not in exclude]
    return [(kv.index_to_key[i], cosines[i]) for i in order[:k]]


def test_neighbours_divide_by_the_row_lengths_exactly(glove) -> None:
    for word in ("king", "water", "running"):
        ours = nearest_neighbours(glove, glove[word], k=8, exclude=[word])
        expected = brute_force_neighbours(glove, glove[word].astype(np.float64), 8, {word})
        assert [w for w, _ in ours] == [w for w, _ in expected]
        np.testing.assert_allclose([c for _, c in ours], [c for _, c in expected], atol=1e-5)


def test_neighbours_of_zero_and_huge_rows_stay_finite() -> None:
    from core.vectors.load import _make_keyed_vectors

    rows = np.array([[1, 0], [0, 0], [3e38, 3e38], [1e-30, 1e-30], [-1, 0]], dtype=np.float32)
    kv = _make_keyed_vectors(["x", "zero", "huge", "tiny", "minus"], rows, "t", None, [])
    found = dict(nearest_neighbours(kv, [1.0, 1.0], k=5))
    assert all(np.isfinite(c) for c in found.values())
    assert found["zero"] == 0.0  # no direction: cosine 0, not NaN
    np.testing.assert_allclose([found["huge"], found["tiny"]], [1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose([found["x"], found["minus"]], [2**-0.5, -(2**-0.5)], atol=1e-6)


def test_completer_index_is_sorted_lazily_and_still_completes(glove) -> None:
    from explorer.loader import VocabularyIndex

    index = VocabularyIndex(glove.index_to_key)
    assert index._order is None  # nothing sorted until asked: the first views come first
    assert index.complete("wat", 5) == ["water", "watch", "watching", "waters", "watched"]
    index.prepare()  # already sorted: nothing to do
    small = VocabularyIndex(["Paris", "park", "the", "PARTY", "pa"])
    small.prepare()
    assert small.complete("PAR", 10) == ["Paris", "park", "PARTY"]  # any case, file order
    assert small.complete("  ") == [] and small.complete("q") == []
    accents = VocabularyIndex(["École", "écrit", "ECU", "a\nb", "A\nB"])  # Unicode lower case
    assert accents.complete("éc") == ["École", "écrit"]
    assert accents.complete("a\n") == ["a\nb", "A\nB"]  # line breaks: lowered word by word


# --------------------------------------------------------------------------- gensim-free default


def test_default_word_vectors_read_like_the_keyed_vectors(glove) -> None:
    from core.vectors.load import DEFAULT_VECTORS_NAME, open_default_vectors

    table = open_default_vectors()
    assert table is open_default_vectors() and table.vectors is glove.vectors
    assert table.index_to_key is glove.index_to_key  # shared, not copied
    assert len(table) == len(glove) and table.vector_size == glove.vector_size == 50
    assert (table.source_name, table.source_path) == (DEFAULT_VECTORS_NAME, None)
    for word in ("the", "king", "東京", "nosuchwordxyz"):
        assert (word in table) == (word in glove)
    assert table.get_index(7) == glove.get_index(7) == 7
    np.testing.assert_array_equal(table["cat"], glove["cat"])
    np.testing.assert_array_equal(table[["cat", "dog"]], glove[["cat", "dog"]])
    np.testing.assert_allclose(table.get_vector("cat", norm=True),
                               glove.get_vector("cat", norm=True), rtol=1e-6)
    with pytest.raises(KeyError):
        table["nosuchwordxyz"]


def test_the_window_pipeline_on_the_default_set_gives_the_same_result_without_gensim(
        glove) -> None:
    from core.pipeline import Pipeline
    from core.settings import Settings
    from core.vectors.load import open_default_vectors

    ours = Pipeline(open_default_vectors()).run(Settings())
    theirs = Pipeline(glove).run(Settings())
    np.testing.assert_array_equal(ours.weights, theirs.weights)
    assert ours.coords.neighbours == theirs.coords.neighbours and ours.coords.neighbours


def test_opening_the_default_set_for_the_window_never_imports_gensim_nor_pyarrow_again(
        tmp_path) -> None:
    """gensim (with SciPy) costs ~1 s; pyarrow ~70 MB: only the very first start reads the
    Parquet word list, later ones find the words in the vector cache."""
    import subprocess
    import sys

    code = ("import sys; from core.vectors.load import open_default_vectors; "
            "from core.pipeline import Pipeline; from core.settings import Settings; "
            "from explorer.loader import VocabularyIndex; "
            "table = open_default_vectors(sys.argv[1]); Pipeline(table).run(Settings()); "
            "assert VocabularyIndex(table.index_to_key).complete('kin', 2) == ['king', 'kind']; "
            "print(sorted(m for m in ('gensim', 'scipy', 'pyarrow') if m in sys.modules))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def start() -> str:
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                             text=True, check=True, timeout=120, cwd=root)
        return out.stdout.strip()

    assert start() == "['pyarrow']"  # the first start: words from the package's Parquet file
    assert start() == "[]"  # every later one: from the cache
    cached = list(tmp_path.glob("*.vocab.txt"))
    assert len(cached) == 1
    cached[0].write_bytes(b"the\nbroken")  # a damaged entry is read again from the Parquet
    assert start() == "['pyarrow']"
    assert start() == "[]"


def test_keyed_vectors_with_a_compact_vocabulary_save_and_load(tmp_path) -> None:
    from gensim.models import KeyedVectors

    from core.vectors.load import _make_keyed_vectors

    kv = _make_keyed_vectors(WORDS, np.eye(len(WORDS), 3, dtype=np.float32), "t", None, [])
    kv.key_to_index.prepare()  # sorted or not, it pickles
    kv.save(str(tmp_path / "v.kv"))
    again = KeyedVectors.load(str(tmp_path / "v.kv"))
    assert again.index_to_key == WORDS and again.key_to_index == first_index(WORDS)
    np.testing.assert_array_equal(again["cat"], kv["cat"])
    kv.save_word2vec_format(str(tmp_path / "v.txt"))
    assert (tmp_path / "v.txt").read_text(encoding="utf-8").splitlines()[2].startswith("cat ")


def test_a_vocabulary_cache_that_cannot_be_written_or_read_is_only_a_miss(tmp_path) -> None:
    from core.vectors import cache as vector_cache

    source = tmp_path / "words.parquet"
    source.write_bytes(b"stands for a word list in a format the cache does not parse")
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("x")
    problem = vector_cache.save_vocabulary(str(source), str(blocked), Vocabulary(WORDS[:5]))
    assert problem and str(blocked) in problem
    assert vector_cache.load_vocabulary(str(source), 5, str(blocked)) is None
    assert vector_cache.save_vocabulary(str(source), str(tmp_path), Vocabulary(["a\nb"]))
    assert vector_cache.save_vocabulary(str(source), str(tmp_path), Vocabulary(WORDS[:5])) is None
    assert vector_cache.load_vocabulary(str(source), 5, str(tmp_path)) == WORDS[:5]
    assert vector_cache.load_vocabulary(str(source), 6, str(tmp_path)) is None  # not the count
    source.write_bytes(b"edited since")  # another size: the entry is not this file's any more
    assert vector_cache.load_vocabulary(str(source), 5, str(tmp_path)) is None
