"""Shared fixtures: a tiny in-memory vector table, the real default vectors, offscreen Qt."""

from __future__ import annotations

import os

# Before anything imports Qt or pyqtgraph (PITFALLS 3): headless, and PySide6 not PyQt6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import numpy as np
import pytest

TINY_WORDS = (
    "the animal was not swimming in sea because it running on street . , cat sat mat "
    "i eat drink salmon steak red-wine water white-wine mix with fine a wine food land"
).split()
TINY_DIM = 8


def make_tiny_vectors(dim: int = TINY_DIM, seed: int = 7):
    """A small lower-case KeyedVectors with reproducible float32 vectors."""
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(seed)
    kv = KeyedVectors(dim)
    kv.add_vectors(list(TINY_WORDS), rng.standard_normal((len(TINY_WORDS), dim)).astype(np.float32))
    kv.source_name = "tiny test vectors"
    kv.source_path = None
    kv.load_warnings = []
    return kv


@pytest.fixture
def tiny_kv():
    """A fresh tiny vector table (the tests may not share mutations)."""
    return make_tiny_vectors()


@pytest.fixture(scope="session")
def glove():
    """The bundled GloVe 6B 50d vectors (memory-mapped, loaded once per test run)."""
    from core.embeddings import load_default_vectors

    return load_default_vectors()
