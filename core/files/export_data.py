"""Everything an :class:`~core.pipeline.Analysis` shows, written out as JSON, CSV or NPZ.

Three formats for three uses:

- JSON: one self-describing document (settings, tokens, weights, outputs, 2D map) for scripts
  and notebooks; arrays are nested lists, masked ``-inf`` logits become ``null``.
- CSV: attention weights in long form (one row per head, query and key), ready for a spreadsheet
  or ``pandas.read_csv``; the head-average rows are marked ``head = mean``.
- NPZ: every array at full precision, labels as Unicode arrays, readable with
  ``np.load(path, allow_pickle=False)``; the ``w_q``/``w_k``/``w_v``/``w_o`` arrays make it a
  valid heads file for the ``file`` head strategy.

Indices (head, query_index, key_index) are 0-based, like the arrays. Every write is atomic, and
none is made when a number is not finite or text is not UTF-8 (:mod:`core.files.export_checks`:
the first refuses the export, the second writes U+FFFD and says where).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from core.files.atomic import ExportError, write_atomically
from core.files.export_checks import require_finite, surrogate_warning, without_surrogates

if TYPE_CHECKING:
    from core.pipeline import Analysis
    from core.transformer.analysis import ModelAnalysis

FORMAT_NAME = "attention-explorer-analysis"
FORMAT_VERSION = 1
DATA_SUFFIXES = (".json", ".csv", ".npz")
CSV_COLUMNS = ("head", "query_index", "query", "key_index", "key", "weight")
MODEL_CSV_COLUMNS = ("layer", *CSV_COLUMNS)  # a trained model's: which layer the weights are of
MEAN_HEAD = "mean"


# ----------------------------------------------------------------------------- JSON


def analysis_to_dict(analysis: Analysis) -> dict[str, Any]:
    """A JSON-ready dict of everything the views show for ``analysis``.

    Returns
    -------
    dict
        Keys: format, version, settings, vectors {name, dimension}, tokens (used tokens),
        all_tokens (every token typed, with how it got a vector), query {text, position,
        vector}, query_row, row_labels, col_labels, heads {n_heads, d_k, d_v, strategy, note},
        weights (h x r x n), mean_weights (r x n), scores, logits, output (r x d),
        head_outputs (h x r x d_v), coords {tokens, query, head_mixes, output, neighbours,
        axis_labels}, warnings. Non-finite numbers (masked logits) are ``None``.
    """
    a, result, heads = analysis, analysis.result, analysis.heads
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "settings": a.settings.to_dict(),
        "vectors": {"name": a.vectors_name, "dimension": int(a.sentence.vectors.shape[1])},
        "tokens": list(a.sentence.labels),
        "all_tokens": [
            {"text": t.text, "key": t.key, "source": t.source, "used": t.used}
            for t in a.sentence.tokens
        ],
        "query": {
            "text": a.query.text,
            "position": a.query.position,
            "vector": _plain(a.query.vector),
        },
        "query_row": int(a.query_row),
        "row_labels": list(a.row_labels),
        "col_labels": list(a.col_labels),
        "heads": {
            "n_heads": int(heads.n_heads),
            "d_k": int(heads.d_k),
            "d_v": int(heads.d_v),
            "strategy": heads.strategy,
            "note": heads.note,
        },
        "weights": _plain(result.weights),
        "mean_weights": _plain(a.mean_weights),
        "scores": _plain(result.scores),
        "logits": _plain(result.logits),
        "output": _plain(result.output),
        "head_outputs": _plain(result.head_outputs),
        "coords": _coords_dict(a),
        "warnings": list(a.warnings),
        **_model_dict(a),
    }


JSON_ATTENTION_LIMIT = 4_000_000
"""Attention values written into JSON at most (about 70 MB of text); the NPZ has every one."""


def _model_dict(analysis: Analysis) -> dict[str, Any]:
    """A trained model's part: every layer's attention over every token (special ones too)."""
    m = analysis.model
    if m is None:
        return {}
    run, c = m.run, m.config
    attentions = run.attentions  # (L, H, n, n)
    note = None
    if attentions.size > JSON_ATTENTION_LIMIT:
        note = (f"{attentions.size:,} attention values are too many for JSON; the .npz export "
                "carries them (model_attentions)")
    return {
        "attentions": None if note else _plain(attentions),
        "model": {
            "name": c.name, "architecture": c.architecture, "n_layers": c.n_layers,
            "n_heads": c.n_heads, "d_model": c.d_model, "d_k": c.d_k, "layer": m.layer,
            "tokens": run.tokens, "token_texts": list(run.token_texts),
            "input_ids": run.input_ids.tolist(), "special": run.special.tolist(),
            "shown": m.shown.tolist(), "truncated": run.truncated,
            "attentions_shape": list(attentions.shape), "attentions_note": note,
            "hidden_share": None if m.hidden_share is None else _plain(m.hidden_share),
            "head_shift": None if m.head_shift is None else _plain(m.head_shift),
            "embedding_cosine": m.embedding_cosine,
            "indices": "layers, heads and tokens count from 0 in this file; the screen counts "
                       "layers and heads from 1",
        },
    }


def _coords_dict(analysis: Analysis) -> dict[str, Any]:
    c = analysis.coords
    return {
        "tokens": _plain(c.tokens),
        "query": _plain(c.query),
        "head_mixes": _plain(c.head_mixes),
        "output": _plain(c.output),
        "neighbours": [
            {"word": word, "x": _finite(x), "y": _finite(y), "near": kind}
            for word, x, y, kind in c.neighbours
        ],
        "axis_labels": list(c.axis_labels),
    }


def _plain(array: np.ndarray) -> Any:
    """Nested lists of Python floats; NaN and +-inf become None (strict JSON has no infinity)."""
    values = np.asarray(array, dtype=np.float64)
    if np.isfinite(values).all():
        return values.tolist()
    as_objects = values.astype(object)
    as_objects[~np.isfinite(values)] = None
    return as_objects.tolist()


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def export_json(analysis: Analysis, path: str | os.PathLike[str]) -> list[str]:
    """Write :func:`analysis_to_dict` as indented UTF-8 JSON (atomically).

    Returns the warnings the writing added (text that was not UTF-8); ExportError, with nothing
    written, when a number is not finite.
    """
    require_finite(analysis_numbers(analysis), path)
    data, fields = without_surrogates(analysis_to_dict(analysis))
    added = [surrogate_warning(fields)] if fields else []
    data["warnings"] += added
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False)
    write_atomically(path, text + "\n")
    return added


def analysis_numbers(analysis: Analysis) -> dict[str, Any]:
    """Every number the JSON and NPZ files carry, by name (arrays and a few floats), for the
    finiteness check (:func:`core.files.export_checks.require_finite`)."""
    numbers: dict[str, Any] = dict(analysis_arrays(analysis))
    m = analysis.model
    if m is not None:
        numbers |= {"model_hidden_share": m.hidden_share, "model_head_shift": m.head_shift,
                    "model_embedding_cosine": m.embedding_cosine}
    return {name: value for name, value in numbers.items() if value is not None}


def load_json_weights(path: str | os.PathLike[str]) -> np.ndarray:
    """The (h, r, n) weights array of a JSON file written by :func:`export_json`.

    Raises
    ------
    ExportError
        The file cannot be read, is not JSON, or is not an analysis export.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ExportError(f"Cannot read {path}: {error}") from error
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME or "weights" not in data:
        raise ExportError(f"{path} is not an Attention Explorer analysis export.")
    return np.array(data["weights"], dtype=np.float64)


# ----------------------------------------------------------------------------- CSV


def weights_table(analysis: Analysis, *, include_mean: bool = True) -> list[tuple[Any, ...]]:
    """The long-form weight rows (see :data:`CSV_COLUMNS`), heads first, then the mean; with a
    trained model each row starts with the layer shown (:data:`MODEL_CSV_COLUMNS`, from 0 like
    the JSON's ``model.layer``).

    The mean rows have ``head == "mean"`` so a filter on integer heads drops them.
    """
    weights = analysis.weights  # (h, r, n)
    blocks: list[tuple[Any, np.ndarray]] = [(h, weights[h]) for h in range(weights.shape[0])]
    if include_mean:
        blocks.append((MEAN_HEAD, analysis.mean_weights))
    rows: list[tuple[Any, ...]] = []
    for head, matrix in blocks:  # matrix: (r, n)
        for q, query in enumerate(analysis.row_labels):
            for k, key in enumerate(analysis.col_labels):
                rows.append((head, q, query, k, key, float(matrix[q, k])))
    if analysis.model is not None:
        return [(analysis.model.layer, *row) for row in rows]
    return rows


def export_csv(
    analysis: Analysis, path: str | os.PathLike[str], *, include_mean: bool = True
) -> list[str]:
    """Write the attention weights in long form: head,query_index,query,key_index,key,weight
    (a trained model's with a first column, layer).

    Returns the warnings the writing added (token text that was not UTF-8).
    """
    require_finite({"weights": analysis.weights, "mean_weights": analysis.mean_weights}, path)
    rows, fields = without_surrogates(weights_table(analysis, include_mean=include_mean))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS if analysis.model is None else MODEL_CSV_COLUMNS)
    # repr-precision floats: the CSV must round-trip the weights, not round them to 6 digits
    writer.writerows(rows)
    write_atomically(path, buffer.getvalue())
    return [surrogate_warning(["query", "key"])] if fields else []


# ----------------------------------------------------------------------------- NPZ


def analysis_arrays(analysis: Analysis) -> dict[str, np.ndarray]:
    """Every array of ``analysis`` by name; labels as Unicode arrays (no object arrays)."""
    a = analysis
    arrays = _result_arrays(a) | _label_arrays(a)
    if a.model is not None:
        arrays |= _model_arrays(a.model)
    arrays["settings_json"] = np.array(a.settings.to_json())  # 0-d Unicode
    arrays["vectors_name"] = np.array(a.vectors_name)
    arrays["heads_note"] = np.array(a.heads.note)
    return {name: np.asarray(value) for name, value in arrays.items()}


def _result_arrays(a: Analysis) -> dict[str, np.ndarray]:
    """The attention's arrays, the inputs, the head matrices and the 2D map."""
    r, c = a.result, a.coords
    return {
        "weights": r.weights,  # (h, r, n)
        "mean_weights": a.mean_weights,  # (r, n)
        "scores": r.scores,
        "logits": r.logits,
        "output": r.output,  # (r, d)
        "head_outputs": r.head_outputs,  # (h, r, d_v)
        "concat": r.concat,
        "queries": r.queries,
        "keys": r.keys,
        "values": r.values,
        "empty_rows": r.empty_rows,
        "token_vectors": a.sentence.vectors,  # (n, d)
        "query_vector": a.query.vector,  # (d,)
        "query_row": np.array(a.query_row),
        "w_q": a.heads.w_q,
        "w_k": a.heads.w_k,
        "w_v": a.heads.w_v,
        "w_o": a.heads.w_o,
        "coords_tokens": c.tokens,  # (n, 2)
        "coords_query": c.query,  # (2,)
        "coords_head_mixes": c.head_mixes,  # (h, 2)
        "coords_output": c.output,  # (2,)
        "neighbour_xy": np.array([(x, y) for _, x, y, _ in c.neighbours], float).reshape(-1, 2),
    }


def _label_arrays(a: Analysis) -> dict[str, np.ndarray]:
    """Token, row, column, neighbour and axis names and the warnings, as Unicode arrays."""
    c = a.coords
    labels = {
        "tokens": a.sentence.labels,
        "row_labels": a.row_labels,
        "col_labels": a.col_labels,
        "neighbour_words": [n[0] for n in c.neighbours],
        "neighbour_kinds": [n[3] for n in c.neighbours],
        "axis_labels": list(c.axis_labels),
        "warnings": list(a.warnings),
    }
    return {name: _unicode(words) for name, words in labels.items()}


def _model_arrays(model: ModelAnalysis) -> dict[str, np.ndarray]:
    """A trained model's run: every layer's attention, hidden states and per-head Q, K, V."""
    run = model.run
    return dict(model_attentions=run.attentions,  # (L, H, n, n)
                model_hidden_states=run.hidden_states,  # (L + 1, n, d)
                model_queries=run.queries, model_keys=run.keys,  # (L, H, n, d_k)
                model_values=run.values, model_input_ids=run.input_ids,
                model_special=run.special, model_tokens=_unicode(run.tokens),
                model_layer=np.array(model.layer))


def _unicode(words: list[str]) -> np.ndarray:
    # An explicit "<U" dtype even for an empty list: np.array([]) would be float64.
    width = max((len(w) for w in words), default=1)
    return np.array(words, dtype=f"<U{max(width, 1)}")


def export_npz(analysis: Analysis, path: str | os.PathLike[str]) -> list[str]:
    """Write every array (see :func:`analysis_arrays`) as a compressed ``.npz`` (atomically).

    NumPy's Unicode arrays hold any code point, so text is kept as it is: no warnings added.
    """
    require_finite(analysis_numbers(analysis), path)
    arrays = analysis_arrays(analysis)

    def write(stream: BinaryIO) -> None:
        np.savez_compressed(stream, allow_pickle=False, **arrays)

    write_atomically(path, write)
    return []


# ----------------------------------------------------------------------------- dispatch


def export_data(analysis: Analysis, path: str | os.PathLike[str]) -> list[str]:
    """Write ``analysis`` in the format named by the suffix of ``path`` (.json, .csv, .npz).

    Returns
    -------
    list of str
        Warnings the writing itself added (input text that was not UTF-8, written as U+FFFD).

    Raises
    ------
    ExportError
        An unknown suffix (the message lists the valid ones), a number that is not finite (the
        message names the arrays; nothing is written) or a failed write.
    """
    suffix = Path(path).suffix.lower()
    writers = {".json": export_json, ".csv": export_csv, ".npz": export_npz}
    if suffix not in writers:
        valid = ", ".join(DATA_SUFFIXES)
        raise ExportError(
            f"Cannot export data to {path}: unknown file type {suffix or '(no suffix)'!r}; "
            f"use one of {valid}."
        )
    return writers[suffix](analysis, path)
